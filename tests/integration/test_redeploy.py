"""A redeploy never takes a working service down before its successor answers.

On the real engine: deploying a name that is running starts the new version beside the old one
and moves the port only once it answered; a new version that fails leaves the old one answering,
untouched. Services that answered come back by themselves after an engine restart; a service the
user stopped stays stopped.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from runs import RUN_ID, TEST_LABEL
from samples import write_score_py

import jupyter_deploy as jd
from jupyter_deploy.engine.client import docker_client, engine_address, reset_client
from jupyter_deploy.errors import ContainerError
from jupyter_deploy.services.provision import ensure_engine


def _ours_named(name: str) -> list[str]:
    """Names of the engine's containers that carry this service's name (trials included)."""
    return sorted(c.name for c in docker_client().containers.list(all=True)
                  if c.name == name or c.name.startswith(f"{name}-"))


def test_a_redeploy_moves_to_the_new_version_on_the_same_port(
    tmp_path: Path, a_service_name: str, test_labels: dict[str, str]
) -> None:
    # Given a running service answering 1
    first = jd.deploy(a_service_name, write_score_py(tmp_path, "1"), labels=test_labels)
    port = first.port
    # When the same name is deployed again, answering 2, with no port given
    second = jd.deploy(a_service_name, write_score_py(tmp_path, "2"), labels=test_labels)
    # Then the new version answers on the old port, and only it is left
    assert second.port == port
    assert second.score({"data": []}).value == 2
    assert _ours_named(a_service_name) == [a_service_name]


def test_a_failed_redeploy_leaves_the_running_version_answering(
    tmp_path: Path, a_service_name: str, test_labels: dict[str, str]
) -> None:
    # Given a running service answering 1
    first = jd.deploy(a_service_name, write_score_py(tmp_path, "1"), labels=test_labels)
    # When a version whose init() fails is deployed under the same name
    broken = write_score_py(tmp_path, "2", init="raise RuntimeError('bad weights')")
    with pytest.raises(ContainerError, match="bad weights") as failed:
        jd.deploy(a_service_name, broken, labels=test_labels)
    # Then the error says the old one still answers, and it does, as the same container
    assert "still answers" in str(failed.value)
    service = jd.services.get(a_service_name)
    assert service.container.id == first.container.id
    assert service.score({"data": []}).value == 1
    assert _ours_named(a_service_name) == [a_service_name]


def _dockerd_pid() -> int | None:
    found = subprocess.run(["pgrep", "-xo", "dockerd"], capture_output=True, text=True,
                           check=False).stdout.strip()
    return int(found) if found else None


@pytest.fixture
def an_engine_we_can_restart() -> None:
    """The engine this project started (root, the local socket); elsewhere the test is skipped
    locally — CI always starts its own, so there it always runs.

    A restart stops every container on the engine, so it is skipped too while the engine runs
    containers that are not this run's (a user's own, another test run's).
    """
    if os.environ.get("DOCKER_HOST") or _dockerd_pid() is None or os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the engine itself to test a restart ({engine_address()})")
        pytest.skip("the engine was not started by this project: not restarting it")
    if shutil.which("pgrep") is None:
        pytest.fail("pgrep is needed to find dockerd")
    others = sorted(c.name for c in docker_client().containers.list()
                    if c.labels.get(TEST_LABEL) != RUN_ID)
    if others:
        pytest.skip(f"the engine runs containers that are not this run's ({', '.join(others[:5])}"
                    f"{', …' if len(others) > 5 else ''}): a restart would stop them")


def _restart_engine() -> None:
    pid = _dockerd_pid()
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 90
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Path(f"/proc/{pid}").exists(), "dockerd did not stop within 90 s"
    reset_client()
    ensure_engine(log=print)


def test_services_come_back_after_an_engine_restart_unless_stopped(
    an_engine_we_can_restart: None, tmp_path: Path, a_service_name: str,
    test_labels: dict[str, str],
) -> None:
    # Given one running service and one the user stopped
    running = jd.deploy(a_service_name, write_score_py(tmp_path, "'up'"), labels=test_labels)
    stopped = jd.deploy(f"{a_service_name}-s", write_score_py(tmp_path, "'down'"),
                        labels=test_labels)
    stopped.stop()
    # When the engine restarts (a reboot, Docker Desktop quitting)
    _restart_engine()
    # Then the running one is back by itself and answers on its port, the stopped one is not
    again = jd.services.get(a_service_name)
    again.wait_until_ready(timeout=60)
    assert again.port == running.port
    assert again.state == "Healthy"
    assert again.score({"data": []}).value == "up"
    assert jd.services.get(f"{a_service_name}-s").state == "Stopped"
