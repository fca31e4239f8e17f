"""Models without a score.py on the real engine: an MLflow folder, ONNX files, an estimator.

Each model is made here, offline: a scikit-learn classifier saved by ``mlflow.sklearn.save_model``
(with its signature and input example, its requirements inferred by MLflow itself), the same
classifier converted by ``skl2onnx``, the example model shipped inside the ``onnxruntime`` wheel,
and a regression pipeline that is only a variable. Each is deployed with no entry script — by
``jd.deploy``, by the SDK's ``Model.deploy`` with an ``InferenceConfig`` that names none — and each
answer equals what the model predicts in this process (numbers within a tolerance). Bad inputs
fail before any image is built, each with its own message.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests
from runs import TEST_LABEL
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import jupyter_deploy as jd
from jupyter_deploy.azureml.core.model import InferenceConfig, Model
from jupyter_deploy.config import LABEL_PREFIX
from jupyter_deploy.engine.client import docker_client
from jupyter_deploy.errors import ConfigurationError, DependencyError

mlflow_sklearn = pytest.importorskip("mlflow.sklearn")
onnxruntime = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")

IRIS_X, IRIS_Y = load_iris(return_X_y=True, as_frame=True)
ROWS = IRIS_X.iloc[[0, 55, 110, 149]]


@pytest.fixture(scope="module")
def a_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the models are saved, and the current folder (generated scripts go below it)."""
    folder = tmp_path_factory.mktemp("no-code")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        yield folder


@pytest.fixture(scope="module")
def a_classifier() -> LogisticRegression:
    return LogisticRegression(max_iter=500).fit(IRIS_X, IRIS_Y)


@pytest.fixture(scope="module")
def an_mlflow_folder(a_folder: Path, a_classifier: LogisticRegression) -> Path:
    from mlflow.models import infer_signature

    folder = a_folder / "iris_mlflow"
    mlflow_sklearn.save_model(a_classifier, folder, input_example=IRIS_X[:3],
                              signature=infer_signature(IRIS_X, a_classifier.predict(IRIS_X)))
    return folder


@pytest.fixture(scope="module")
def an_onnx_file(a_folder: Path, a_classifier: LogisticRegression) -> Path:
    path = a_folder / "iris.onnx"
    path.write_bytes(skl2onnx.to_onnx(a_classifier, ROWS.to_numpy(np.float32))
                     .SerializeToString())
    return path


def removed_after(service: jd.Deployment) -> Iterator[jd.Deployment]:
    try:
        yield service
    finally:
        service.remove()


@pytest.fixture(scope="module")
def an_mlflow_service(an_mlflow_folder: Path, test_labels: dict[str, str]
                      ) -> Iterator[jd.Deployment]:
    name = f"jdtest-{test_labels[TEST_LABEL]}-mlflow"
    yield from removed_after(jd.deploy(name, models=[an_mlflow_folder], labels=test_labels))


def test_an_mlflow_folder_answers_like_the_model(
    an_mlflow_service: jd.Deployment, a_classifier: LogisticRegression,
) -> None:
    # Given the service of an MLflow folder (no score.py was written by hand)
    expected = a_classifier.predict(ROWS).tolist()
    # Then rows, and records by column name, answer what the model predicts here
    assert an_mlflow_service.score(ROWS).value == expected
    assert an_mlflow_service.score({"data": ROWS.to_dict(orient="records")}).value == expected
    # And the parity check (the generated script in this process) agrees
    assert an_mlflow_service.parity_check(ROWS).equal
    # And the swagger document shows the model's input example as its sample
    doc = requests.get(an_mlflow_service.swagger_uri, timeout=10).json()
    assert doc["definitions"]["ServiceInput"]["example"] == {
        "data": IRIS_X[:3].to_dict(orient="records")}
    # And the image has mlflow-skinny, not the whole of MLflow
    pip = an_mlflow_service.record.spec.environment.pip  # type: ignore[union-attr]
    assert any(p.startswith("mlflow-skinny==") for p in pip)
    assert not any(p.startswith("mlflow==") for p in pip)


def test_a_missing_column_is_the_answer_not_a_crash(an_mlflow_service: jd.Deployment) -> None:
    answer = requests.post(an_mlflow_service.scoring_uri, timeout=10,
                           json={"data": [{"sepal length (cm)": 1.0}]})
    assert answer.status_code == 500 and "columns missing" in answer.json()["message"]
    assert an_mlflow_service.state == "Healthy"


def test_a_converted_onnx_model_deploys_through_the_sdk(
    an_onnx_file: Path, a_classifier: LogisticRegression, a_folder: Path,
    test_labels: dict[str, str],
) -> None:
    # Given the same classifier as ONNX, registered in a workspace
    ws = jd.Workspace(a_folder / "ws", labels=test_labels)
    model = Model.register(ws, str(an_onnx_file), "iris-onnx")
    # When it is deployed with an inference configuration that names no entry script
    name = f"jdtest-{test_labels[TEST_LABEL]}-onnx-sdk"
    service = Model.deploy(ws, name, [model], InferenceConfig())
    try:
        service.wait_for_deployment()
        answer = service.run(json.dumps({"data": ROWS.values.tolist()}))
    finally:
        service.delete()
    # Then labels and ZipMap's probabilities equal scikit-learn's (float32 within 1e-5)
    assert answer["output_label"] == a_classifier.predict(ROWS).tolist()
    probabilities = [[p[str(k)] for k in range(3)] for p in answer["output_probability"]]
    assert np.allclose(probabilities, a_classifier.predict_proba(ROWS), rtol=1e-4, atol=1e-5)


