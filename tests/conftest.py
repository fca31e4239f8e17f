"""Fixtures shared by every suite.

Tests that need the engine are marked ``docker`` (everything under ``tests/integration`` is,
automatically). Locally they are skipped with a reason when no engine answers; in CI (``CI`` set)
they run regardless, so a missing engine fails the run instead of hiding behind skips.

Every engine resource a test makes carries the label ``jupyter_deploy.test=<run id>`` and is
removed by that label when the session ends, so parallel runs never clean up each other's.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_deploy.engine.client import engine_reachable

TEST_LABEL = "jupyter_deploy.test"
RUN_ID = uuid.uuid4().hex[:10]

# pytest-jupyter (jp_fetch for the server extension's tests) registers two autouse fixtures for
# the whole session: an event loop closed after every test, and a ServerApp clean-up. Here they
# do nothing; test modules that use jp_* fixtures import the real ones (module beats conftest).
pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture
def jp_asyncio_loop() -> None:
    """No pytest-jupyter event loop outside the modules that ask for it."""


@pytest.fixture
def jp_server_cleanup() -> None:
    """No pytest-jupyter server clean-up outside the modules that ask for it."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in Path(str(item.fspath)).parts:
            item.add_marker(pytest.mark.docker)
    if os.environ.get("CI") or engine_reachable():
        return
    skip = pytest.mark.skip(reason="no Docker engine reachable (run `jupyter-deploy setup`)")
    for item in items:
        if "docker" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def test_labels() -> dict[str, str]:
    """Labels that mark an engine resource as made by this test run."""
    return {TEST_LABEL: RUN_ID}


@pytest.fixture(scope="session", autouse=True)
def _remove_labelled_resources() -> Iterator[None]:
    yield
    if not engine_reachable():
        return
    from jupyter_deploy.engine.client import docker_client

    client = docker_client()
    selector = {"label": f"{TEST_LABEL}={RUN_ID}"}
    for container in client.containers.list(all=True, filters=selector):
        container.remove(force=True)
    for image in client.images.list(filters=selector):
        # An image shared with a concurrent run may still be in use: leave it then.
        with contextlib.suppress(Exception):
            client.images.remove(image.id, force=True)


@pytest.fixture
def a_service_name() -> str:
    """A container name no other test run uses."""
    return f"jdtest-{RUN_ID}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def a_taken_port() -> Iterator[int]:
    """A loopback port some other socket listens on, for the port-in-use errors."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]
