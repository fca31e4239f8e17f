"""What several sub-commands share: which workspace a command works in."""

from __future__ import annotations

import argparse
from pathlib import Path

from jupyter_deploy.services.workspace import Workspace


def add_workspace_option(parser: argparse.ArgumentParser) -> None:
    """``-w/--workspace``: which workspace's models and registry a command uses."""
    parser.add_argument("-w", "--workspace", help="workspace folder or config.json "
                        "(default: config.json here or above, else the default workspace)")


def workspace_of(args: argparse.Namespace) -> Workspace:
    """The workspace ``-w`` names, else ``config.json`` here or above, else the default one."""
    path = Path(args.workspace) if getattr(args, "workspace", None) else None
    if path is None or path.is_file() or (path / "config.json").is_file():
        return Workspace.from_config(path)
    return Workspace(path)
