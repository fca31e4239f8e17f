"""The sidebar's REST API against the real engine and a real registry, through Jupyter Server.

Each answer is checked against what the engine (docker-py) or the registry itself says. The
server runs in-process (pytest-jupyter) with token auth on; the registry is a Distribution
process on a port of this suite's range (8800-8899). Containers are cheap (the default base image
running ``sleep``) and carry the run's test labels.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker.errors
import ports
import pytest
from pytest_jupyter.jupyter_core import jp_asyncio_loop  # noqa: F401 - the real one, here
from pytest_jupyter.jupyter_server import jp_server_cleanup  # noqa: F401 - the real one, here
from registry_helpers import push_tiny_image, running_registry
from tornado.httpclient import HTTPClientError

from jupyter_deploy import __version__
from jupyter_deploy.config import get_config
from jupyter_deploy.engine import images
from jupyter_deploy.engine.client import docker_client, reset_client
from jupyter_deploy.registry.client import RegistryClient
from jupyter_deploy.registry.local import LocalRegistry
from jupyter_deploy.serverext.manager import DeployManager
from jupyter_deploy.serverext.routes import ROUTES
from jupyter_deploy.spec.environment import RegistryCredentials

REPOSITORY = "sidebar/tiny"
#: A value for each named group of the routes' patterns.
PLACEHOLDERS = {"address": "127.0.0.1%3A5000", "repository": "x", "ref": "x", "action": "stop",
                "job": "1"}


def an_unused_port(start: int = 8850) -> int:
    """A port of this suite's range (8850-8899) that nothing listens on."""
    return ports.an_unused_port(start, 8899)


@pytest.fixture(scope="module")
def a_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    with running_registry(tmp_path_factory.mktemp("reg"), port=an_unused_port()) as registry:
        yield registry


@pytest.fixture(scope="module")
def a_pushed_image(
    a_registry: LocalRegistry, tmp_path_factory: pytest.TempPathFactory,
    test_labels: dict[str, str],
) -> str:
    return push_tiny_image(a_registry, f"{REPOSITORY}:1", tmp_path_factory.mktemp("tiny"),
                           test_labels)


@pytest.fixture
def jp_server_config(a_registry: LocalRegistry) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_deploy": True}},
        "DeployConfig": {"sidebar_registries": [a_registry.address], "listing_cache_seconds": 0.0},
    }


@pytest.fixture
def a_sleeping_service(a_service_name: str, test_labels: dict[str, str]) -> Iterator[Any]:
    """A running container labelled as one of our services, that prints a line and sleeps."""
    container = docker_client().containers.run(
        get_config().default_base_image, ["sh", "-c", "echo hello-from-sidebar; sleep 600"],
        name=a_service_name, detach=True, ports={"5001/tcp": ("127.0.0.1", None)},
        labels={**test_labels, "jupyter_deploy.managed": "true",
                "jupyter_deploy.service": a_service_name},
    )
    yield container
    with contextlib.suppress(docker.errors.NotFound):
        container.remove(force=True)


async def get_json(jp_fetch: Any, *path: str, **kwargs: Any) -> Any:
    response = await jp_fetch("jupyter-deploy", *path, **kwargs)
    return json.loads(response.body)


