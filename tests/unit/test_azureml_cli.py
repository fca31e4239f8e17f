"""The seeds' CLI flow, the parts that need no engine: models, the workspace, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_deploy.cli.main import main
from jupyter_deploy.config import get_config


@pytest.fixture
def a_workspace_folder(tmp_path: Path) -> Path:
    return tmp_path / "ws"


def test_a_model_registers_with_increasing_versions(
    a_workspace_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    # Given a model file
    (tmp_path / "model.pkl").write_bytes(b"weights")
    args = ["-w", str(a_workspace_folder)]
    # When it is registered twice and listed
    assert main(["model", "register", "-n", "mymodel", "-p", str(tmp_path / "model.pkl"),
                 *args]) == 0
    assert main(["model", "register", "-n", "mymodel", "-p", str(tmp_path / "model.pkl"),
                 "--description", "second", *args]) == 0
    assert main(["model", "list", *args]) == 0
    # Then each step printed name:version, and the list shows the latest
    assert capsys.readouterr().out.splitlines() == ["mymodel:1", "mymodel:2", "mymodel:2\tsecond"]


def test_the_workspace_registry_is_shown(a_workspace_folder: Path,
                                         capsys: pytest.CaptureFixture[str]):
    assert main(["workspace", "registry", "-w", str(a_workspace_folder)]) == 0
    assert main(["workspace", "show", "-w", str(a_workspace_folder)]) == 0
    out = capsys.readouterr().out
    registry, details = out.split("\n", 1)
    assert registry == get_config().registry_address
    assert json.loads(details)["containerRegistry"] == registry


def test_a_config_json_selects_the_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    (tmp_path / "config.json").write_text(json.dumps({"workspace_name": "proj", "path": "w"}))
    assert main(["workspace", "show", "-w", str(tmp_path / "config.json")]) == 0
    details = json.loads(capsys.readouterr().out)
    assert (details["name"], Path(details["path"])) == ("proj", tmp_path / "w")


def test_an_unknown_model_is_an_error_with_advice(a_workspace_folder: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]):
    ic = tmp_path / "ic.json"
    ic.write_text(json.dumps({"entryScript": "score.py"}))
    (tmp_path / "score.py").write_text("def run(x):\n    return x\n")
    code = main(["deploy", "svc", "--ic", str(ic), "-m", "missing:3",
                 "-w", str(a_workspace_folder)])
    assert code == 1
    assert "register it first" in capsys.readouterr().err


def test_deploy_needs_a_script_or_an_inference_config(capsys: pytest.CaptureFixture[str]):
    assert main(["deploy", "svc"]) == 1
    assert "--ic" in capsys.readouterr().err


def test_a_bad_deployment_config_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    (tmp_path / "score.py").write_text("def run(x):\n    return x\n")
    (tmp_path / "ic.json").write_text(json.dumps({"entryScript": "score.py"}))
    (tmp_path / "dc.json").write_text(json.dumps({"port": "eighty"}))
    code = main(["deploy", "svc", "--ic", str(tmp_path / "ic.json"), "--dc",
                 str(tmp_path / "dc.json"), "-w", str(tmp_path / "ws")])
    assert code == 1
    assert "port must be a number" in capsys.readouterr().err


def test_workspace_show_answers_a_query_like_the_sdk_cli(
    a_workspace_folder: Path, capsys: pytest.CaptureFixture[str]
):
    # When the registry is asked for as `az ml workspace show --query containerRegistry` does
    assert main(["workspace", "show", "--query", "containerRegistry",
                 "-w", str(a_workspace_folder)]) == 0
    # Then the answer is that value as JSON, nothing else
    assert json.loads(capsys.readouterr().out) == get_config().registry_address
    # And a key it does not have is named, with the keys there are
    assert main(["workspace", "show", "--query", "nope", "-w", str(a_workspace_folder)]) == 1
    assert "containerRegistry" in capsys.readouterr().err


def test_model_deploy_takes_the_seeds_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    # Given the seeds' command line with an unknown compute target
    (tmp_path / "ic.json").write_text(json.dumps({"entryScript": "score.py"}))
    (tmp_path / "dc.json").write_text(json.dumps({"computeType": "aks", "numReplicas": 2}))
    code = main(["model", "deploy", "-n", "myservice", "-m", "mymodel:1", "--ic",
                 str(tmp_path / "ic.json"), "--dc", str(tmp_path / "dc.json"), "--ct", "aks-1",
                 "-w", str(tmp_path / "ws")])
    # Then every option parsed, and the target is refused by name before anything is built
    assert code == 1
    assert "no compute target named 'aks-1'" in capsys.readouterr().err
