"""Cluster services from the notebook: ``%deploy … --ct swarm --replicas N --auth`` and
``%deploy_ls``'s target, replicas and key columns, through a real IPython shell over the
recording fakes (the real-engine run of the same line is in
tests/integration/test_serverext_services.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from test_magics_fakes import FakeCore, FakeService, FakeTarget, usage_error, value_of

from jupyter_deploy.spec.cluster import ClusterConfig
from jupyter_deploy.spec.record import LABEL_CLUSTER
from jupyter_deploy.targets.swarm import SwarmTarget

PRIMARY = "primary-fake"


class FakeSwarm(FakeTarget):
    """An in-memory cluster target: 3 replicas asked for, 2 of them healthy."""

    kind = "swarm"

    def replica_counts(self, instance: object) -> tuple[int, int]:
        return 2, 3


class FakeLocal(FakeTarget):
    """The in-memory target under the local target's name (one replica, no keys)."""

    kind = "local"


def a_local_service(name: str, port: int) -> FakeService:
    """A real Deployment on the fake local target."""
    return FakeService(name, target=FakeLocal(), port=port)


def a_cluster_service(name: str, auth: bool = True) -> FakeService:
    """A real Deployment on the fake cluster target, deployed with (or without) keys."""
    service = FakeService(name, target=FakeSwarm(), port=8971)
    service.instance.labels[LABEL_CLUSTER] = json.dumps({"authEnabled": auth})
    return service


def test_deploy_to_swarm_with_replicas_and_keys(
    a_shell: InteractiveShell, a_core: FakeCore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a notebook in a folder of its own (the workspace's compute targets are read here)
    monkeypatch.chdir(tmp_path)
    # When a service is deployed to swarm with 3 replicas and keys
    shown = value_of(a_shell, "%deploy cl-svc --entry score.py --ct swarm --replicas 3 --auth")
    # Then the core got the swarm target configured with exactly that
    target = a_core.deploy_calls[-1]["target"]
    assert isinstance(target, SwarmTarget)
    assert target.config == ClusterConfig(replicas=3, auth_enabled=True)
    # And the cell says where it answers and on which target, and binds the handle
    assert "on swarm (" in str(shown) and "Bound to `cl_svc`" in str(shown)
    assert a_shell.user_ns["cl_svc"] is a_core.services["cl-svc"]


def test_replicas_on_the_local_target_are_refused_by_name(
    a_shell: InteractiveShell, a_core: FakeCore, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    message = usage_error(a_shell, "%deploy svc --entry score.py --replicas 2", capsys)
    assert "replicas" in message and not a_core.deploy_calls


def test_zero_replicas_are_refused_before_anything_runs(
    a_shell: InteractiveShell, a_core: FakeCore, capsys: pytest.CaptureFixture[str]
) -> None:
    message = usage_error(a_shell, "%deploy svc --ct swarm --replicas 0", capsys)
    assert "--replicas must be 1 or more" in message and not a_core.deploy_calls


def test_the_list_shows_target_replicas_and_keys_never_the_key(
    a_shell: InteractiveShell, a_core: FakeCore
) -> None:
    # Given a local service and a swarm service with keys
    a_core.services["loc"] = a_local_service("loc", 8970)
    a_core.services["cl"] = a_cluster_service("cl")
    # When the services are listed
    listing = value_of(a_shell, "%deploy_ls")
    rows = {row[0]: dict(zip(listing.columns, row, strict=True)) for row in listing.rows}
    # Then each row names its target, healthy/desired replicas and whether a key is needed
    assert rows["cl"]["target"] == "swarm" and rows["cl"]["replicas"] == "2/3"
    assert rows["cl"]["auth"] == "key" and rows["loc"]["auth"] == ""
    assert rows["loc"]["target"] == "local" and rows["loc"]["replicas"] == "1/1"
    # And the table, in text and HTML, never holds a key (nor asked for one)
    assert PRIMARY not in str(listing) + listing._repr_html_()
    assert ("get_keys", None) not in a_core.services["cl"].calls
