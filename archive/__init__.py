"""The archive in Datasette: the plugin (plugin/, loaded through plugins/carewatch_archive.py),
templates and stylesheet that ``carewatch serve`` runs Datasette with (serve.py). See docs/archive.md."""
