"""Settings shared by every front end, and the folders the project keeps state in.

One traitlets ``Configurable`` (``DeployConfig``) so that ``%config DeployConfig.…`` in a
notebook and ``c.DeployConfig.…`` in a Jupyter server config (the sidebar's settings included)
set the same values. The core reads
settings only through :func:`get_config`, never from IPython or Tornado.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from traitlets import Float, Int, List, Unicode
from traitlets.config import Configurable

#: Label namespace for everything this project creates in the engine.
LABEL_PREFIX = "jupyter_deploy"
LABEL_MANAGED = f"{LABEL_PREFIX}.managed"


class DeployConfig(Configurable):
    """Defaults for building, running and scoring; every trait is user-settable."""

    default_base_image = Unicode(
        "jupyter-deploy/python:3.11",
        help="Base image used when an environment names none (must contain python3).",
    ).tag(config=True)
    registry_address = Unicode(
        "127.0.0.1:5000",
        help="host:port of the workspace's own local registry (started on demand).",
    ).tag(config=True)
    host_interface = Unicode(
        "127.0.0.1",
        help="Host address that service ports are published on. Keep it on loopback.",
    ).tag(config=True)
    image_python_version = Unicode(
        "3.11", help="Python version of base images, used to pick wheels on the host."
    ).tag(config=True)
    ready_timeout = Float(
        120.0, help="Seconds to wait for a new service to answer before giving up."
    ).tag(config=True)
    scoring_timeout = Float(60.0, help="Seconds one scoring request may take.").tag(config=True)
    log_tail = Int(40, help="Lines of container log attached to errors.").tag(config=True)
    sidebar_registries = List(
        Unicode(),
        default_value=[],
        help="host:port of each registry the JupyterLab sidebar lists; empty means the workspace "
        "registry (registry_address). Logins come from `docker login`, never from this file.",
    ).tag(config=True)
    listing_cache_seconds = Float(
        5.0, help="Seconds the sidebar reuses a registry or image listing before asking again."
    ).tag(config=True)


_config: DeployConfig | None = None


def get_config() -> DeployConfig:
    """The process-wide configuration (front ends may replace traits on it)."""
    global _config
    if _config is None:
        _config = DeployConfig()
    return _config


def load_config(config: Any) -> DeployConfig:
    """Apply a traitlets ``Config`` (e.g. a Jupyter server's ``c.DeployConfig.…``) process-wide."""
    get_config().update_config(config)
    return get_config()


def data_dir() -> Path:
    """Where lasting state lives (registry storage, workspace default): not a cache."""
    root = os.environ.get("JUPYTER_DEPLOY_HOME")
    path = Path(root) if root else Path.home() / ".local" / "share" / "jupyter-deploy"
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Where re-creatable downloads live (wheels, the offline base image's root file system)."""
    root = os.environ.get("XDG_CACHE_HOME")
    path = (Path(root) if root else Path.home() / ".cache") / "jupyter-deploy"
    path.mkdir(parents=True, exist_ok=True)
    return path
