"""The catalog's caching and partial answers, over clients on a fake transport."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from test_registry_client import a_client

from jupyter_deploy.registry.catalog import Catalog
from jupyter_deploy.registry.client import DOCKER_MANIFEST, RegistryClient
from jupyter_deploy.spec.environment import RegistryCredentials

CONFIG = {"created": "2026-01-01T00:00:00Z", "os": "linux", "architecture": "amd64",
          "config": {"Labels": {"k": "v"}}}
IMAGE = {"mediaType": DOCKER_MANIFEST, "config": {"digest": "sha256:cfg", "size": 1},
         "layers": [{"size": 9}]}


def route(request: requests.PreparedRequest) -> tuple[int, Mapping[str, str], Any]:
    """One repository `a` with tags 1 and 2, where tag 2 was deleted after listing."""
    url = urlsplit(str(request.url))
    if url.hostname == "dead.test":
        raise requests.ConnectionError("refused")
    answers: dict[str, tuple[int, Any]] = {
        "/v2/": (200, {}),
        "/v2/a/tags/list": (200, {"name": "a", "tags": ["1", "2"]}),
        "/v2/a/manifests/1": (200, IMAGE),
        "/v2/a/manifests/2": (404, {"errors": [{"code": "MANIFEST_UNKNOWN"}]}),
        "/v2/a/blobs/sha256:cfg": (200, CONFIG),
    }
    status, body = answers[url.path]
    return status, {"Docker-Content-Digest": "sha256:m"}, body


@pytest.fixture
def a_catalog(monkeypatch: pytest.MonkeyPatch) -> tuple[Catalog, list[Any]]:
    """A catalog of a live and a dead registry whose clients use the fake transport."""
    transports: list[Any] = []
    clients: dict[str, RegistryClient] = {}

    def client(self: Catalog, address: str) -> RegistryClient:
        if address not in clients:
            clients[address], transport = a_client(route, address=address)
            transports.append(transport)
        return clients[address]

    monkeypatch.setattr(Catalog, "client", client)
    registries = [RegistryCredentials("live.test:5000"), RegistryCredentials("dead.test:5000")]
    return Catalog(registries, ttl=60), transports


def test_a_dead_registry_does_not_hide_the_live_one(a_catalog: tuple[Catalog, list[Any]]) -> None:
    catalog, _ = a_catalog
    rows = {r["address"]: r for r in catalog.registries()}
    assert rows["live.test:5000"] == {"address": "live.test:5000", "reachable": True,
                                      "error": None}
    assert rows["dead.test:5000"]["reachable"] is False
    assert "nothing answers" in rows["dead.test:5000"]["error"]


def test_a_vanished_tag_keeps_its_row_with_an_error(a_catalog: tuple[Catalog, list[Any]]) -> None:
    catalog, _ = a_catalog
    rows = {r["tag"]: r for r in catalog.tags("live.test:5000", "a")}
    assert rows["1"]["digest"] == "sha256:m" and rows["1"]["size"] == 10
    assert rows["1"]["labels"] == {"k": "v"} and rows["1"]["error"] is None
    assert rows["2"]["digest"] is None and "MANIFEST_UNKNOWN" in rows["2"]["error"]


def test_answers_are_reused_until_invalidated(a_catalog: tuple[Catalog, list[Any]]) -> None:
    # Given tags read once
    catalog, transports = a_catalog
    catalog.tags("live.test:5000", "a")
    sent = len(transports[0].sent)
    # When they are read again within the ttl, Then nothing is asked
    catalog.tags("live.test:5000", "a")
    assert len(transports[0].sent) == sent
    # And after invalidate() the registry is asked again (config blobs stay cached: immutable)
    catalog.invalidate()
    catalog.tags("live.test:5000", "a")
    assert len(transports[0].sent) == sent + 3
