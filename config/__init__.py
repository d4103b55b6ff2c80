"""carewatch configuration: the YAML files in this folder and the code that validates them.

``load_config(dir)`` is the only code that reads YAML; ``config.environment`` declares the ``CAREWATCH_*``
variables that override it, and their precedence.
"""

from carewatch.config.environment import find_config_dir
from carewatch.config.load import load_config
from carewatch.config.schema import Config

__all__ = ["Config", "load_config", "find_config_dir"]
