"""Datasette's door to carewatch's plugin. ``carewatch serve`` (archive/serve.py) runs Datasette with
``--plugins-dir archive/plugins``, and Datasette registers the hook implementations it finds in each
module of that folder, which it loads by file path. The plugin itself is the package
carewatch.archive.plugin, imported like the rest of carewatch (so it may use the service layer);
this file only brings its hooks into the one module Datasette loads. (A ``datasette`` entry point
would need no such file, but would load the plugin into every Datasette of the environment.)"""

from carewatch.archive.plugin.hooks import *  # noqa: F403 - the hooks, for Datasette to register
