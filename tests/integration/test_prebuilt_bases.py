"""The seeds' prebuilt inference images, made offline, on the real engine.

Code written for the SDK names ``mcr.microsoft.com/azureml/onnxruntime:latest`` as its base image;
no public registry answers here, so the catalogue's ONNX Runtime image (built from Debian
packages and PyPI wheels, once per machine and then reused by every run) stands in for it, and
an ONNX model deploys with no network — with no score.py (the graph describes itself), and with a
small score.py that relies on the image's own ONNX Runtime. Each answer equals ONNX Runtime's in
this process. Images that cannot be had, and the CUDA image on an engine without a GPU, are
refused before anything is built.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ports import an_unused_port
from test_seeds import run_snippet, snippets

import jupyter_deploy as jd
from jupyter_deploy.azureml.core import Workspace
from jupyter_deploy.azureml.core.environment import Environment as SdkEnvironment
from jupyter_deploy.azureml.core.model import InferenceConfig, Model
from jupyter_deploy.azureml.core.webservice import LocalWebservice
from jupyter_deploy.cli.main import main as cli
from jupyter_deploy.engine import prebuilt
from jupyter_deploy.engine.client import docker_client
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.spec.base_catalog import entry

onnxruntime = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")

ORT = "mcr.microsoft.com/azureml/onnxruntime"
#: The seeds' sample client's two rows.
SAMPLE = {"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]]}
SCORE_PY = '''\
import json
import os

import numpy as np
import onnxruntime  # not in the environment: the base image has it


def init():
    global session
    folder = os.environ["AZUREML_MODEL_DIR"]
    session = onnxruntime.InferenceSession(os.path.join(folder, "ridge.onnx"),
                                           providers=["CPUExecutionProvider"])


def run(raw):
    rows = np.asarray(json.loads(raw)["data"], dtype=np.float32)
    name = session.get_inputs()[0].name
    return {"prediction": session.run(None, {name: rows})[0].ravel().tolist(),
            "onnxruntime": onnxruntime.__version__}
'''


@pytest.fixture(scope="module")
def an_onnx_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 10-feature Ridge regression (the seeds' model), converted to ONNX with skl2onnx."""
    from sklearn.linear_model import Ridge

    features = np.random.default_rng(3).random((50, 10))
    ridge = Ridge(alpha=0.5).fit(features, features @ np.arange(1, 11))
    folder = tmp_path_factory.mktemp("onnx-model")
    path = folder / "ridge.onnx"
    path.write_bytes(skl2onnx.to_onnx(ridge, features[:1].astype(np.float32))
                     .SerializeToString())
    return path


def in_process(path: Path, rows: list[list[float]]) -> list[float]:
    """What ONNX Runtime answers in this process."""
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run(None, {name: np.asarray(rows, np.float32)})[0].ravel().tolist()


@pytest.fixture(scope="module")
def a_workspace(tmp_path_factory: pytest.TempPathFactory, test_labels: dict[str, str]
                ) -> Workspace:
    workspace = Workspace(path=tmp_path_factory.mktemp("workspace"))
    workspace.labels = dict(test_labels)
    return workspace


