"""Models that describe themselves, read on the host with no Docker: MLflow folders, ONNX files,
fitted estimators; the scoring scripts generated for them, run in this process through the same
loader the image's server uses; and every bad input refused with a message that says what to do.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from jupyter_deploy.azureml.core.model import InferenceConfig, Model
from jupyter_deploy.build.entry_scripts import generated_package, render, with_requirements
from jupyter_deploy.errors import ConfigurationError, EntryScriptError, EnvironmentSpecError
from jupyter_deploy.scoring.parity import run_in_process
from jupyter_deploy.server import swagger
from jupyter_deploy.server.entry import UserScript
from jupyter_deploy.services.options import resolve_package
from jupyter_deploy.services.workspace import Workspace
from jupyter_deploy.spec.environment import Environment
from jupyter_deploy.spec.models import deployed_object, describe, save_estimator
from jupyter_deploy.spec.models.mlflow_folder import skinny_requirements
from jupyter_deploy.spec.models.onnx_file import _from_runtime
from jupyter_deploy.spec.options import DeployOptions

onnxruntime = pytest.importorskip("onnxruntime")
from onnxruntime.datasets import get_example  # noqa: E402

IRIS_X, IRIS_Y = load_iris(return_X_y=True, as_frame=True)


@pytest.fixture(scope="module")
def an_iris_classifier() -> LogisticRegression:
    return LogisticRegression(max_iter=500).fit(IRIS_X, IRIS_Y)


@pytest.fixture(scope="module")
def an_mlflow_folder(tmp_path_factory: pytest.TempPathFactory,
                     an_iris_classifier: LogisticRegression) -> Path:
    mlflow_sklearn = pytest.importorskip("mlflow.sklearn")
    from mlflow.models import infer_signature

    folder = tmp_path_factory.mktemp("mlflow") / "iris_model"
    pins = [f"mlflow=={sys.modules['mlflow'].__version__}",
            f"scikit-learn=={sklearn.__version__}", f"pandas=={pd.__version__}", "skops"]
    mlflow_sklearn.save_model(
        an_iris_classifier, folder, pip_requirements=pins, input_example=IRIS_X[:5],
        signature=infer_signature(IRIS_X, an_iris_classifier.predict(IRIS_X)))
    return folder


def write_mlmodel(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "MLmodel").write_text(text)
    return folder


PYFUNC_ONLY = """\
flavors:
  python_function:
    loader_module: mlflow.sklearn
    model_path: model.pkl
