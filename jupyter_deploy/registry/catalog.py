"""The summary front ends poll: what the registries hold, and what the local engine has.

The JupyterLab sidebar refreshes every few seconds, so this layer is built for that: one
:class:`~jupyter_deploy.registry.client.RegistryClient` (connection pool, token cache) per registry
kept between calls, manifest details fetched concurrently with a bound, answers cached for ``ttl``
seconds, and a registry that is down reported as such in :meth:`Catalog.registries` instead of
hiding the others. Rows are plain JSON-ready dicts so REST handlers can return them as they are.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from jupyter_deploy.config import get_config
from jupyter_deploy.engine.client import docker_client, translate_docker_errors
from jupyter_deploy.errors import RegistryError, RegistryNotFoundError
from jupyter_deploy.registry.auth import resolve_credentials
from jupyter_deploy.registry.client import RegistryClient
from jupyter_deploy.spec.environment import RegistryCredentials

T = TypeVar("T")

#: Manifest requests in flight at once per registry.
MAX_CONCURRENT_FETCHES = 8


class Catalog:
    """Registries and local images, summarised and briefly cached.

    Args:
        registries: the registries to show, with their logins; None means just the workspace
            registry (``DeployConfig.registry_address``), with credentials from Docker's config
            if any.
        ttl: seconds an answer is reused before asking again.
    """

    def __init__(self, registries: Sequence[RegistryCredentials] | None = None,
                 ttl: float = 5.0) -> None:
        if registries is None:
            registries = [RegistryCredentials(get_config().registry_address)]
        self.ttl = ttl
        self._credentials = {_address(c): c for c in registries}
        self._clients: dict[str, RegistryClient] = {}
        self._cache: dict[tuple[str, ...], tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Catalog({list(self._credentials.values())!r}, ttl={self.ttl})"

    def registries(self) -> list[dict[str, Any]]:
        """``[{"address", "reachable", "error"}]`` per registry, all asked at once; never raises."""
        addresses = list(self._credentials)
        with ThreadPoolExecutor(max_workers=max(1, min(len(addresses), 8))) as pool:
            return list(pool.map(
                lambda a: self._cached(("ping", a), partial(self._ping, a)), addresses))

    def repositories(self, address: str) -> list[str]:
        """Every repository of the registry at ``address`` (all pages).

        Raises:
            RegistryError: and its subclasses (unreachable, auth, no catalog).
        """
        return self._cached(("repos", address), lambda: self.client(address).repositories())

    def tags(self, address: str, repository: str) -> list[dict[str, Any]]:
        """``[{"repository","tag","digest","size","created","platforms","labels"}]``, one per tag.

        A tag that vanished between listing and reading (deleted meanwhile) keeps its row with
        ``"error"`` set and the other fields empty, so one bad tag does not hide the rest.

        Raises:
            RegistryError: and its subclasses; RegistryNotFoundError for an unknown repository.
        """
        return self._cached(("tags", address, repository),
                            lambda: self._tag_rows(address, repository))

    def local_images(self) -> list[dict[str, Any]]:
        """What ``docker images`` shows: ``[{"id","tags","size","created","labels"}]``.

        Raises:
            DockerUnavailableError: no engine.
        """
        return self._cached(("local",), _local_images)

    def client(self, address: str) -> RegistryClient:
        """The (kept) client for ``address``, logged in as configured or as Docker's config says."""
        with self._lock:
            client = self._clients.get(address)
        if client is None:
            given = self._credentials.get(address)
            client = RegistryClient(address, resolve_credentials(address, given),
                                    pool_size=MAX_CONCURRENT_FETCHES * 2)
            with self._lock:
                client = self._clients.setdefault(address, client)
        return client

    def invalidate(self) -> None:
        """Forget cached answers (after a push, pull or delete)."""
        with self._lock:
            self._cache.clear()

    # -- internals ---------------------------------------------------------------------------

    def _ping(self, address: str) -> dict[str, Any]:
        try:
            self.client(address).ping()
        except RegistryError as e:
            return {"address": address, "reachable": False, "error": str(e)}
        return {"address": address, "reachable": True, "error": None}

    def _tag_rows(self, address: str, repository: str) -> list[dict[str, Any]]:
        client = self.client(address)
        names = client.tags(repository)
        with ThreadPoolExecutor(max_workers=MAX_CONCURRENT_FETCHES) as pool:
            return list(pool.map(partial(_tag_row, client, repository), names))

    def _cached(self, key: tuple[str, ...], compute: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        value = compute()
        with self._lock:
            self._cache[key] = (time.monotonic(), value)
        return value


def _tag_row(client: RegistryClient, repository: str, tag: str) -> dict[str, Any]:
    try:
        return {**client.details(repository, tag).to_dict(), "error": None}
    except RegistryNotFoundError as e:
        return {"repository": repository, "tag": tag, "digest": None, "size": None,
                "created": None, "platforms": [], "labels": {}, "error": str(e)}


def _address(credentials: RegistryCredentials) -> str:
    return credentials.address or get_config().registry_address


def _local_images() -> list[dict[str, Any]]:
    with translate_docker_errors("listing local images"):
        found = docker_client().images.list()
    return [{"id": image.id, "tags": list(image.tags), "size": image.attrs.get("Size"),
             "created": image.attrs.get("Created"), "labels": dict(image.labels or {})}
            for image in found]
