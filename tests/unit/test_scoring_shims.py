"""Azure's import paths and ``Model.get_model_path`` as entry scripts use them (no engine)."""

from __future__ import annotations

import asyncio
import importlib
import json
from pathlib import Path

import pytest
from test_scoring_app import call

from jupyter_deploy.server import model_path, protocol, shims
from jupyter_deploy.server.app import ScoringApp, to_json


@pytest.fixture
def a_models_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two registered models as the image lays them out, the first with two versions."""
    for name, version, files in (("ridge", 1, ["old.pkl"]), ("ridge", 2, ["model.pkl"]),
                                 ("bundle", 1, ["a.bin", "b.bin"])):
        folder = tmp_path / name / str(version)
        folder.mkdir(parents=True)
        for file in files:
            (folder / file).write_text(file)
    monkeypatch.setenv(protocol.ENV_MODEL_DIR, str(tmp_path))
    return tmp_path


def test_get_model_path_finds_files_the_azure_way(a_models_folder: Path) -> None:
    # Given models under AZUREML_MODEL_DIR, When looked up by name
    get = model_path.get_model_path
    # Then the highest version's single file, a given version, or the folder of many files
    assert get("ridge") == str(a_models_folder / "ridge" / "2" / "model.pkl")
    assert get("ridge", version=1) == str(a_models_folder / "ridge" / "1" / "old.pkl")
    assert get("bundle") == str(a_models_folder / "bundle" / "1")
    with pytest.raises(FileNotFoundError, match="'missing'"):
        get("missing")


def test_get_model_path_with_a_single_models_own_folder(
    a_models_folder: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given AZUREML_MODEL_DIR pointing at one model's version folder (a one-model service)
    monkeypatch.setenv(protocol.ENV_MODEL_DIR, str(a_models_folder / "ridge" / "2"))
    assert model_path.get_model_path("ridge") == str(a_models_folder / "ridge" / "2" /
                                                     "model.pkl")


def test_azure_module_paths_import_when_not_installed() -> None:
    # Given the shims, When entry scripts import from Azure's paths, Then they get ours
    shims.install()
    request = importlib.import_module("azureml.contrib.services.aml_request")
    response = importlib.import_module("azureml.contrib.services.aml_response")
    core = importlib.import_module("azureml.core.model")
    decorators = importlib.import_module("inference_schema.schema_decorators")
    assert callable(request.rawhttp) and response.AMLResponse("x", 200).status_code == 200
    assert core.Model.get_model_path is model_path.get_model_path
    assert callable(decorators.input_schema)


def test_pandas_and_dates_are_serialised() -> None:
    import datetime

    import pandas as pd

    frame = pd.DataFrame({"a": [1, 2]})
    value = {"frame": frame, "series": frame["a"], "when": datetime.date(2024, 1, 2)}
    assert json.loads(to_json(value)) == {"frame": [{"a": 1}, {"a": 2}], "series": [1, 2],
                                          "when": "2024-01-02"}


def test_async_run_and_head(an_app_for_text: ScoringApp) -> None:
    answer = call(an_app_for_text, body=b'{"x": 1}', headers={"Content-Type": "application/json"})
    assert (answer.status, answer.json()) == (200, {"x": 1})
    assert call(an_app_for_text, "HEAD", "/").status == 200


@pytest.fixture
def an_app_for_text(tmp_path: Path) -> ScoringApp:
    from jupyter_deploy.server import entry
    from jupyter_deploy.server.settings import Settings

    path = tmp_path / "score.py"
    path.write_text("import asyncio, json\ndef init(): pass\n"
                    "async def run(data):\n    await asyncio.sleep(0)\n"
                    "    return json.loads(data)\n")
    script = entry.UserScript(str(path))
    script.load()
    assert asyncio.iscoroutinefunction(script.run)
    return ScoringApp(script, Settings(str(path), str(tmp_path)))
