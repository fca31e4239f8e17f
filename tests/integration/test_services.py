"""The local web service lifecycle on the real engine: launch, watch, iterate, find, score, stop.

One service is walked through the whole loop a user goes through in a notebook; the faults a
user meets (a killed container, a crashing ``init()``, an engine that went away, a bad payload)
each end in a clear error and a state that follows.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn
from samples import RIDGE_SCORE_PY, SAMPLE, write_score_py
from sklearn.linear_model import Ridge

import jupyter_deploy as jd
from jupyter_deploy.config import get_config
from jupyter_deploy.engine import images
from jupyter_deploy.engine.client import docker_client, reset_client
from jupyter_deploy.errors import (
    ConfigurationError,
    ContainerError,
    DockerUnavailableError,
    ScoringError,
)
from jupyter_deploy.services.building import default_builder


def write_model(folder: Path, coef: float) -> Path:
    X = np.random.default_rng(1).random((40, 10))
    path = folder / "model.pkl"
    path.write_bytes(pickle.dumps(Ridge(alpha=1e-6).fit(X, X.sum(axis=1) * coef)))
    return path


@pytest.fixture(scope="module")
def a_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("project")
    (folder / "v1").mkdir()
    (folder / "v2").mkdir()
    write_model(folder / "v1", 1.0)
    write_model(folder / "v2", 2.0)
    (folder / "score.py").write_text(RIDGE_SCORE_PY)
    return folder


@pytest.fixture(scope="module")
def an_environment() -> jd.Environment:
    return jd.Environment(name="svc", pip=[f"scikit-learn=={sklearn.__version__}"],
                          docker_arguments=("--cpus", "1", "-e", "FROM_ARGS=yes"))


def first_score(service: jd.Deployment) -> float:
    return float(service.score(SAMPLE).value[0])


def test_the_whole_loop(
    a_project: Path, an_environment: jd.Environment, a_service_name: str,
    test_labels: dict[str, str],
) -> None:
    # Given a deployed model
    service = jd.deploy(a_service_name, a_project / "score.py",
                        models=[jd.ModelFiles(a_project / "v1" / "model.pkl", "m", 1)],
                        environment=an_environment, labels=test_labels)
    assert service.state == "Healthy"
    port, v1 = service.port, first_score(service)
    assert v1 == pytest.approx(55.0, rel=1e-3)
    # And the environment's docker arguments were honoured, not dropped
    attrs = service.container.attrs
    assert attrs["HostConfig"]["NanoCpus"] == 1_000_000_000
    assert "FROM_ARGS=yes" in attrs["Config"]["Env"]

    # When score.py is edited and reloaded (no rebuild)
    (a_project / "score.py").write_text(RIDGE_SCORE_PY.replace("SCALE = 1", "SCALE = 10"))
    service.reload()
    # Then the new code answers on the same port
    assert first_score(service) == pytest.approx(10 * v1, rel=1e-6)
    assert service.port == port

    # When the model is updated to a new version
    v1_image = service.container.attrs["Image"]
    lines: list[str] = []
    service.update(models=[jd.ModelFiles(a_project / "v2" / "model.pkl", "m", 2)],
                   log=lines.append)
    # Then the new model answers, still on the same port, and it was built on the environment
    # image the first deploy made (no wheel sent again)
    assert first_score(service) == pytest.approx(20 * v1, rel=1e-3)
    assert service.port == port
    if default_builder() == "buildkit":
        assert any(" is built already" in line for line in lines), lines
    # And the replaced version's image went with its container (nothing else used it)
    assert not images.exists(v1_image)
    assert service.container.labels["jupyter_deploy.test"] == test_labels["jupyter_deploy.test"]

    # When another Python process looks the service up by name
    code = (f"import jupyter_deploy as jd; s = jd.services.get({a_service_name!r}); "
            f"print(s.score({json.dumps(SAMPLE)}).value[0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    # Then it scores the same
    assert float(out) == pytest.approx(20 * v1, rel=1e-3)

    # When a DataFrame is scored in batches
    frame = pd.DataFrame(np.tile(SAMPLE["data"], (25, 1)), index=range(100, 150))
    seen: list[int] = []
    result = service.score(frame, batch_size=8, concurrency=3,
                           on_progress=lambda done, total: seen.append(done))
    # Then answers come back in order, indexed like the input, with progress to the end
    table = result.to_frame()
    assert list(table.index) == list(range(100, 150))
    assert table["score"].iloc[1] == pytest.approx(table["score"].iloc[3])
    assert seen[-1] == 50

    # When the service is deleted
    service.remove()
    # Then it is gone from the engine
    assert service.state == "Deleted"
    assert a_service_name not in [s.name for s in jd.services.list()]


def test_a_crashing_init_is_failed_within_seconds(
    tmp_path: Path, a_service_name: str, test_labels: dict[str, str]
) -> None:
    script = write_score_py(tmp_path, "raw", init="raise RuntimeError('cannot load weights')")
    started = time.monotonic()
    with pytest.raises(ContainerError, match="cannot load weights") as info:
        jd.deploy(a_service_name, script, labels=test_labels)
    # Then it failed on the container's exit, long before the readiness timeout
    assert time.monotonic() - started < get_config().ready_timeout / 2
    assert "Traceback" in info.value.logs
    assert jd.services.get(a_service_name).state == "Failed"


def test_killed_from_outside_state_follows_and_scoring_says_so(
    tmp_path: Path, a_service_name: str, test_labels: dict[str, str]
) -> None:
    script = write_score_py(tmp_path, "{'echo': raw}")
    service = jd.deploy(a_service_name, script, labels=test_labels)
    # When the container is killed behind our back (like `docker kill`)
    subprocess.run(["docker", "kill", a_service_name], check=True, capture_output=True)
    # Then the state follows, and scoring says what state the service is in
    assert service.state == "Stopped"
    with pytest.raises(ScoringError, match="is Stopped"):
        service.score(SAMPLE)
    # And start() brings it back on the same port
    service.start()
    assert service.state == "Healthy"


def test_a_malformed_payload_gets_the_servers_message(
    tmp_path: Path, a_service_name: str, test_labels: dict[str, str]
) -> None:
    script = write_score_py(tmp_path, "json.loads(raw)['data']", imports="import json")
    service = jd.deploy(a_service_name, script, labels=test_labels)
    with pytest.raises(ScoringError) as info:
        service.score('{"data": [1, 2')
    # Then run()'s failure is the peer's 500, naming the exception, without the traceback
    assert info.value.status_code == 500
    assert "JSONDecodeError" in str(info.value)
    assert "Traceback" not in str(info.value)


def test_reload_with_a_broken_script_leaves_the_service_untouched(
    tmp_path: Path, a_service_name: str, test_labels: dict[str, str]
) -> None:
    script = write_score_py(tmp_path, '1')
    service = jd.deploy(a_service_name, script, labels=test_labels)
    broken = tmp_path / "broken.py"
    broken.write_text("def init():\n    pass\n")
    with pytest.raises(jd.DeployError, match=r"no run\(\)"):
        service.reload(entry_script=broken)
    assert service.score(SAMPLE).value == 1


def test_engine_gone_is_a_clear_error_and_services_are_found_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, a_service_name: str,
    test_labels: dict[str, str],
) -> None:
    script = write_score_py(tmp_path, '2')
    jd.deploy(a_service_name, script, labels=test_labels)
    # When the engine cannot be reached
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/gone.sock")
    reset_client()
    with pytest.raises(DockerUnavailableError, match="jupyter-deploy setup"):
        jd.services.list()
    # Then, once it answers again, the service is found and scores
    monkeypatch.undo()
    reset_client()
    assert jd.services.get(a_service_name).score(SAMPLE).value == 2


def test_parity_check_shows_what_differs_between_kernel_and_container(
    tmp_path: Path, a_service_name: str, test_labels: dict[str, str]
) -> None:
    # Given a run() whose answer depends on a variable only the container has
    script = tmp_path / "score.py"
    script.write_text("import json, os\n\ndef init():\n    pass\n\n"
                      "def run(raw):\n    rows = json.loads(raw)['data']\n"
                      "    return {'n': len(rows), 'where': os.environ.get('WHERE', 'kernel')}\n")
    env = jd.Environment(env_vars={"WHERE": "container"})
    service = jd.deploy(a_service_name, script, environment=env, labels=test_labels)
    # When the parity check scores the sample both ways
    report = service.parity_check(SAMPLE)
    # Then the row count agrees and the difference is named
    assert report.in_process == {"n": 2, "where": "kernel"}
    assert report.differences == ("$.where: 'kernel' != 'container'",)


def test_the_cli_drives_the_same_service(
    tmp_path: Path, a_service_name: str, test_labels: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from jupyter_deploy.cli.main import main

    # Given a service deployed from Python
    script = write_score_py(tmp_path, "'v1'")
    jd.deploy(a_service_name, script, labels=test_labels)
    # When the terminal edits, reloads, scores and stops it
    script.write_text("def init():\n    pass\n\ndef run(raw):\n    return 'v2'\n")
    assert main(["reload", a_service_name]) == 0
    assert main(["score", a_service_name, json.dumps(SAMPLE)]) == 0
    assert main(["stop", "--kill", a_service_name]) == 0
    assert main(["ls", "--json"]) == 0
    # Then each step printed what happened
    out = capsys.readouterr().out
    assert '"v2"' in out
    assert f"{a_service_name}: Stopped" in out
    listed = json.loads(out[out.rindex("\n[\n") + 1:])
    assert {"name": a_service_name, "state": "Stopped"}.items() <= next(
        r for r in listed if r["name"] == a_service_name).items()
    # And an unknown name is a one-line error, exit status 1
    assert main(["state", "no-such-service-here"]) == 1
    assert "no service named" in capsys.readouterr().err


def test_a_gpu_request_on_an_engine_without_gpus_fails_before_building(
    tmp_path: Path, a_service_name: str
) -> None:
    # Given an environment that asks for GPUs, on this engine (which has no GPU runtime)
    if "nvidia" in (docker_client().info().get("Runtimes") or {}):
        pytest.skip("this engine has a GPU runtime")
    script = write_score_py(tmp_path, '1')
    env = jd.Environment(docker_arguments=("--gpus", "all"))
    # Then the deploy stops, saying what is missing, before any image is built
    with pytest.raises(jd.DeployError, match="no GPU runtime"):
        jd.deploy(a_service_name, script, environment=env)
    assert not docker_client().images.list(name=f"jupyter-deploy/{a_service_name}")


def test_a_failed_update_rolls_back_to_the_running_version(
    tmp_path: Path, a_service_name: str, test_labels: dict[str, str]
) -> None:
    # Given a healthy service
    script = write_score_py(tmp_path, "'v1'")
    service = jd.deploy(a_service_name, script, labels=test_labels)
    port = service.port
    # When an update brings an init() that crashes
    script.write_text("def init():\n    raise OSError('weights missing')\n\n"
                      "def run(raw):\n    return 'v2'\n")
    with pytest.raises(ContainerError, match=r"previous version .* is running again") as info:
        service.update()
    # Then the error shows why, and the old version answers again on the same port
    assert "weights missing" in str(info.value)
    again = jd.services.get(a_service_name)
    again.wait_until_ready()
    assert again.port == port
    assert again.score(SAMPLE).value == "v1"

    # When a container jupyter_deploy did not make holds the name an update stages its new
    # version under
    stranger = docker_client().containers.create(
        "jupyter-deploy/python:3.11", name=f"{a_service_name}-next", labels=test_labels)
    # Then the update says so and leaves both alone: the stranger, and the service answering
    with pytest.raises(ConfigurationError, match="not made by jupyter_deploy"):
        again.update()
    stranger.reload()
    assert again.score(SAMPLE).value == "v1"
