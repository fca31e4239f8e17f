"""Unit tests of the lifecycle's pure parts: no engine needed."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from jupyter_deploy.engine.containers import parse_run_arguments
from jupyter_deploy.errors import ConfigurationError, ScoringError
from jupyter_deploy.scoring.client import ScoreResult
from jupyter_deploy.scoring.parity import compare
from jupyter_deploy.spec.environment import Environment, RegistryCredentials
from jupyter_deploy.spec.package import ModelFiles, PackageSpec
from jupyter_deploy.spec.record import LABEL_SPEC, ServiceRecord


def test_docker_arguments_become_run_options() -> None:
    options = parse_run_arguments(
        ["--cpus", "1.5", "-m", "512m", "--shm-size=1g", "-e", "A=1", "--env=B=2",
         "--gpus", "all", "--cap-add", "SYS_PTRACE"])
    assert options == {"cpus": 1.5, "mem_limit": "512m", "shm_size": "1g",
                       "env": {"A": "1", "B": "2"}, "gpus": "all", "cap_add": ("SYS_PTRACE",)}


@pytest.mark.parametrize(("arguments", "message"), [
    (["--privileged"], "not supported"),
    (["--cpus"], "needs a value"),
    (["--cpus", "lots"], "not a number"),
    (["-e", "NOVALUE"], "NAME=VALUE"),
])
def test_docker_arguments_we_cannot_honour_are_refused(arguments: list[str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_run_arguments(arguments)


def test_a_service_record_round_trips_through_labels_without_the_password(tmp_path: Path) -> None:
    # Given a package whose environment has registry credentials
    env = Environment(name="e", pip=["numpy==2.0.0"], env_vars={"K": "V"},
                      registry=RegistryCredentials("127.0.0.1:5300", "bob", "hunter2"))
    spec = PackageSpec("svc", tmp_path / "score.py", env,
                       (ModelFiles(tmp_path / "m.pkl", "m", 3),), None)
    # When it is stored in labels and read back
    labels = ServiceRecord("svc", "img:1", spec, {"cpus": 1.0}).to_labels()
    back = ServiceRecord.from_labels(labels)
    # Then everything but the password survives
    assert "hunter2" not in json.dumps(labels)
    assert back.spec is not None
    assert back.spec.environment.pip == ("numpy==2.0.0",)
    assert back.spec.environment.registry is not None
    assert back.spec.environment.registry.username == "bob"
    assert back.spec.models[0].version == 3
    assert back.run_options == {"cpus": 1.0}
    assert json.loads(labels[LABEL_SPEC])["version"] == 1


def test_compare_names_each_difference_with_a_path() -> None:
    a = {"scores": [1.0, 2.0, 3.0], "model": "v1", "extra": 1}
    b = {"scores": [1.0, 2.5, 3.0 + 1e-12], "model": "v1"}
    assert list(compare(a, b)) == ["$.extra: only in-process", "$.scores[1]: 2.0 != 2.5"]


def test_a_result_becomes_a_frame_indexed_like_the_input() -> None:
    index = pd.Index([10, 11])
    assert list(ScoreResult([0.5, 0.7], 200, 0.01, index).to_frame()["score"]) == [0.5, 0.7]
    assert list(ScoreResult([0.5, 0.7], 200, 0.01, index).to_frame().index) == [10, 11]
    records = ScoreResult({"predictions": [{"a": 1}, {"a": 2}]}, 200, 0.01).to_frame()
    assert list(records["a"]) == [1, 2]
    with pytest.raises(ScoringError, match="not tabular"):
        ScoreResult("hello", 200, 0.01).to_frame()
