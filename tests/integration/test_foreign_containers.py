"""A container jupyter_deploy did not make keeps its name, its state and its life.

A user may run a container called ``quickstart`` (or any name a service wants) for reasons of
their own. Deploying a service of that name, removing "the service" of that name, and the demo
that deploys ``quickstart`` all leave such a container exactly as it was: the deploy and the
removal refuse with a message saying what to do, and the demo chooses another name (or, with a
name the user gave, stops before building anything). The tests use a name of their own run,
never ``quickstart`` itself.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docker.models.containers import Container
from samples import write_score_py

import jupyter_deploy as jd
from jupyter_deploy.cli.main import main
from jupyter_deploy.config import get_config
from jupyter_deploy.engine.client import docker_client
from jupyter_deploy.errors import ConfigurationError, ServiceNotFoundError

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


@pytest.fixture
def a_foreign_container(a_service_name: str, test_labels: dict[str, str]) -> Iterator[Container]:
    """A running container named like a service, made with plain docker-py, not the project.

    It carries the run's test label only, so the session's clean-up removes it even if a test
    fails half-way; it has none of jupyter_deploy's own labels.
    """
    container = docker_client().containers.run(
        get_config().default_base_image, ["sleep", "600"], name=a_service_name, detach=True,
        labels={**test_labels, "keep": "me"})
    yield container
    container.remove(force=True)


def as_it_is(container: Container) -> dict[str, Any]:
    """What must not change: identity, state, start time, restarts, labels."""
    container.reload()
    state = container.attrs["State"]
    return {"id": container.id, "running": state["Running"], "started": state["StartedAt"],
            "restarts": container.attrs["RestartCount"], "labels": container.labels}


@pytest.fixture
def the_demo() -> Any:
    """``scripts/demo.py`` as a module (``make demo`` runs it)."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        import demo
    finally:
        sys.path.remove(str(SCRIPTS))
    return demo


def test_a_deploy_under_its_name_is_refused_and_leaves_it_alone(
    a_foreign_container: Container, a_service_name: str, test_labels: dict[str, str],
    tmp_path: Path,
) -> None:
    # Given a container jupyter_deploy did not make, named like the service about to be deployed
    before = as_it_is(a_foreign_container)
    script = write_score_py(tmp_path, "raw")
    # When a service of that name is deployed
    with pytest.raises(ConfigurationError) as refused:
        jd.deploy(a_service_name, script, labels=test_labels)
    # Then the deploy says whose name it is and what to do, and the container is as it was
    assert "was not made by jupyter_deploy" in str(refused.value)
    assert "choose another service name" in str(refused.value)
    assert as_it_is(a_foreign_container) == before


def test_removing_the_service_of_its_name_leaves_it_alone(
    a_foreign_container: Container, a_service_name: str, capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a container jupyter_deploy did not make
    before = as_it_is(a_foreign_container)
    # When the service of that name is looked up and removed, in the library and the CLI
    with pytest.raises(ServiceNotFoundError):
        jd.services.get(a_service_name)
    status = main(["rm", a_service_name])
    # Then there is no such service, and the container is as it was
    assert status != 0 and "no service named" in capsys.readouterr().err
    assert as_it_is(a_foreign_container) == before


def test_the_demo_takes_another_name_when_the_default_one_is_taken(
    a_foreign_container: Container, a_service_name: str, the_demo: Any,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the demo's default name held by a container jupyter_deploy did not make
    monkeypatch.setattr(the_demo, "DEFAULT_NAME", a_service_name)
    before = as_it_is(a_foreign_container)
    # When the demo chooses its service's name
    chosen = the_demo.choose_name(None)
    # Then it takes the next name, says why, and the container is as it was
    assert chosen == f"{a_service_name}-2"
    said = capsys.readouterr().out
    assert f"{a_service_name!r} is taken by a container jupyter_deploy did not make" in said
    assert f"Deploying as {chosen!r} instead" in said
    assert as_it_is(a_foreign_container) == before


def test_the_demo_refuses_a_given_name_that_is_taken(
    a_foreign_container: Container, a_service_name: str, the_demo: Any,
) -> None:
    # Given a name the user chose for the demo, held by a container jupyter_deploy did not make
    before = as_it_is(a_foreign_container)
    # When the demo chooses its service's name, Then it stops with what to do
    with pytest.raises(SystemExit) as stopped:
        the_demo.choose_name(a_service_name)
    assert "the demo leaves it alone" in str(stopped.value)
    assert "make demo SERVICE=another-name" in str(stopped.value)
    assert as_it_is(a_foreign_container) == before
