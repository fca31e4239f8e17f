"""The swarm target on a real single-node swarm: replicas, keys, rolling updates, scale, delete.

One service goes through the whole life the issue asks for, with a client scoring in a loop
during every change and counting failures. The swarm is initialised here when the engine has none
(and left again at the end); a swarm that was already active is used as it is and kept.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import requests
from runs import RUN_ID, TEST_LABEL
from samples import write_score_py

import jupyter_deploy as jd
from jupyter_deploy.build.haproxy import REPLICA_HEADER
from jupyter_deploy.engine.client import docker_client
from jupyter_deploy.errors import ConfigurationError, ContainerError
from jupyter_deploy.spec.cluster import ClusterConfig
from jupyter_deploy.targets.swarm import LABEL_OWNER, SwarmTarget

ROWS = {"data": [[1, 2], [3, 4]]}


class ScoringLoop:
    """A client scoring through the load balancer in a thread, keeping every answer.

    Each failure is kept with the step the test was at (``phase``) and when, so a failure names
    the change it came with.
    """

    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key
        self.phase = "steady"
        self._start = time.monotonic()
        self.answers: list[float] = []
        self.failures: list[str] = []
        self.replicas: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ScoringLoop:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.key}"
        while not self._stop.is_set():
            try:
                r = session.post(self.url, json=ROWS, timeout=10)
            except requests.RequestException as e:
                self._fail(repr(e))
                continue
            if r.status_code != 200:
                self._fail(f"{r.status_code} {r.text[:200]}")
            else:
                self.answers.append(r.json())
                self.replicas.add(r.headers.get(REPLICA_HEADER, "?"))
            time.sleep(0.02)

    def _fail(self, what: str) -> None:
        self.failures.append(f"{self.phase} +{time.monotonic() - self._start:.1f}s: {what}")


def _made_for(name: str) -> dict[str, list[str]]:
    """Every engine object the deployment of ``name`` made and still exists."""
    client = docker_client()
    owned = {"label": f"{LABEL_OWNER}={name}"}
    return {
        "services": [s.name for s in client.services.list() if s.name == name],
        "secrets": [s.name for s in client.secrets.list(filters=owned)],
        "networks": [n.name for n in client.networks.list(filters=owned)],
        "containers": [c["Names"][0] for c in client.api.containers(all=True, filters=owned)]
        + [c["Names"][0] for c in client.api.containers(
            all=True, filters={"label": f"com.docker.swarm.service.name={name}"})],
    }


def test_a_swarm_service_lives_its_whole_life_without_a_failed_request(
    a_swarm: None, tmp_path: Path, a_service_name: str, test_labels: dict[str, str]
) -> None:
    # Given a model deployed to swarm with 2 replicas and auth on
    config = ClusterConfig(replicas=2, auth_enabled=True)
    service = jd.deploy(a_service_name, write_score_py(tmp_path, "1.0"), labels=test_labels,
                        target=SwarmTarget(), deployment_config=config)
    assert service.state == "Healthy" and service.replicas == (2, 2)
    primary, secondary = service.get_keys()
    assert primary and secondary and primary != secondary
    # And the keys are nowhere but in the secrets: not in labels, environment, inspect or logs
    inspected = json.dumps([service.instance.attrs, [t for t in service.instance.tasks()],
                            docker_client().api.inspect_container(f"jd-lb-{a_service_name}")])
    for key in (primary, secondary):
        assert key not in inspected and key not in service.logs()

    # Then it answers 401 without a key, and with either key
    assert requests.post(service.scoring_uri, json=ROWS, timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer not-the-key"}
    assert requests.post(service.scoring_uri, json=ROWS, headers=wrong,
                         timeout=10).status_code == 401
    for key in (primary, secondary):
        r = requests.post(service.scoring_uri, json=ROWS,
                          headers={"Authorization": f"Bearer {key}"}, timeout=10)
        assert r.status_code == 200 and r.json() == pytest.approx(1.0)
    assert service.score(ROWS).value == pytest.approx(1.0)  # the handle sends its key itself

    # And it listens on 127.0.0.1 only: the load balancer's one binding, no swarm-published port
    lb = docker_client().containers.get(f"jd-lb-{a_service_name}")
    bindings = [b for bs in lb.attrs["HostConfig"]["PortBindings"].values() for b in bs]
    assert {b["HostIp"] for b in bindings} == {"127.0.0.1"}
    assert not service.instance.attrs.get("Endpoint", {}).get("Ports")

    with ScoringLoop(service.scoring_uri, secondary) as loop:
        # And both replicas answer: the load balancer names the replica behind each answer
        deadline = time.monotonic() + 20
        while len(loop.replicas) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(loop.replicas) == 2, loop.replicas
        # And the merged log names each replica
        logs = service.logs()
        assert {f"{a_service_name}.1 |", f"{a_service_name}.2 |"} <= {
            line.split(" ", 2)[0] + " |" for line in logs.splitlines()}

        # When a good update rolls out while the client scores
        loop.phase = "update"
        service.update(entry_script=write_score_py(tmp_path, "2.0"))
        # Then it answers the new version
        assert service.score(ROWS).value == pytest.approx(2.0)

        # When a bad update (init() crashes) rolls out
        broken = write_score_py(tmp_path, "3.0", init="raise RuntimeError('bad weights')")
        loop.phase = "bad update"
        with pytest.raises(ContainerError, match="rolled back"):
            service.update(entry_script=broken)
        # Then swarm rolled it back and the previous version answers
        assert service.score(ROWS).value == pytest.approx(2.0)

        # When the primary key is renewed (the loop uses the secondary one)
        loop.phase = "regen key"
        service.regen_key("Primary")
        new_primary, same_secondary = service.get_keys()
        assert new_primary != primary and same_secondary == secondary
        old = requests.post(service.scoring_uri, json=ROWS,
                            headers={"Authorization": f"Bearer {primary}"}, timeout=10)
        assert old.status_code == 401

        # When it scales 2 -> 3 -> 1
        for count in (3, 1):
            loop.phase = f"scale to {count}"
            service.scale(count)
            service.wait_until_ready()
            assert service.replicas == (count, count)
        time.sleep(0.5)
    # Then the client, using the secondary key all along, saw no failed request
    assert loop.failures == [], (loop.failures[:5], lb.logs(tail=20).decode())
    assert all(min(abs(a - 1.0), abs(a - 2.0)) < 1e-9 for a in loop.answers)
    assert len(loop.answers) > 50

    # When it is deleted, nothing it made is left
    service.remove()
    deadline = time.monotonic() + 20
    while any(_made_for(a_service_name).values()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _made_for(a_service_name) == {
        "services": [], "secrets": [], "networks": [], "containers": []}


def test_the_seeds_cli_deploys_to_swarm_from_a_deployment_config(
    a_swarm: None, tmp_path: Path, a_service_name: str, test_labels: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from jupyter_deploy.cli.main import main

    # Given the seeds' inference config and an AKS deployment config (2 replicas, auth off)
    write_score_py(tmp_path, "[7.0]")
    (tmp_path / "ic.json").write_text(json.dumps({"entryScript": "score.py"}))
    (tmp_path / "dc.json").write_text(json.dumps(
        {"computeType": "aks", "numReplicas": 2, "authEnabled": False}))
    label = [f"{TEST_LABEL}={RUN_ID}"]
    workspace = ["-w", str(tmp_path / "ws")]
    # When `model deploy … --dc dc.json --ct swarm` runs
    assert main(["model", "deploy", "-n", a_service_name, "--ic", str(tmp_path / "ic.json"),
                 "--dc", str(tmp_path / "dc.json"), "--ct", "swarm", "-l", *label,
                 *workspace]) == 0
    # Then it runs on swarm with both replicas healthy, and scores without a key
    assert "(swarm, 2/2 replicas healthy)" in capsys.readouterr().out
    assert main(["score", a_service_name, json.dumps(ROWS)]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0]) == [7.0]
    # And asking for keys of a service without auth is its own clear error
    assert main(["keys", a_service_name]) == 1
    assert "auth off" in capsys.readouterr().err
    assert main(["regen-key", a_service_name, "--key", "Primary"]) == 1
    assert "auth off" in capsys.readouterr().err
    # And replicas below one are refused, one is fine
    assert main(["scale", a_service_name, "0"]) == 1
    assert "1 or more" in capsys.readouterr().err
    assert main(["scale", a_service_name, "1"]) == 0
    assert "1/1 replicas healthy" in capsys.readouterr().out
    # And `ls` shows the target and the replicas; `rm` removes it all
    assert main(["ls"]) == 0
    row = [r for r in capsys.readouterr().out.splitlines() if r.startswith(a_service_name)]
    assert row and row[0].split("\t")[4:] == ["swarm", "1/1"]
    assert main(["rm", a_service_name]) == 0
    assert _made_for(a_service_name)["services"] == []


def test_the_seeds_sdk_deploys_to_swarm_with_keys(
    a_swarm: None, tmp_path: Path, a_service_name: str, test_labels: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from jupyter_deploy.azureml.core import ComputeTarget, InferenceConfig, Model, Workspace
    from jupyter_deploy.azureml.core.webservice import AksWebservice
    from jupyter_deploy.cli.main import main

    ws = Workspace(path=tmp_path / "ws")
    ws.labels = dict(test_labels)
    script = write_score_py(tmp_path, "[1.5]")
    # Given the swarm attached to the workspace (swarm mode is already on: nothing changes)
    assert main(["compute", "attach", "swarm", "-w", str(ws.root)]) == 0
    assert main(["compute", "ls", "-w", str(ws.root)]) == 0
    target = ComputeTarget(ws, "swarm")
    assert target.type == "swarm"
    assert [t.name for t in ComputeTarget.list(ws)] == ["local", "swarm"]
    assert "Docker Swarm" in capsys.readouterr().out
    # Given SDK code asking for autoscale on swarm: refused, pointing at num_replicas
    with pytest.raises(ConfigurationError, match="num_replicas"):
        Model.deploy(ws, a_service_name, [], InferenceConfig(entry_script=str(script)),
                     AksWebservice.deploy_configuration(autoscale_enabled=True),
                     deployment_target=target)
    # When the seeds' code deploys with 2 replicas and auth on
    config = AksWebservice.deploy_configuration(num_replicas=2, auth_enabled=True,
                                                cpu_cores=0.2, memory_gb=0.25)
    service = Model.deploy(ws, a_service_name, [], InferenceConfig(entry_script=str(script)),
                           config, deployment_target=target)
    service.wait_for_deployment(show_output=False)
    # Then it answers through the SDK's calls, with keys the SDK reads
    assert service.state == "Healthy" and service.num_replicas == 2
    primary, secondary = service.get_keys()
    assert service.run(json.dumps(ROWS)) == [1.5]
    assert secondary != "my-own-secondary-key"
    r = requests.post(service.scoring_uri, json=ROWS, timeout=10)
    assert r.status_code == 401
    # When score.py is edited and the service reloaded (a rolling update on swarm)
    write_score_py(tmp_path, "[2.5]")
    service.reload()
    assert service.run(json.dumps(ROWS)) == [2.5]
    # When the secondary key is renewed to a value of the caller's choosing
    service.regen_key("Secondary", set_key="my-own-secondary-key")
    assert service.get_keys() == (primary, "my-own-secondary-key")
    # When it is scaled through update() and deleted
    service.update(num_replicas=1)
    service.delete()
    assert not any(_made_for(a_service_name).values())
