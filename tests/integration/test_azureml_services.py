"""The SDK's service handle over the native Deployment: run, reload, update, logs, delete."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from jupyter_deploy.azureml.core import Workspace
from jupyter_deploy.azureml.core.conda_dependencies import CondaDependencies
from jupyter_deploy.azureml.core.environment import Environment
from jupyter_deploy.azureml.core.model import InferenceConfig, Model
from jupyter_deploy.azureml.core.webservice import LocalWebservice, Webservice
from jupyter_deploy.errors import ServiceNotFoundError

SCORE_PY = '''import json
import os

import joblib
import numpy as np


def init():
    global model
    model = joblib.load(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model.pkl"))


def run(raw_data):
    return (model.predict(np.array(json.loads(raw_data)["data"])) * {scale}).tolist()
'''
SAMPLE = json.dumps({"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]]})


@pytest.fixture
def a_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from joblib import dump
    from sklearn.linear_model import Ridge

    features = np.arange(100, dtype=float).reshape(10, 10)
    dump(Ridge().fit(features, features.sum(axis=1)), tmp_path / "model.pkl")
    (tmp_path / "score.py").write_text(SCORE_PY.format(scale=1))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_local_webservice_lives_through_the_sdk_calls(
    a_project: Path, test_labels: dict[str, str], a_service_name: str,
    capsys: pytest.CaptureFixture[str],
):
    # Given a registered model and an environment with pinned packages
    ws = Workspace(path=a_project / "ws")
    ws.labels = dict(test_labels)
    model = Model.register(ws, "model.pkl", "ridge")
    env = Environment("svc-env")
    env.python.conda_dependencies = CondaDependencies.create(
        pip_packages=["scikit-learn==1.9.1", "joblib==1.6.0"])
    config = InferenceConfig(entry_script="score.py", environment=env)
    # When it is deployed as a local web service
    service = Model.deploy(ws, a_service_name, [model], config,
                           LocalWebservice.deploy_configuration())
    try:
        service.wait_for_deployment(show_output=True)
        # Then it is healthy, printed its scoring URI and scores the two rows
        assert service.state == "Healthy"
        assert f"running at {service.scoring_uri}" in capsys.readouterr().out
        first = service.run(SAMPLE)
        assert len(first) == 2
        # When score.py changes and the service reloads
        (a_project / "score.py").write_text(SCORE_PY.format(scale=2))
        service.reload()
        # Then the new code answers, on the same port, found again by name
        again = Webservice(ws, a_service_name)
        assert again.port == service.port
        assert again.run(SAMPLE) == pytest.approx([2 * v for v in first])
        # When the model is updated through update()
        (a_project / "score.py").write_text(SCORE_PY.format(scale=3))
        service.update(inference_config=config, models=[model])
        assert service.run(SAMPLE) == pytest.approx([3 * v for v in first])
        assert service.get_logs()
    finally:
        service.delete()
    # Then it is gone
    with pytest.raises(ServiceNotFoundError):
        Webservice(ws, a_service_name)


def test_a_named_package_lands_under_its_name_and_label(
    a_project: Path, test_labels: dict[str, str], capsys: pytest.CaptureFixture[str]
):
    # Given a registered model and an inference configuration
    ws = Workspace(path=a_project / "ws")
    ws.labels = dict(test_labels)
    model = Model.register(ws, "model.pkl", "ridge")
    env = Environment("named-env")
    env.python.conda_dependencies = CondaDependencies.create(
        pip_packages=["scikit-learn==1.9.1", "joblib==1.6.0"])
    config = InferenceConfig(entry_script="score.py", environment=env)
    label = f"v{a_project.name[-6:]}"
    # When it is packaged with an image name and label, then pulled
    package = Model.package(ws, [model], config, image_name="myimage", image_label=label)
    package.wait_for_creation(show_output=True)
    package.pull()
    # Then the build streamed, and the pulled image carries that name
    out = capsys.readouterr().out
    assert "Step 1/" in out
    assert out.strip().endswith(f"Status: Downloaded newer image for {ws.registry}/myimage:{label}")
    assert package.location == f"{ws.registry}/myimage:{label}"
