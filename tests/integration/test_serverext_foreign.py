"""The sidebar's REST API acts only on what it may: containers this project did not make are
stopped or removed only when the request says the user confirmed it (on the real engine)."""

from __future__ import annotations

import json
from typing import Any

import docker.errors
import pytest
from pytest_jupyter.jupyter_core import jp_asyncio_loop  # noqa: F401 - the real one, here
from pytest_jupyter.jupyter_server import jp_server_cleanup  # noqa: F401 - the real one, here
from tornado.httpclient import HTTPClientError

from jupyter_deploy.engine.client import docker_client


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"jupyter_deploy": True}}}


@pytest.mark.parametrize("action", ["stop", "restart", "remove"])
async def test_a_container_not_ours_is_left_alone_without_consent(
    jp_fetch: Any, a_foreign_container: Any, action: str
) -> None:
    # When the sidebar asks to act on a container it did not make, without saying it may
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("jupyter-deploy", "containers", a_foreign_container.name, action,
                       method="POST", body="{}")
    # Then the answer is 409 naming it, and the container runs on as it was
    assert caught.value.code == 409
    assert caught.value.response is not None
    message = json.loads(caught.value.response.body)["message"]
    assert a_foreign_container.name in message and "not made by jupyter_deploy" in message
    a_foreign_container.reload()
    assert a_foreign_container.status == "running"


async def test_a_container_not_ours_is_removed_when_the_user_confirmed(
    jp_fetch: Any, a_foreign_container: Any
) -> None:
    # When the request says the user confirmed it is not ours
    await jp_fetch("jupyter-deploy", "containers", a_foreign_container.name, "remove",
                   method="POST", body=json.dumps({"not_ours": True}))
    # Then it is gone
    with pytest.raises(docker.errors.NotFound):
        docker_client().containers.get(a_foreign_container.name)