@pytest.fixture
def in_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current folder (generated scripts go below it)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_seed_code_with_the_onnxruntime_base_deploys_an_onnx_model(
    a_workspace: Workspace, an_onnx_model: Path, a_service_name: str, in_a_folder: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the seeds' environment code, naming their ONNX Runtime image, and a registered model
    myenv = SdkEnvironment(name="myenv")
    myenv.docker.enabled = True
    myenv.docker.base_image = f"{ORT}:latest"
    model = Model.register(a_workspace, str(an_onnx_model), "ridge-onnx")
    # When it is deployed with an inference configuration that names no entry script
    inference_config = InferenceConfig(environment=myenv)
    deployment_config = LocalWebservice.deploy_configuration(port=an_unused_port())
    service = Model.deploy(a_workspace, a_service_name, [model], inference_config,
                           deployment_config)
    try:
        service.wait_for_deployment(show_output=True)
        printed = capsys.readouterr().out
        answer = service.run(json.dumps(SAMPLE))
        image = service.deployment.container.image
    finally:
        service.delete()
    # Then one line says which image stood in for the seeds' one
    ours = prebuilt.status(entry("onnxruntime"))
    notices = [line for line in printed.splitlines() if "cannot be pulled here" in line]
    assert len(notices) == 1 and f"{ORT}:latest" in notices[0] and ours.tag in notices[0]
    # And the service answers what ONNX Runtime answers here (float32, within 1e-5)
    got = np.asarray(answer["variable"], dtype=float).ravel()
    assert np.allclose(got, in_process(an_onnx_model, SAMPLE["data"]), rtol=1e-5, atol=1e-5)
    # And the image is built on ours, whose ONNX Runtime and numpy it did not install again
    base = docker_client().images.get(ours.tag)
    layers = base.attrs["RootFS"]["Layers"]
    assert image.attrs["RootFS"]["Layers"][:len(layers)] == layers
    added = int(image.attrs["Size"]) - int(base.attrs["Size"])
    assert added < 40e6, f"the package added {added / 1e6:.0f} MB on the ONNX Runtime base"


def test_the_seeds_miniconda_environment_deploys_on_the_minimal_base(
    a_workspace: Workspace, an_onnx_model: Path, a_service_name: str, in_a_folder: Path,
) -> None:
    # Given the seeds' own environment code, as written (it names their miniconda image)
    namespace: dict[str, Any] = {}
    run_snippet(snippets("000")[0], namespace, {})
    myenv = namespace["myenv"]
    assert myenv.docker.base_image.endswith("o16n-sample-user-base/ubuntu-miniconda:latest")
    # When a model that describes itself is deployed in it
    model = Model.register(a_workspace, str(an_onnx_model), "ridge-onnx-minimal")
    service = Model.deploy(a_workspace, a_service_name, [model], InferenceConfig(environment=myenv),
                           LocalWebservice.deploy_configuration(port=an_unused_port()))
    try:
        service.wait_for_deployment()
        answer = service.run(json.dumps(SAMPLE))
        base = prebuilt.status(entry("minimal"))
        layers = docker_client().images.get(base.tag).attrs["RootFS"]["Layers"]
        image = service.deployment.container.image
    finally:
        service.delete()
    # Then it was built on the minimal base, and answers as ONNX Runtime does here
    assert image.attrs["RootFS"]["Layers"][:len(layers)] == layers
    got = np.asarray(answer["variable"], dtype=float).ravel()
    assert np.allclose(got, in_process(an_onnx_model, SAMPLE["data"]), rtol=1e-5, atol=1e-5)


def test_a_small_score_py_uses_the_bases_onnx_runtime(
    an_onnx_model: Path, in_a_folder: Path, test_labels: dict[str, str], a_service_name: str,
) -> None:
    # Given a score.py that imports onnxruntime, and an environment that does not list it
    script = in_a_folder / "score.py"
    script.write_text(SCORE_PY)
    env = jd.Environment(name="ort", base_image=f"{ORT}:latest")
    assert not any("onnxruntime" in line for line in env.pip)
    # When it is deployed on the seeds' ONNX Runtime image
    service = jd.deploy(a_service_name, script, [an_onnx_model], env, labels=test_labels)
    try:
        answer = service.score(SAMPLE).value
    finally:
        service.remove()
    # Then the image's own ONNX Runtime (the kernel's version) answers as it does here
    assert answer["onnxruntime"] == onnxruntime.__version__
    assert np.allclose(answer["prediction"], in_process(an_onnx_model, SAMPLE["data"]),
                       rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("tag", "words"), [
    ("latest-tensorrt", "TensorRT"), ("latest-openvino-vadm", "Movidius"),
    ("latest-cuda", "NVIDIA GPU")])
def test_what_cannot_run_here_is_refused_before_any_build(
    tag: str, words: str, an_onnx_model: Path, in_a_folder: Path,
    test_labels: dict[str, str], a_service_name: str,
) -> None:
    if tag == "latest-cuda" and prebuilt.no_gpu_reason(prebuilt.engine_info()) is None:
        pytest.skip("this engine gives containers a GPU: the CUDA image is not refused")
    # Given an environment naming one of the seeds' images that cannot run on this engine
    env = jd.Environment(base_image=f"{ORT}:{tag}")
    lines: list[str] = []
    started = time.monotonic()
    # When a model is deployed on it, Then it is refused with what to use instead, at once
    with pytest.raises(ConfigurationError, match=words) as refused:
        jd.deploy(a_service_name, models=[an_onnx_model], environment=env, labels=test_labels,
                  log=lines.append)
    assert f"Use {ORT}:latest" in str(refused.value)
    assert time.monotonic() - started < 20
    # And nothing was built or started
    assert not any(line.startswith(("Building", "Downloading")) for line in lines)
    assert not docker_client().containers.list(all=True, filters={"name": a_service_name})


def test_the_cli_lists_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the ONNX Runtime base (built by the tests above, or reused from an earlier run)
    prebuilt.ensure(entry("onnxruntime"))
    # When the catalogue is listed, as JSON and as text
    assert cli(["base-images", "ls", "--json"]) == 0
    rows: dict[str, dict[str, Any]] = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert cli(["base-images", "ls"]) == 0
    text = capsys.readouterr().out
    # Then each entry says what it is, what it stands for, whether it is built and its size
    assert set(rows) == {"minimal", "onnxruntime", "onnxruntime-cuda"}
    ort = rows["onnxruntime"]
    assert ort["built"] is True and ort["stands_for"] == [f"{ORT}:latest"]
    assert f"onnxruntime=={onnxruntime.__version__}" in ort["packages"].split()
    assert 100e6 < ort["size_bytes"] < 1e9 and ort["size"].endswith("MB")
    assert rows["onnxruntime-cuda"]["gpu"] is True
    assert f"{ORT}:latest-tensorrt" in text and "onnxruntime-cuda" in text

