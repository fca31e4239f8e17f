"""The sidebar's service routes on a real single-node swarm, through Jupyter Server with its token.

One Swarm service (2 replicas, auth on) serves the whole module. It is deployed the way a
notebook user does it — ``%deploy NAME … --ct swarm --replicas 2 --auth`` in a real IPython
shell — so this module is also the real-engine check of that magic line. Answers are checked
against the service's own handle (``get_keys()``, ``replicas``) and the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any, NamedTuple

import docker.errors
import pytest
from IPython.core.interactiveshell import InteractiveShell
from pytest_jupyter.jupyter_core import jp_asyncio_loop  # noqa: F401 - the real one, here
from pytest_jupyter.jupyter_server import jp_server_cleanup  # noqa: F401 - the real one, here
from runs import RUN_ID, TEST_LABEL
from samples import write_score_py
from tornado.httpclient import HTTPClientError

import jupyter_deploy
from jupyter_deploy.config import get_config
from jupyter_deploy.engine.client import docker_client
from jupyter_deploy.services.deployment import Deployment

ROWS = {"data": [[1, 2], [3, 4]]}


class Deployed(NamedTuple):
    """What ``%deploy`` bound, and the message it answered with."""

    service: Deployment
    message: str


@pytest.fixture(scope="module")
def a_deployed_swarm_service(
    a_swarm: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployed]:
    """A 2-replica Swarm service with keys, deployed by ``%deploy`` in a real IPython shell."""
    name = f"jdsvc-{RUN_ID}"
    script = write_score_py(tmp_path_factory.mktemp("svc"), "1.0")
    shell = InteractiveShell.instance()
    jupyter_deploy.load_ipython_extension(shell)
    line = (f"%deploy {name} --entry {script} --ct swarm --replicas 2 --auth "
            f"--label {TEST_LABEL}={RUN_ID} -q")
    result = shell.run_cell(line, store_history=False)
    result.raise_error()
    service = shell.user_ns.pop(name.replace("-", "_"))
    yield Deployed(service, str(result.result))
    service.remove()


@pytest.fixture
def a_swarm_service(a_deployed_swarm_service: Deployed) -> Deployment:
    return a_deployed_swarm_service.service


@pytest.fixture
def a_local_service(a_service_name: str, test_labels: dict[str, str]) -> Iterator[Any]:
    """A running container labelled as one of our services on the local target."""
    container = docker_client().containers.run(
        get_config().default_base_image, ["sleep", "600"], name=a_service_name, detach=True,
        labels={**test_labels, "jupyter_deploy.managed": "true",
                "jupyter_deploy.service": a_service_name})
    yield container
    with contextlib.suppress(docker.errors.NotFound):
        container.remove(force=True)


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"jupyter_deploy": True}},
            "DeployConfig": {"listing_cache_seconds": 0.0}}


async def get_json(jp_fetch: Any, *path: str, **kwargs: Any) -> Any:
    response = await jp_fetch("jupyter-deploy", *path, **kwargs)
    return json.loads(response.body)


async def error_of(jp_fetch: Any, *path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("jupyter-deploy", *path, **kwargs)
    assert caught.value.response is not None
    return caught.value.code, json.loads(caught.value.response.body)


async def listed(jp_fetch: Any, name: str) -> dict[str, Any]:
    found = [s for s in await get_json(jp_fetch, "services") if s["name"] == name]
    assert len(found) == 1, found
    return found[0]


def test_the_deploy_magic_made_a_swarm_service_with_replicas_and_keys(
    a_deployed_swarm_service: Deployed,
) -> None:
    service, message = a_deployed_swarm_service
    # Then the magic said where it answers, on which target, and that a key is needed
    assert f"answers at {service.scoring_uri} on swarm (2/2 replicas healthy" in message
    assert "key required: `service.get_keys()`" in message
    assert not any(key in message for key in service.get_keys())
    # And it bound a swarm handle that asks for keys and sends its own when scoring
    assert service.target.kind == "swarm" and service.auth_enabled
    assert service.replicas == (2, 2)
    assert service.score(ROWS).value == pytest.approx(1.0)


async def test_the_list_shows_target_replicas_and_the_lock_but_no_key(
    jp_fetch: Any, a_swarm_service: Deployment
) -> None:
    # Given a swarm service with 2 replicas and keys
    keys = a_swarm_service.get_keys()
    # When the sidebar lists services
    answer = await jp_fetch("jupyter-deploy", "services")
    mine = await listed(jp_fetch, a_swarm_service.name)
    # Then it shows it on swarm, both replicas healthy, asking for a key, with its endpoint
    assert mine["target"] == "swarm" and mine["state"] == "Healthy"
    assert mine["replicas"] == "2/2" and mine["auth"] is True
    assert mine["scoring_uri"] == a_swarm_service.scoring_uri
    # And the snippet scores it by name (the handle sends the key), with no key anywhere
    assert f"jd.services.get({a_swarm_service.name!r})" in mine["snippet"]
    body = answer.body.decode()
    assert not any(key in body for key in keys)


async def test_the_containers_of_a_swarm_service_are_grouped_under_it(
    jp_fetch: Any, a_swarm_service: Deployment
) -> None:
    # When the sidebar lists containers
    containers = await get_json(jp_fetch, "containers")
    members = [c for c in containers if c["swarm_service"] == a_swarm_service.name]
    # Then the two replica containers and the load balancer name the service and their role,
    # exactly the containers swarm's own label and ours mark
    roles = sorted(c["role"] for c in members)
    assert roles == ["load-balancer", "replica", "replica"], members
    engine = docker_client().api.containers(filters={
        "label": f"com.docker.swarm.service.name={a_swarm_service.name}"})
    assert {c["id"] for c in members if c["role"] == "replica"} == {
        c["Id"][:12] for c in engine}
    assert next(c for c in members if c["role"] == "load-balancer")["name"] == (
        f"jd-lb-{a_swarm_service.name}")


async def test_the_keys_route_answers_the_services_keys(
    jp_fetch: Any, a_swarm_service: Deployment
) -> None:
    # When the sidebar asks for the keys (to copy one)
    response = await jp_fetch("jupyter-deploy", "services", a_swarm_service.name, "keys")
    answer = json.loads(response.body)
    # Then they are the service's keys, and no cache keeps them
    primary, secondary = a_swarm_service.get_keys()
    assert answer == {"name": a_swarm_service.name, "primary_key": primary,
                      "secondary_key": secondary}
    assert response.headers["Cache-Control"] == "no-store"
    # And the copied key opens the service
    import requests

    r = requests.post(a_swarm_service.scoring_uri, json=ROWS, timeout=10,
                      headers={"Authorization": f"Bearer {answer['primary_key']}"})
    assert r.status_code == 200


async def test_a_local_service_has_no_keys_and_one_replica(
    jp_fetch: Any, a_local_service: Any
) -> None:
    # When the sidebar asks a local service for keys, or for 2 replicas
    code, body = await error_of(jp_fetch, "services", a_local_service.name, "keys")
    # Then each is a 400 that says why and what to do
    assert code == 400 and body["error"] == "ConfigurationError"
    assert "local target, which has no keys" in body["message"]
    assert "auth_enabled=True" in body["message"]
    code, body = await error_of(jp_fetch, "services", a_local_service.name, "scale",
                                method="POST", body=json.dumps({"replicas": 2}))
    assert code == 400 and "deploy to a cluster target for replicas" in body["message"]


@pytest.mark.parametrize("body,says", [
    ("{}", "whole number"), ('{"replicas": "2"}', "whole number"),
    ('{"replicas": true}', "whole number"), ("[2]", "JSON object"),
])
async def test_a_malformed_scale_is_a_400(
    jp_fetch: Any, a_local_service: Any, body: str, says: str
) -> None:
    code, answer = await error_of(jp_fetch, "services", a_local_service.name, "scale",
                                  method="POST", body=body)
    assert code == 400 and says in answer["message"]


async def test_an_unknown_service_is_a_404(jp_fetch: Any) -> None:
    for path, method in ((("keys",), "GET"), (("scale",), "POST")):
        code, body = await error_of(jp_fetch, "services", "no-such-service-xyz", *path,
                                    method=method,
                                    body=json.dumps({"replicas": 1}) if method == "POST" else None)
        assert code == 404 and "no-such-service-xyz" in body["message"]


async def test_scale_to_one_replica(jp_fetch: Any, a_swarm_service: Deployment) -> None:
    # When the sidebar scales the service to 1
    answer = await get_json(jp_fetch, "services", a_swarm_service.name, "scale",
                            method="POST", body=json.dumps({"replicas": 1}))
    # Then swarm asks for one replica at once, and the list soon shows 1/1
    assert answer["name"] == a_swarm_service.name and answer["replicas"].endswith("/1")
    a_swarm_service.instance.reload()
    assert a_swarm_service.instance.attrs["Spec"]["Mode"]["Replicated"]["Replicas"] == 1
    deadline = time.monotonic() + 60
    while (mine := await listed(jp_fetch, a_swarm_service.name))["replicas"] != "1/1":
        assert time.monotonic() < deadline, f"still {mine['replicas']} after 60 s"
        await asyncio.sleep(0.5)
    assert a_swarm_service.replicas == (1, 1)
