"""The foundation's promise, on the real engine: a model goes into an image, runs, and scores.

Also the first faults a user meets — no engine, a taken port, a script without ``run()``, a
package that does not exist, an ``init()`` that crashes — each as our own clear error.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import sklearn
from samples import RIDGE_SCORE_PY, SAMPLE, write_score_py
from sklearn.linear_model import Ridge

import jupyter_deploy as jd
from jupyter_deploy.config import get_config
from jupyter_deploy.engine.client import docker_client, reset_client
from jupyter_deploy.errors import (
    ContainerError,
    DependencyError,
    DockerUnavailableError,
    EntryScriptError,
    PortInUseError,
)


@pytest.fixture(scope="module")
def a_model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    X = np.random.default_rng(0).random((50, 10))
    model = Ridge().fit(X, X @ np.arange(10))
    (folder / "model.pkl").write_bytes(pickle.dumps(model))
    (folder / "score.py").write_text(RIDGE_SCORE_PY)
    return folder


@pytest.fixture(scope="module")
def a_sklearn_env() -> jd.Environment:
    return jd.Environment(name="sk", pip=[f"scikit-learn=={sklearn.__version__}"])


def test_deploy_and_score_the_seed_sample(
    a_model_folder: Path, a_sklearn_env: jd.Environment, a_service_name: str,
    test_labels: dict[str, str],
) -> None:
    # Given a trained model and its score.py
    # When it is deployed through the library
    service = jd.deploy(a_service_name, a_model_folder / "score.py",
                        models=[a_model_folder / "model.pkl"], environment=a_sklearn_env,
                        labels=test_labels)
    # Then the seeds' two-row sample gets two scores back
    result = service.score(SAMPLE)
    assert len(result.value) == 2
    expected = pickle.loads((a_model_folder / "model.pkl").read_bytes()).predict(
        np.array(SAMPLE["data"]))
    assert result.value == pytest.approx(expected.tolist())
    # And the container is ours, published on loopback only, and found again by name
    ports = service.container.attrs["HostConfig"]["PortBindings"]["5001/tcp"]
    assert [p["HostIp"] for p in ports] == ["127.0.0.1"]
    assert service.container.labels["jupyter_deploy.managed"] == "true"
    assert jd.services.get(a_service_name).scoring_uri == service.scoring_uri
    # And the image carries the test label, so teardown removes it
    selector = ",".join(f"{k}={v}" for k, v in test_labels.items())
    assert docker_client().images.list(filters={"label": selector})


def test_a_taken_port_names_its_holder(
    a_model_folder: Path, a_sklearn_env: jd.Environment, a_service_name: str,
    a_taken_port: int, test_labels: dict[str, str],
) -> None:
    with pytest.raises(PortInUseError, match=f"port {a_taken_port} .* taken by process"):
        jd.deploy(a_service_name, a_model_folder / "score.py",
                  models=[a_model_folder / "model.pkl"], environment=a_sklearn_env,
                  port=a_taken_port, labels=test_labels)


def test_a_script_without_run_fails_before_any_build(
    tmp_path: Path, a_service_name: str
) -> None:
    script = tmp_path / "score.py"
    script.write_text("def init():\n    pass\n")
    with pytest.raises(EntryScriptError, match=r"no run\(\)"):
        jd.deploy(a_service_name, script)


def test_a_package_that_does_not_exist_is_named(tmp_path: Path, a_service_name: str) -> None:
    script = write_score_py(tmp_path, 'raw')
    env = jd.Environment(pip=["jupyter-deploy-no-such-package-xyz==1.0"])
    with pytest.raises(DependencyError, match="jupyter-deploy-no-such-package-xyz"):
        jd.deploy(a_service_name, script, environment=env)


def test_a_crashing_init_surfaces_its_traceback(
    tmp_path: Path, a_service_name: str, test_labels: dict[str, str]
) -> None:
    script = write_score_py(tmp_path, "raw", init="raise ValueError('model file is corrupt')")
    with pytest.raises(ContainerError, match="model file is corrupt") as info:
        jd.deploy(a_service_name, script, labels=test_labels)
    assert "Traceback" in info.value.logs


def test_no_engine_says_how_to_start_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, a_service_name: str
) -> None:
    # Given an engine address where nothing listens
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nothing.sock")
    reset_client()
    script = write_score_py(tmp_path, 'raw')
    try:
        # Then deploying fails at once with what to do next
        with pytest.raises(DockerUnavailableError, match="jupyter-deploy setup"):
            jd.deploy(a_service_name, script)
    finally:
        monkeypatch.undo()
        reset_client()
    assert get_config().host_interface == "127.0.0.1"
