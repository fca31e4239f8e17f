"""The Jupyter server extension behind the JupyterLab sidebar.

Kept in its own sub-package so that importing :mod:`jupyter_deploy` never imports Tornado or
Jupyter Server: only a Jupyter server that enables the extension loads this code. The handlers
are thin; what they answer comes from :class:`~jupyter_deploy.serverext.manager.DeployManager`,
which calls the same core functions as the magics and the CLI.
"""

from __future__ import annotations

from typing import Any


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Register the ``/jupyter-deploy/…`` routes on the running server."""
    from jupyter_deploy.config import load_config
    from jupyter_deploy.serverext.manager import DeployManager
    from jupyter_deploy.serverext.routes import setup_routes
    from jupyter_deploy.spec.environment import RegistryCredentials

    config = load_config(server_app.config)  # c.DeployConfig.* in the server's config
    registries = [RegistryCredentials(address) for address in config.sidebar_registries]
    setup_routes(server_app.web_app, DeployManager(registries, ttl=config.listing_cache_seconds))
    server_app.log.info("jupyter_deploy server extension loaded: /jupyter-deploy/")
