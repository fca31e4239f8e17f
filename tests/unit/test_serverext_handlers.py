"""The server extension's handlers with a fake manager: auth, JSON, one error translation.

The real manager and engine are exercised in tests/integration/test_serverext.py; here only the
REST layer is under test, so the manager is a stand-in that raises each of our errors.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_jupyter.jupyter_core import jp_asyncio_loop  # noqa: F401 - the real one, here
from pytest_jupyter.jupyter_server import jp_server_cleanup  # noqa: F401 - the real one, here
from tornado.httpclient import HTTPClientError

from jupyter_deploy.errors import (
    ConfigurationError,
    DockerUnavailableError,
    RegistryNotFoundError,
    RegistryUnreachableError,
    ServiceNotFoundError,
)
from jupyter_deploy.serverext.manager import DeployManager, scoring_snippet


class FakeCatalog:
    """Answers like the real catalog, from a fixed list."""

    def registries(self) -> list[dict[str, Any]]:
        return [{"address": "127.0.0.1:5000", "reachable": True, "error": None}]

    def repositories(self, address: str) -> list[str]:
        return [f"models/m{i:03d}" for i in range(250)] + ["base/python"]


class FailingManager(DeployManager):
    """Raises a chosen error from every container call."""

    error: Exception = ServiceNotFoundError("no container 'x': pick one from the list")

    def containers(self) -> list[dict[str, Any]]:
        raise self.error


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"jupyter_deploy": True}}}


@pytest.fixture
def a_failing_manager(jp_web_app: Any) -> FailingManager:
    manager = FailingManager()
    jp_web_app.settings["jupyter_deploy_manager"] = manager
    return manager


@pytest.mark.parametrize("error,status", [
    (ServiceNotFoundError("no such container: x"), 404),
    (DockerUnavailableError("No Docker engine is reachable. Start one with ..."), 503),
    (ConfigurationError("bad reference"), 400),
    (RegistryNotFoundError("no such registry"), 404),
    (RegistryUnreachableError("nothing answers at http://127.0.0.1:5999"), 503),
])
async def test_our_errors_become_json_with_their_status(
    jp_fetch: Any, a_failing_manager: FailingManager, error: Exception, status: int
) -> None:
    # Given the core raises one of our errors
    a_failing_manager.error = error
    # When the endpoint is called
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("jupyter-deploy", "containers")
    # Then the answer has the error's status and its message, as JSON
    assert caught.value.code == status
    assert caught.value.response is not None
    body = json.loads(caught.value.response.body)
    assert body == {"message": str(error), "error": type(error).__name__}


async def test_an_unknown_route_is_a_plain_404_the_panel_reads_as_not_installed(
    jp_fetch: Any,
) -> None:
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("jupyter-deploy", "no-such-endpoint")
    assert caught.value.code == 404


def test_repositories_are_filtered_and_paged() -> None:
    # Given a catalog of 251 repositories
    manager = DeployManager()
    manager._catalog = FakeCatalog()
    # When a page is asked for with a filter
    page = manager.repositories("127.0.0.1:5000", query="M1", offset=10, limit=20)
    # Then it counts every match and returns just the page, sorted
    assert page["total"] == 100
    assert page["repositories"][0] == "models/m110"
    assert len(page["repositories"]) == 20


def test_an_address_that_is_not_configured_is_refused() -> None:
    manager = DeployManager()
    manager._catalog = FakeCatalog()
    with pytest.raises(RegistryNotFoundError, match=r"DeployConfig\.sidebar_registries"):
        manager.repositories("169.254.169.254:80")


def test_an_unknown_action_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="stop, restart or remove"):
        DeployManager().act("x", "explode")


def test_the_snippet_scores_the_service_by_name() -> None:
    snippet = scoring_snippet("iris")
    assert "jd.services.get('iris')" in snippet
    assert "service.score(" in snippet