async def error_of(jp_fetch: Any, *path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("jupyter-deploy", *path, **kwargs)
    assert caught.value.response is not None
    return caught.value.code, json.loads(caught.value.response.body)


async def test_settings_report_versions_and_reachability(
    jp_fetch: Any, a_registry: LocalRegistry
) -> None:
    # Given a running engine and registry
    # When the panel asks for its settings
    settings = await get_json(jp_fetch, "settings")
    # Then they name our version, the engine's own version and the registry as reachable
    assert settings["version"] == __version__
    assert settings["engine"]["reachable"] is True
    assert settings["engine"]["version"] == docker_client().version()["Version"]
    assert settings["registries"] == [
        {"address": a_registry.address, "reachable": True, "error": None}
    ]


@pytest.mark.parametrize("pattern,handler", ROUTES)
async def test_no_endpoint_answers_without_a_token(
    jp_fetch: Any, pattern: str, handler: type
) -> None:
    # Given a path for each route, with every placeholder filled in (a new one must be named
    # here, or this fails with its name)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: PLACEHOLDERS[m.group(1)], pattern)
    method = "POST" if "post" in vars(handler) else "GET"
    body = "{}" if method == "POST" else None
    # When it is called with a wrong token
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("jupyter-deploy", *path.split("/"), method=method, body=body,
                       headers={"Authorization": "token not-the-token"})
    # Then the server refuses before anything runs
    assert caught.value.code == 403


async def test_containers_match_the_engine(jp_fetch: Any, a_sleeping_service: Any) -> None:
    # Given one of our services running
    a_sleeping_service.reload()
    # When the panel lists containers
    listed = {c["name"]: c for c in await get_json(jp_fetch, "containers")}
    # Then it shows it as the engine does, marked as ours, with its published port
    mine = listed[a_sleeping_service.name]
    binding = a_sleeping_service.attrs["NetworkSettings"]["Ports"]["5001/tcp"][0]
    assert mine["id"] == a_sleeping_service.id[:12]
    assert mine["state"] == a_sleeping_service.status == "running"
    assert mine["ours"] is True and mine["service"] == a_sleeping_service.name
    assert mine["ports"][0]["public_port"] == int(binding["HostPort"])
    assert mine["scoring_uri"] == f"http://127.0.0.1:{binding['HostPort']}/score"
    assert f"jd.services.get({a_sleeping_service.name!r})" in mine["snippet"]


async def test_a_log_tail_is_what_the_container_printed(
    jp_fetch: Any, a_sleeping_service: Any
) -> None:
    # Given a container that printed one line
    # When the panel asks for its log
    answer = await get_json(jp_fetch, "containers", a_sleeping_service.name, "logs",
                            params={"lines": "10"})
    # Then the line is there, as the engine gives it (less the trailing newline)
    assert answer["logs"] == a_sleeping_service.logs(tail=10).decode().rstrip()
    assert "hello-from-sidebar" in answer["logs"]


async def test_stop_restart_remove_change_the_engine(
    jp_fetch: Any, a_sleeping_service: Any
) -> None:
    name = a_sleeping_service.name
    # When the panel stops the container, the engine has it stopped
    stopped = await get_json(jp_fetch, "containers", name, "stop", method="POST", body="")
    a_sleeping_service.reload()
    assert stopped["state"] == a_sleeping_service.status == "exited"
    # When it restarts it, it runs again
    restarted = await get_json(jp_fetch, "containers", name, "restart", method="POST", body="")
    a_sleeping_service.reload()
    assert restarted["state"] == a_sleeping_service.status == "running"
    # When it removes it, the engine no longer knows it
    await get_json(jp_fetch, "containers", name, "remove", method="POST", body="")
    with pytest.raises(docker.errors.NotFound):
        docker_client().containers.get(name)


async def test_an_unknown_container_is_a_404_not_a_500(jp_fetch: Any) -> None:
    for path in (("logs",), ("stop",), ()):
        method = "POST" if path == ("stop",) else "GET"
        code, body = await error_of(jp_fetch, "containers", "no-such-container-xyz", *path,
                                    method=method, body="" if method == "POST" else None)
        assert code == 404
        assert "no-such-container-xyz" in body["message"]


async def test_a_malformed_container_reference_is_a_400(jp_fetch: Any) -> None:
    code, body = await error_of(jp_fetch, "containers", "bad ref!", "logs")
    assert code == 400
    assert "container id or name" in body["message"]


async def test_repositories_and_tags_match_the_registry(
    jp_fetch: Any, a_registry: LocalRegistry, a_pushed_image: str
) -> None:
    # Given an image pushed to the registry
    client = RegistryClient(a_registry.address)
    # When the panel lists the registry's repositories and the repository's tags
    page = await get_json(jp_fetch, "registries", a_registry.address, "repositories")
    tags = await get_json(jp_fetch, "registries", a_registry.address, "repositories",
                          REPOSITORY, "tags")
    # Then they are what the registry says, down to the digest
    assert page["repositories"] == sorted(client.repositories())
    assert REPOSITORY in page["repositories"]
    [tag] = tags["tags"]
    assert tag["tag"] == "1"
    assert tag["digest"] == client.details(REPOSITORY, "1").digest
    assert tag["size"] and tag["size"] > 0


async def test_repositories_page_and_filter(
    jp_fetch: Any, a_registry: LocalRegistry, a_pushed_image: str
) -> None:
    page = await get_json(jp_fetch, "registries", a_registry.address, "repositories",
                          params={"filter": "TINY", "limit": "1"})
    assert page["repositories"] == [REPOSITORY]
    none = await get_json(jp_fetch, "registries", a_registry.address, "repositories",
                          params={"filter": "no-such-thing"})
    assert none == {"address": a_registry.address, "total": 0, "offset": 0,
                    "repositories": []}


async def test_an_unconfigured_registry_is_not_browsed(jp_fetch: Any) -> None:
    code, body = await error_of(jp_fetch, "registries", "127.0.0.1:1", "repositories")
    assert code == 404
    assert "DeployConfig.sidebar_registries" in body["message"]


async def test_pull_brings_the_image_into_the_engine(
    jp_fetch: Any, a_pushed_image: str
) -> None:
    # Given the pushed image is no longer in the engine
    docker_client().images.remove(a_pushed_image, force=True)
    assert not images.exists(a_pushed_image)
    # When the panel pulls it
    answer = await get_json(jp_fetch, "images", "pull", method="POST",
                            body=json.dumps({"reference": a_pushed_image}))
    # Then the engine has it again, and the local image list shows it
    assert images.exists(a_pushed_image)
    assert answer["reference"] == a_pushed_image
    listed = await get_json(jp_fetch, "images")
    assert any(a_pushed_image in image["tags"] for image in listed)


@pytest.mark.parametrize("body,error,says", [
    ('{"reference": "Not A Reference"}', "ImageReferenceError", "[registry/]repository[:tag]"),
    ("[1, 2]", "ConfigurationError", "must be a JSON object"),
    ("not json", "ConfigurationError", "not JSON"),
])
async def test_a_malformed_pull_is_a_400(jp_fetch: Any, body: str, error: str, says: str) -> None:
    # When the panel sends a pull the server cannot act on
    code, answer = await error_of(jp_fetch, "images", "pull", method="POST", body=body)
    # Then it is the client's mistake (400), named, with a message saying what is wrong
    assert code == 400
    assert answer["error"] == error
    assert says in answer["message"]


async def test_an_unreachable_engine_is_a_503_that_says_how_to_start_one(
    jp_fetch: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given DOCKER_HOST points at a socket nobody listens on
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nonexistent.sock")
    reset_client()
    try:
        # When the panel asks for settings and for containers
        settings = await get_json(jp_fetch, "settings")
        code, body = await error_of(jp_fetch, "containers")
    finally:
        monkeypatch.undo()
        reset_client()
    # Then settings still answer (the extension is there) and containers are a 503 with advice
    assert settings["engine"]["reachable"] is False
    assert "jupyter-deploy setup" in settings["engine"]["error"]
    assert code == 503
    assert "jupyter-deploy setup" in body["message"]


async def test_stats_give_the_memory_the_engine_reports(
    jp_fetch: Any, a_sleeping_service: Any
) -> None:
    # Given a running container
    # When the panel asks for its stats
    stats = await get_json(jp_fetch, "containers", a_sleeping_service.name, "stats")
    # Then memory is a positive number of bytes, within the container's limit
    assert stats["memory_bytes"] > 0
    assert stats["memory_limit"] >= stats["memory_bytes"]


async def test_a_registry_that_is_down_is_reported_beside_one_that_is_up(
    jp_fetch: Any, jp_web_app: Any, a_registry: LocalRegistry
) -> None:
    # Given the server shows the test registry and one on a port nobody listens on
    down = f"127.0.0.1:{an_unused_port(8890)}"
    jp_web_app.settings["jupyter_deploy_manager"] = DeployManager(
        [RegistryCredentials(a_registry.address), RegistryCredentials(down)], ttl=0.0)
    # When the panel asks for settings and for the down registry's repositories
    settings = await get_json(jp_fetch, "settings")
    code, body = await error_of(jp_fetch, "registries", down, "repositories")
    # Then the up one is reachable, the down one is not and says why
    reachable = {r["address"]: r["reachable"] for r in settings["registries"]}
    assert reachable == {a_registry.address: True, down: False}
    assert down in next(r["error"] for r in settings["registries"] if r["address"] == down)
    # And listing the down one is a 503 (unavailable, not a server bug) that names it
    assert code == 503
    assert body["error"] == "RegistryUnreachableError"
    assert down in body["message"] and "jupyter-deploy registry start" in body["message"]