def test_the_onnx_runtime_example_model_deploys(
    a_folder: Path, test_labels: dict[str, str],
) -> None:
    from onnxruntime.datasets import get_example

    path = get_example("logreg_iris.onnx")
    rows = [[5.1, 3.5], [6.3, 2.5], [7.2, 3.6]]
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    label, probabilities = session.run(None, {"float_input": np.array(rows, np.float32)})
    name = f"jdtest-{test_labels[TEST_LABEL]}-onnx-example"
    for service in removed_after(jd.deploy(name, models=[path], labels=test_labels)):
        # Rows feed the single input; a dict feeds it by name; both answer as in this process
        for data in (rows, {"data": {"float_input": rows}}):
            answer = service.score(data).value
            assert answer["label"] == label.tolist()
            got = [v for p in answer["probabilities"] for v in p.values()]
            assert np.allclose(got, [v for p in probabilities for v in p.values()], rtol=1e-6)


def test_a_fitted_estimator_deploys_from_the_kernel(
    a_folder: Path, test_labels: dict[str, str],
) -> None:
    # Given a regression pipeline that is only a variable of this process
    X = np.random.default_rng(7).random((60, 5))
    regressor = make_pipeline(StandardScaler(), Ridge(alpha=0.1)).fit(X, X @ np.arange(1, 6))
    name = f"jdtest-{test_labels[TEST_LABEL]}-estimator"
    lines: list[str] = []
    # When it is deployed as it is
    for service in removed_after(jd.deploy(name, model=regressor, labels=test_labels,
                                           log=lines.append)):
        # Then the service predicts what it predicts here
        script = a_folder / "jupyter-deploy" / name / "score.py"
        assert any(str(script) in line for line in lines)
        assert np.allclose(service.score(X[:6]).value, regressor.predict(X[:6]), rtol=1e-9)
        assert service.parity_check(X[:6]).equal
        # And the parity check compares with the very object: changed here, it differs
        regressor.set_params(ridge__alpha=50.0).fit(X, X @ np.arange(1, 6))
        assert not service.parity_check(X[:6]).equal
        # And the generated script is the user's to edit: reloaded, the edit answers
        script.write_text(script.read_text().replace(
            "return to_json(model.predict(model_input(data)))",
            "return to_json(np.round(model.predict(model_input(data)), 1))"))
        service.reload()
        assert service.score(X[:2]).value == pytest.approx(
            np.round(service.parity_check(X[:2]).container, 1).tolist())


# -- bad input: each refused before any image is built ----------------------------------------


def test_bad_models_are_refused_before_any_build(
    a_folder: Path, an_mlflow_folder: Path, test_labels: dict[str, str],
) -> None:
    bad = a_folder / "bad"
    bad.mkdir()
    no_pyfunc = bad / "no_pyfunc"
    no_pyfunc.mkdir()
    (no_pyfunc / "MLmodel").write_text("flavors:\n  spark:\n    pyspark_version: 3.5.0\n")
    no_wheel = bad / "no_wheel"
    shutil.copytree(an_mlflow_folder, no_wheel)
    (no_wheel / "requirements.txt").write_text(
        (no_wheel / "requirements.txt").read_text() + "\njupyter-deploy-no-such-package==0.0.1\n")
    not_onnx = bad / "model.onnx"
    not_onnx.write_text("this is not a graph\n")
    pickled = bad / "model.pkl"
    pickled.write_bytes(b"not self-describing")
    unpicklable = make_pipeline(FunctionTransformer(lambda x: x), Ridge()).fit([[1.0]], [1.0])
    cases = [
        ({"models": [no_pyfunc]}, ConfigurationError, "no python_function flavour"),
        ({"models": [not_onnx]}, ConfigurationError, "is not an ONNX model"),
        ({"model": unpicklable}, ConfigurationError, "cannot be pickled"),
        ({"models": [pickled]}, ConfigurationError, "does not describe itself"),
        ({"models": [no_wheel]}, DependencyError, "jupyter-deploy-no-such-package"),
    ]
    client = docker_client()
    for index, (arguments, error, words) in enumerate(cases):
        name = f"jdtest-{test_labels[TEST_LABEL]}-bad-{index}"
        started = time.monotonic()
        with pytest.raises(error, match=words) as raised:
            jd.deploy(name, labels=test_labels, **arguments)  # type: ignore[arg-type]
        # Then each fails within seconds, and no image of that package was built
        assert time.monotonic() - started < 90, words
        assert not client.images.list(filters={"label": f"{LABEL_PREFIX}.package={name}"})
        if error is DependencyError:
            assert "score.py" in str(raised.value) and "environment=" in str(raised.value)