mlflow_version: 2.9.2
"""


# -- MLflow folders ---------------------------------------------------------------------------


def test_an_mlflow_folder_describes_its_signature_example_and_requirements(
    an_mlflow_folder: Path,
) -> None:
    # When the folder mlflow.sklearn.save_model wrote is described
    model = describe(an_mlflow_folder)
    # Then the signature's columns, the example and the requirements are all there
    assert model is not None and model.kind == "mlflow" and model.location == "."
    assert [s.name for s in model.inputs] == list(IRIS_X.columns)
    assert {s.datatype for s in model.inputs} == {"FP64"} and model.has_columns
    assert [(s.datatype, s.shape) for s in model.outputs] == [("INT64", (-1,))]
    assert model.example_kind == "dataframe"
    assert model.input_example["data"] == IRIS_X[:3].to_numpy().tolist()
    # mlflow becomes mlflow-skinny of the same version; nothing else changes
    version = sys.modules["mlflow"].__version__
    assert f"mlflow-skinny=={version}" in model.requirements
    assert not any(r.startswith("mlflow==") for r in model.requirements)
    assert f"scikit-learn=={sklearn.__version__}" in model.requirements
    assert model.requirements_source.endswith("requirements.txt")
    assert model.metadata()["parameters"] == {"content_type": "pd"}


def test_mlflow_requirements_are_rewritten_to_skinny() -> None:
    lines = ["mlflow[gateway]==2.9.2; python_version >= '3.8'", "numpy<2", "pandas==2.1.4"]
    assert skinny_requirements(lines, "2.9.2") == [
        "mlflow-skinny==2.9.2; python_version >= \"3.8\"", "numpy<2", "pandas==2.1.4"]
    # Missing ones are added: skinny at the folder's MLflow version, and pandas for pyfunc
    assert skinny_requirements(["scikit-learn==1.3.2"], "2.9.2") == [
        "scikit-learn==1.3.2", "mlflow-skinny==2.9.2", "pandas"]


def test_python_env_and_conda_files_are_read_when_there_is_no_requirements_txt(
    tmp_path: Path,
) -> None:
    # Given a folder with only python_env.yaml (pointing at a file of its own)
    env_only = write_mlmodel(tmp_path / "a", PYFUNC_ONLY)
    (env_only / "python_env.yaml").write_text(
        "python: 3.11.7\ndependencies:\n- -r extra.txt\n- scipy==1.11.4\n")
    (env_only / "extra.txt").write_text("# pinned\nscikit-learn==1.3.2\n")
    # And one with only conda.yaml
    conda_only = write_mlmodel(tmp_path / "b", PYFUNC_ONLY)
    (conda_only / "conda.yaml").write_text(
        "name: mlflow-env\ndependencies:\n- python=3.11.7\n- pip<=23.2.1\n"
        "- pip:\n  - mlflow==2.9.2\n  - scikit-learn==1.3.2\n")
    # Then each gives the pip requirements (and conda's own specs, for the conda check)
    a, b = describe(env_only), describe(conda_only)
    assert a is not None and b is not None
    assert a.requirements == ("scikit-learn==1.3.2", "scipy==1.11.4", "mlflow-skinny==2.9.2",
                              "pandas")
    assert b.requirements == ("mlflow-skinny==2.9.2", "scikit-learn==1.3.2", "pandas")
    assert b.conda == ("python=3.11.7", "pip<=23.2.1")


def test_an_mlmodel_without_python_function_is_refused(tmp_path: Path) -> None:
    folder = write_mlmodel(tmp_path / "spark_model", "flavors:\n  spark:\n    pyspark_version: 3.5"
                                                     "\nmlflow_version: 2.9.2\n")
    with pytest.raises(ConfigurationError, match="no python_function flavour") as raised:
        describe(folder)
    assert "it has: spark" in str(raised.value) and "entry_script" in str(raised.value)


def test_a_bad_requirement_line_names_its_file_and_line(tmp_path: Path) -> None:
    folder = write_mlmodel(tmp_path / "m", PYFUNC_ONLY)
    (folder / "requirements.txt").write_text("numpy==1.26.4\nnot a requirement!\n")
    with pytest.raises(EnvironmentSpecError, match="line 2") as raised:
        describe(folder)
    assert "requirements.txt" in str(raised.value)


def test_a_registered_model_folder_holding_the_model_is_found(
    an_mlflow_folder: Path, tmp_path: Path,
) -> None:
    # Given the MLflow folder and an ONNX file registered in a workspace
    ws = Workspace(tmp_path / "ws")
    mlflow_model = ws.register_model(an_mlflow_folder, "iris")
    onnx_model = ws.register_model(get_example("sigmoid.onnx"), "sigmoid")
    # Then each version's folder leads to the model inside it
    found, onnx = describe(mlflow_model.path), describe(onnx_model.path)
    assert found is not None and found.location == "iris_model"
    assert onnx is not None and onnx.location == "sigmoid.onnx"


# -- ONNX files -------------------------------------------------------------------------------


def test_an_onnx_graph_gives_its_inputs_outputs_types_and_shapes() -> None:
    path = Path(get_example("logreg_iris.onnx"))
    model = describe(path)
    assert model is not None and model.kind == "onnx" and model.location == path.name
    assert [(s.name, s.datatype, s.shape) for s in model.inputs] == [
        ("float_input", "FP32", (3, 2))]
    label, probabilities = model.outputs
    assert (label.name, label.datatype) == ("label", "INT64")
    assert probabilities.structure == "seq(map(int64,tensor(float)))"
    assert probabilities.to_metadata()["parameters"]["content_type"] == "json"
    assert f"onnxruntime=={onnxruntime.__version__}" in model.requirements
    assert f"numpy=={np.__version__}" in model.requirements
    # onnxruntime alone (no onnx package) reads the same facts
    assert _from_runtime(path) == (model.inputs, model.outputs)


@pytest.mark.parametrize("content", [b"", b"hello, not a model\n", bytes(range(256)) * 8])
def test_a_file_named_onnx_that_is_not_onnx_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(content)
    with pytest.raises(ConfigurationError, match="is not an ONNX model"):
        describe(path)


def test_other_files_do_not_describe_themselves(tmp_path: Path) -> None:
    (tmp_path / "model.pkl").write_bytes(b"x")
    assert describe(tmp_path / "model.pkl") is None
    assert describe(tmp_path) is None


# -- estimators -------------------------------------------------------------------------------


def test_an_estimator_is_saved_and_pinned_as_the_kernel_has_it(
    an_iris_classifier: LogisticRegression, tmp_path: Path,
) -> None:
    model = save_estimator(an_iris_classifier, tmp_path)
    assert model.path == tmp_path / "model.joblib" and model.path.is_file()
    pins = set(model.requirements)
    for name in ("scikit-learn", "numpy", "scipy", "joblib", "pandas"):
        version = __import__("importlib.metadata").metadata.version(name)
        assert f"{name}=={version}" in pins, name
    assert model.details["features"] == list(IRIS_X.columns)
    assert [(s.datatype, s.shape) for s in model.outputs] == [("INT64", (-1,))]


def _not_fitted() -> Any:
    return LogisticRegression()


def _unpicklable() -> Any:
    return make_pipeline(FunctionTransformer(lambda x: x), Ridge()).fit([[1.0], [2.0]], [1, 2])


class _NoPredict:
    pass


@pytest.mark.parametrize(("make", "words"), [
    (_not_fitted, "not fitted"),
    (_unpicklable, "cannot be pickled"),
    (_NoPredict, "no predict() method"),
])
def test_estimators_that_cannot_be_served_are_refused(make: Any, words: str, tmp_path: Path
                                                      ) -> None:
    with pytest.raises(ConfigurationError, match=words.replace("(", r"\(").replace(")", r"\)")):
        save_estimator(make(), tmp_path)
    assert not (tmp_path / "model.joblib").exists()


def test_a_class_defined_in_the_notebook_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an estimator class that lives in __main__ (as a notebook cell's class does)
    class NotebookModel(Ridge):
        pass

    NotebookModel.__module__ = "__main__"
    NotebookModel.__qualname__ = "NotebookModel"
    monkeypatch.setattr(sys.modules["__main__"], "NotebookModel", NotebookModel, raising=False)
    with pytest.raises(ConfigurationError, match="defined in the notebook"):
        save_estimator(NotebookModel().fit([[1.0], [2.0]], [1.0, 2.0]), tmp_path)


# -- generated scripts, run here as the image's server runs them ------------------------------


def swagger_example(script: Path) -> Any:
    loaded = UserScript(str(script))
    loaded.load()
    return swagger.document(str(script.parent), loaded.run, None)["definitions"][
        "ServiceInput"]["example"]


def test_the_mlflow_script_answers_like_the_model(
    an_mlflow_folder: Path, an_iris_classifier: LogisticRegression, tmp_path: Path,
) -> None:
    # Given the package of an MLflow folder, with no score.py
    spec = generated_package("iris", [an_mlflow_folder], folder=tmp_path)
    rows = IRIS_X.iloc[[0, 60, 120]]
    expected = an_iris_classifier.predict(rows).tolist()
    # Then rows and records both answer what the model predicts
    assert run_in_process(spec, rows) == expected
    assert run_in_process(spec, {"data": rows.to_dict(orient="records")}) == expected
    # And the swagger document shows the input example as its sample
    example = swagger_example(spec.entry_script)
    assert example == {"data": IRIS_X[:3].to_dict(orient="records")}
    assert spec.environment.pip[0].startswith("mlflow-skinny==")


def test_the_onnx_script_feeds_rows_or_inputs_by_name(tmp_path: Path) -> None:
    path = get_example("logreg_iris.onnx")
    spec = generated_package("onnx", [path], folder=tmp_path)
    rows = [[5.1, 3.5], [6.2, 2.9], [7.7, 3.0]]
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    label, probabilities = session.run(None, {"float_input": np.array(rows, np.float32)})
    for data in (rows, {"data": {"float_input": rows}}):
        answer = run_in_process(spec, data)
        assert answer["label"] == label.tolist()
        got = [v for p in answer["probabilities"] for v in p.values()]
        assert got == pytest.approx([v for p in probabilities for v in p.values()], rel=1e-6)
    assert swagger_example(spec.entry_script) == {"data": [[0.0, 0.0]] * 3}


def test_the_estimator_script_compares_with_the_very_object(tmp_path: Path) -> None:
    # Given a regressor deployed from the kernel
    X = np.random.default_rng(0).random((30, 3))
    reg = make_pipeline(StandardScaler(), Ridge()).fit(X, X @ [1.0, 2.0, 3.0])
    spec = generated_package("reg", estimator=reg, folder=tmp_path)
    assert deployed_object(str(spec.entry_script)) is reg
    assert run_in_process(spec, X[:4]) == pytest.approx(reg.predict(X[:4]).tolist())
    # When the object changes in the kernel after deploying
    reg.set_params(ridge__alpha=100.0).fit(X, X @ [1.0, 2.0, 3.0])
    # Then the in-process side is that very object, not the saved copy
    assert run_in_process(spec, X[:4]) == pytest.approx(reg.predict(X[:4]).tolist())


def test_an_edited_script_is_kept(tmp_path: Path) -> None:
    path = get_example("mul_1.onnx")
    lines: list[str] = []
    first = generated_package("mul", [path], folder=tmp_path, log=lines.append)
    # Unchanged: written again (same text), said to be generated
    generated_package("mul", [path], folder=tmp_path, log=lines.append)
    assert all("Generated the scoring script" in line for line in lines)
    # Edited: kept, and said so
    first.entry_script.write_text(first.entry_script.read_text() + "\n# my edit\n")
    generated_package("mul", [path], folder=tmp_path, log=lines.append)
    assert "Kept your edited" in lines[-1]
    assert first.entry_script.read_text().endswith("# my edit\n")


def test_every_script_parses_and_carries_its_metadata(
    an_mlflow_folder: Path, an_iris_classifier: LogisticRegression, tmp_path: Path,
) -> None:
    models = [describe(an_mlflow_folder), describe(get_example("sigmoid.onnx")),
              save_estimator(an_iris_classifier, tmp_path)]
    for model in models:
        assert model is not None
        tree = ast.parse(render(model))
        [value] = [node.value for node in tree.body if isinstance(node, ast.Assign)
                   and any(getattr(t, "id", "") == "MODEL_METADATA" for t in node.targets)]
        assert ast.literal_eval(value) == model.metadata()


# -- what front ends get ----------------------------------------------------------------------


def test_no_entry_script_and_no_self_describing_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "model.pkl").write_bytes(b"x")
    with pytest.raises(ConfigurationError, match="does not describe itself") as raised:
        generated_package("x", [tmp_path / "model.pkl"], folder=tmp_path)
    assert "entry_script='score.py'" in str(raised.value)
    with pytest.raises(ConfigurationError, match="there is no model"):
        generated_package("x", [], folder=tmp_path)
    with pytest.raises(ConfigurationError, match="exactly one model"):
        generated_package("x", [get_example("mul_1.onnx")] * 2, folder=tmp_path)


def test_the_environment_given_wins_over_the_models_pins() -> None:
    model = describe(get_example("mul_1.onnx"))
    assert model is not None
    env = with_requirements(Environment(pip=["numpy==2.1.0", "tabulate==0.9.0"]), model)
    assert env.pip == ("numpy==2.1.0", "tabulate==0.9.0",
                       f"onnxruntime=={onnxruntime.__version__}")


def test_the_magic_resolves_a_kernel_variable_before_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, an_iris_classifier: LogisticRegression,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "clf").write_text("a file of the same name")
    namespace = {"clf": an_iris_classifier, "path_var": get_example("mul_1.onnx")}
    spec = resolve_package("svc", DeployOptions(models=("clf",)), namespace=namespace)
    assert spec.entry_script == tmp_path / "jupyter-deploy" / "svc" / "score.py"
    assert spec.models[0].path == tmp_path / "jupyter-deploy" / "svc" / "model.joblib"
    onnx = resolve_package("svc2", DeployOptions(models=("path_var",)), namespace=namespace)
    assert onnx.models[0].path == Path(get_example("mul_1.onnx"))
    with pytest.raises(ConfigurationError, match="names a variable of the notebook"):
        resolve_package("svc", DeployOptions(models=("clf",), entry_script="score.py"),
                        namespace=namespace)


def test_an_inference_config_without_entry_script_serves_a_self_describing_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    ws = Workspace(tmp_path / "ws")
    (tmp_path / "model.pkl").write_bytes(b"x")
    onnx = Model.register(ws, get_example("sigmoid.onnx"), "sigmoid")
    pickled = Model.register(ws, str(tmp_path / "model.pkl"), "pickled")
    spec = InferenceConfig().package_spec("sig", [onnx])
    assert spec.entry_script.name == "score.py" and spec.models[0].name == "sigmoid"
    assert any(p.startswith("onnxruntime==") for p in spec.environment.pip)
    with pytest.raises(ConfigurationError, match="entry_script"):
        InferenceConfig().package_spec("pkl", [pickled])
    with pytest.raises(ConfigurationError, match="entry_script"):
        InferenceConfig(source_directory="src")


def test_a_missing_entry_script_says_a_self_describing_model_needs_none(tmp_path: Path) -> None:
    from jupyter_deploy.spec.package import check_entry_script

    with pytest.raises(EntryScriptError, match=r"does not exist: .*needs no script"):
        check_entry_script(tmp_path / "score.py")
