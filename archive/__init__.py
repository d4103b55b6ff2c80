"""The archive in Datasette: the plugin (plugins/carewatch_archive.py), templates and stylesheet
that ``carewatch serve`` (cli/serve.py) runs Datasette with. See docs/archive.md."""
