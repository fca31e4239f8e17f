"""The URL map of the server extension: every route under ``<base_url>jupyter-deploy/``.

Path parts are percent-decoded by Tornado after matching, so a registry address
(``127.0.0.1%3A5000``) and a repository with slashes (``models%2Firis``) fit in one segment;
repositories also match with literal slashes. A service's name is a ``ref`` like a container's.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.utils import url_path_join

from jupyter_deploy.serverext import base_images, handlers
from jupyter_deploy.serverext.manager import DeployManager

ROOT = "jupyter-deploy"

ROUTES: list[tuple[str, type[handlers.DeployHandler]]] = [
    (r"settings", handlers.SettingsHandler),
    (r"registries", handlers.RegistriesHandler),
    (r"registries/(?P<address>[^/]+)/repositories", handlers.RepositoriesHandler),
    (r"registries/(?P<address>[^/]+)/repositories/(?P<repository>.+)/tags", handlers.TagsHandler),
    (r"images", handlers.ImagesHandler),
    (r"images/pull", handlers.PullHandler),
    (r"images/pulls", handlers.PullsHandler),
    (r"images/pulls/(?P<job>[0-9]+)", handlers.PullJobHandler),
    (r"containers", handlers.ContainersHandler),
    (r"containers/(?P<ref>[^/]+)", handlers.ContainerHandler),
    (r"containers/(?P<ref>[^/]+)/logs", handlers.LogsHandler),
    (r"containers/(?P<ref>[^/]+)/stats", handlers.StatsHandler),
    (r"containers/(?P<ref>[^/]+)/(?P<action>stop|remove|restart)", handlers.ActionHandler),
    (r"services", handlers.ServicesHandler),
    (r"services/(?P<ref>[^/]+)/scale", handlers.ScaleHandler),
    (r"services/(?P<ref>[^/]+)/keys", handlers.KeysHandler),
    (r"base-images", base_images.BaseImagesHandler),
    (r"base-images/(?P<ref>[^/]+)/build", base_images.BaseImageBuildHandler),
]


def setup_routes(web_app: Any, manager: DeployManager) -> None:
    """Add every route to ``web_app`` and hand the handlers their manager."""
    base_url = web_app.settings["base_url"]
    web_app.settings["jupyter_deploy_manager"] = manager
    web_app.add_handlers(
        ".*$", [(url_path_join(base_url, ROOT, path) + "/?$", handler) for path, handler in ROUTES]
    )
