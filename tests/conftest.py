"""Fixtures shared by every suite.

Tests that need the engine are marked ``docker`` (everything under ``tests/integration`` is,
automatically). Locally they are skipped with a reason when no engine answers; in CI (``CI`` set)
they run regardless, so a missing engine fails the run instead of hiding behind skips.

Every engine resource a test makes carries the label ``jupyter_deploy.test=<run id>``, or (what
a sample notebook makes under the names a test gave it) has the run id in its name; both are
removed when the session ends, by that label and that id only (see :mod:`runs`), so parallel runs
never clean up each other's — nor a user's own containers, whatever their names. Ports come from
:mod:`ports`, reserved per run; the workspace registry is the run's own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ports
import pytest
from runs import (
    RUN_ID,
    TEST_LABEL,
    environment_images,
    remove_tags,
    remove_this_runs_containers,
    remove_this_runs_images,
    remove_this_runs_swarm_services,
    remove_unused_environments,
)

from jupyter_deploy.engine.client import engine_reachable

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
def _remove_this_runs_resources() -> Iterator[None]:
    environments = environment_images() if engine_reachable() else set()
    yield
    if engine_reachable():
        remove_this_runs_swarm_services()
        remove_this_runs_containers()
        remove_this_runs_images()
        remove_unused_environments(environment_images() - environments)


@pytest.fixture(scope="session")
def the_runs_own_workspace_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``host:port`` of a registry of this run's own, gone (with its storage) when the run ends.

    Packages, published base images and ``image build`` push to the workspace registry
    (``DeployConfig.registry_address``). The shared one (127.0.0.1:5000) would keep what they
    push, and two runs pushing one content-addressed tag would delete it from under each other;
    so engine tests push here instead. At the end the registry is stopped, its storage deleted
    and the engine's tags that name it removed.
    """
    from jupyter_deploy.registry.local import LocalRegistry

    registry = LocalRegistry(f"127.0.0.1:{ports.an_unused_port()}",
                             root=tmp_path_factory.mktemp("workspace-registry"))
    registry.start()
    try:
        yield registry.address
    finally:
        registry.stop()
        shutil.rmtree(registry.root, ignore_errors=True)
        if engine_reachable():
            remove_tags(lambda tag: tag.startswith(f"{registry.address}/"))


@pytest.fixture(scope="module", autouse=True)
def _engine_tests_use_the_runs_own_workspace_registry(
    request: pytest.FixtureRequest,
) -> Iterator[None]:
    """The workspace registry is the run's own in modules of engine tests (that will run).

    Module-scoped and autouse, so it is in place before any other module fixture packages or
    pushes; other modules (the unit tests) see the configured address.
    """
    engine_tests = [item for item in request.session.items
                    if getattr(item, "module", None) is request.module
                    and "docker" in item.keywords and item.get_closest_marker("skip") is None]
    if not engine_tests:
        yield
        return
    from jupyter_deploy.config import get_config

    config = get_config()
    configured = config.registry_address
    config.registry_address = request.getfixturevalue("the_runs_own_workspace_registry")
    try:
        yield
    finally:
        config.registry_address = configured


@pytest.fixture
def a_service_name() -> str:
    """A container name no other test run uses."""
    return f"jdtest-{RUN_ID}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def an_unused_port() -> int:
    """A loopback port nothing listens on, kept from every other run until this one ends."""
    return ports.an_unused_port()


@pytest.fixture
def a_taken_port() -> Iterator[int]:
    """A loopback port some other socket listens on, for the port-in-use errors."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


@pytest.fixture
def a_foreign_container(a_service_name: str, test_labels: dict[str, str]) -> Iterator[Any]:
    """A running container without jupyter_deploy's labels (only the run's, for clean-up)."""
    import docker.errors

    from jupyter_deploy.config import get_config
    from jupyter_deploy.engine.client import docker_client

    container = docker_client().containers.run(
        get_config().default_base_image, ["sleep", "600"], name=a_service_name, detach=True,
        labels=test_labels)
    yield container
    with contextlib.suppress(docker.errors.NotFound):
        container.remove(force=True)


@pytest.fixture(scope="session")
def a_swarm() -> Iterator[None]:
    """Swarm mode on this engine, for this run; left again only if it was off before."""
    from jupyter_deploy.engine import swarm
    from jupyter_deploy.engine.client import docker_client
    from jupyter_deploy.errors import ConfigurationError
    from jupyter_deploy.targets.swarm import SwarmTarget

    was_active = swarm.swarm_info().active
    if not was_active:
        # While it is off, the swarm target refuses with the way to turn it on
        with pytest.raises(ConfigurationError, match="compute attach swarm"):
            SwarmTarget().check()
        swarm.init_swarm(print)
    yield
    if not was_active:
        docker_client().swarm.leave(force=True)
