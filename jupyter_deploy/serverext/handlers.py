"""Tornado handlers for ``/jupyter-deploy/…``: authenticate, call the manager, answer JSON.

Each handler is a few lines; the one translator (:meth:`DeployHandler.answer`) runs the blocking
core call on a worker thread and turns any :class:`~jupyter_deploy.errors.DeployError` into
``{"message": …}`` with the error's own ``http_status`` — so an unknown container is a 404, an
unreachable engine a 503 that says how to start it, and nothing we expected becomes a 500.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from jupyter_server.base.handlers import APIHandler
from tornado import web
from tornado.ioloop import IOLoop

from jupyter_deploy.errors import ConfigurationError, DeployError
from jupyter_deploy.serverext.manager import DeployManager


class DeployHandler(APIHandler):
    """Base of every endpoint: JSON in, JSON out, errors translated once."""

    @property
    def manager(self) -> DeployManager:
        """The manager the extension registered."""
        manager: DeployManager = self.settings["jupyter_deploy_manager"]
        return manager

    async def answer(self, call: Callable[..., Any], *args: Any, status: int = 200) -> None:
        """Run ``call(*args)`` off the event loop and write its result (or its error) as JSON."""
        try:
            result = await IOLoop.current().run_in_executor(None, functools.partial(call, *args))
        except DeployError as e:
            self.set_status(e.http_status)
            self.finish(json.dumps({"message": e.message, "error": type(e).__name__}))
            return
        self.set_status(status)
        self.finish(json.dumps(result))

    def json_body(self) -> dict[str, Any]:
        """The request body as a JSON object.

        Raises:
            ConfigurationError: the body is not a JSON object.
        """
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError as e:
            raise ConfigurationError("the request body is not JSON: send a JSON object.") from e
        if not isinstance(body, dict):
            raise ConfigurationError("the request body must be a JSON object.")
        return body

    def int_argument(self, name: str, default: int) -> int:
        """A query argument as an int (``default`` when absent or malformed)."""
        try:
            return int(self.get_argument(name, str(default)))
        except ValueError:
            return default


class SettingsHandler(DeployHandler):
    """``GET settings``: versions and reachability, so the panel can say what is wrong."""

    @web.authenticated
    async def get(self) -> None:
        await self.answer(self.manager.settings)


class RegistriesHandler(DeployHandler):
    """``GET registries``."""

    @web.authenticated
    async def get(self) -> None:
        await self.answer(self.manager.registries)


class RepositoriesHandler(DeployHandler):
    """``GET registries/<address>/repositories?filter=&offset=&limit=``."""

    @web.authenticated
    async def get(self, address: str) -> None:
        await self.answer(self.manager.repositories, address, self.get_argument("filter", ""),
                          self.int_argument("offset", 0), self.int_argument("limit", 0))


class TagsHandler(DeployHandler):
    """``GET registries/<address>/repositories/<repository>/tags``."""

    @web.authenticated
    async def get(self, address: str, repository: str) -> None:
        await self.answer(self.manager.tags, address, repository)


class ImagesHandler(DeployHandler):
    """``GET images``: the engine's local images."""

    @web.authenticated
    async def get(self) -> None:
        await self.answer(self.manager.images)


class PullHandler(DeployHandler):
    """``POST images/pull`` with ``{"reference": "registry/repository:tag"}``."""

    @web.authenticated
    async def post(self) -> None:
        body = self.json_body
        await self.answer(lambda: self.manager.pull(str(body().get("reference", ""))))


class PullsHandler(DeployHandler):
    """``POST images/pulls`` with ``{"reference": …}``: start a pull; answers 202 and its job."""

    @web.authenticated
    async def post(self) -> None:
        body = self.json_body
        await self.answer(lambda: self.manager.start_pull(str(body().get("reference", ""))),
                          status=202)


class PullJobHandler(DeployHandler):
    """``GET images/pulls/<id>``: progress; ``DELETE``: cancel."""

    @web.authenticated
    async def get(self, job: str) -> None:
        await self.answer(self.manager.pull_job, job)

    @web.authenticated
    async def delete(self, job: str) -> None:
        await self.answer(self.manager.cancel_pull, job)


class ContainersHandler(DeployHandler):
    """``GET containers``."""

    @web.authenticated
    async def get(self) -> None:
        await self.answer(self.manager.containers)


class ContainerHandler(DeployHandler):
    """``GET containers/<id>``."""

    @web.authenticated
    async def get(self, ref: str) -> None:
        await self.answer(self.manager.container, ref)


class LogsHandler(DeployHandler):
    """``GET containers/<id>/logs?lines=200``: the log tail as ``{"logs": text}``."""

    @web.authenticated
    async def get(self, ref: str) -> None:
        lines = self.int_argument("lines", 200)
        await self.answer(self.manager.logs, ref, lines)


class StatsHandler(DeployHandler):
    """``GET containers/<id>/stats``: memory and CPU of one container."""

    @web.authenticated
    async def get(self, ref: str) -> None:
        await self.answer(self.manager.stats, ref)


class ActionHandler(DeployHandler):
    """``POST containers/<id>/{stop,remove,restart}``, body ``{"not_ours": true}`` to act on a
    container this project did not make (refused with 409 otherwise)."""

    @web.authenticated
    async def post(self, ref: str, action: str) -> None:
        body = self.json_body
        await self.answer(lambda: self.manager.act(ref, action, body().get("not_ours") is True))


class ServicesHandler(DeployHandler):
    """``GET services``: every service with its target, state, replicas and whether it asks for
    a key."""

    @web.authenticated
    async def get(self) -> None:
        await self.answer(self.manager.services)


class ScaleHandler(DeployHandler):
    """``POST services/<name>/scale`` with ``{"replicas": n}``."""

    @web.authenticated
    async def post(self, ref: str) -> None:
        body = self.json_body
        await self.answer(lambda: self.manager.scale(ref, body().get("replicas")))


class KeysHandler(DeployHandler):
    """``GET services/<name>/keys``: the one route that answers keys (Jupyter's token guards
    it, like every route); a service without keys is a 400 that says so."""

    @web.authenticated
    async def get(self, ref: str) -> None:
        self.set_header("Cache-Control", "no-store")
        await self.answer(self.manager.keys, ref)
