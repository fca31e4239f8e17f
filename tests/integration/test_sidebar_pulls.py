"""Pulls started from the sidebar report their progress and can be cancelled (real engine and
registry: a 40 MB layer of random bytes, so nothing of it is in the engine already)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_helpers import running_registry

from jupyter_deploy.engine import images
from jupyter_deploy.engine.client import docker_client
from jupyter_deploy.registry.local import LocalRegistry
from jupyter_deploy.serverext.manager import DeployManager
from jupyter_deploy.spec.environment import RegistryCredentials


@pytest.fixture(scope="module")
def a_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    with running_registry(tmp_path_factory.mktemp("pulls")) as registry:
        yield registry


@pytest.fixture
def a_pushed_random_image(
    a_registry: LocalRegistry, tmp_path: Path, a_service_name: str, test_labels: dict[str, str]
) -> Iterator[str]:
    """A pushed image whose one layer is 40 MB of random bytes, no longer in the engine."""
    (tmp_path / "blob").write_bytes(os.urandom(40 * 1024 * 1024))
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY blob /blob\n")
    ref = f"{a_registry.address}/pulls/{a_service_name}:1"
    images.build(str(tmp_path), ref, labels=test_labels)
    images.push(ref)
    docker_client().images.remove(ref, force=True)
    yield ref
    if images.exists(ref):
        docker_client().images.remove(ref, force=True)


def _wait_for_end(manager: DeployManager, job: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snapshot = manager.pull_job(job)
        if snapshot["state"] != "running":
            return snapshot
        time.sleep(0.1)
    raise TimeoutError(f"pull {job} still running after {timeout} s")


def test_a_pull_reports_progress_to_the_end(
    a_registry: LocalRegistry, a_pushed_random_image: str
) -> None:
    # When the sidebar starts a pull
    manager = DeployManager([RegistryCredentials(a_registry.address)])
    started = manager.start_pull(a_pushed_random_image)
    assert started["state"] == "running"
    # Then it ends done, every layer counted, with docker pull's status line
    done = _wait_for_end(manager, started["id"])
    assert done["state"] == "done" and done["fraction"] == 1.0
    assert done["layers"] == done["layers_done"] >= 1
    assert done["status"].startswith("Status: Downloaded newer image")
    assert images.exists(a_pushed_random_image)


def test_a_cancelled_pull_stops_and_leaves_no_image(
    a_registry: LocalRegistry, a_pushed_random_image: str
) -> None:
    # Given a pull under way
    manager = DeployManager([RegistryCredentials(a_registry.address)])
    job = manager.start_pull(a_pushed_random_image)["id"]
    # When the user cancels it
    cancelled = manager.cancel_pull(job)
    # Then it says so, and the engine does not finish it behind our back
    assert cancelled["state"] == "cancelled", cancelled
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        assert not images.exists(a_pushed_random_image)
        time.sleep(0.2)
