"""The ``jupyter-deploy`` command: one sub-command module per noun, over the same core calls."""

from jupyter_deploy.cli.main import main

__all__ = ["main"]
