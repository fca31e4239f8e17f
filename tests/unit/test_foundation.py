"""Unit tests of the foundation's layers: no engine, no network, seconds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_deploy.build.context import render_dockerfile
from jupyter_deploy.engine.images import split_tag
from jupyter_deploy.errors import (
    DeployError,
    DockerUnavailableError,
    EntryScriptError,
    EnvironmentSpecError,
    ScoringError,
)
from jupyter_deploy.scoring.client import to_payload
from jupyter_deploy.spec.environment import Environment, RegistryCredentials, unpinned
from jupyter_deploy.spec.package import PackageSpec, check_entry_script

SAMPLE = [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]]


@pytest.fixture
def a_score_py(tmp_path: Path) -> Path:
    path = tmp_path / "score.py"
    path.write_text("def init():\n    pass\n\ndef run(raw):\n    return raw\n")
    return path


def test_every_error_is_a_deploy_error_with_an_http_status() -> None:
    # Given the error classes front ends translate
    for cls in (DockerUnavailableError, EntryScriptError, ScoringError):
        # Then each is under the root and carries a status for the REST layer
        assert issubclass(cls, DeployError)
        assert 400 <= cls.http_status < 600


def test_environment_rejects_a_bad_requirement_naming_the_key() -> None:
    with pytest.raises(EnvironmentSpecError, match=r"pip\[1\]"):
        Environment(pip=["numpy==2.0", "not a requirement!!"])


def test_environment_rejects_a_bad_variable_name() -> None:
    with pytest.raises(EnvironmentSpecError, match="env_vars"):
        Environment(env_vars={"1BAD": "x"})


def test_environment_defaults_to_the_configured_base_image() -> None:
    assert Environment().base_image == "jupyter-deploy/python:3.11"


def test_unpinned_lists_only_loose_requirements() -> None:
    assert unpinned(["a==1.0", "b>=2", "c", "d==1.*"]) == ["b>=2", "c", "d==1.*"]


def test_credentials_never_show_the_password() -> None:
    # Given credentials with a password
    creds = RegistryCredentials("127.0.0.1:5000", "user", "s3cret")
    env = Environment(registry=creds)
    # Then neither repr nor the serialised environment contains it
    assert "s3cret" not in repr(creds)
    assert "s3cret" not in repr(env)
    assert "s3cret" not in json.dumps(env.to_dict())
    assert creds.auth_config() == {"username": "user", "password": "s3cret",
                                   "serveraddress": "127.0.0.1:5000"}


def test_entry_script_without_run_is_refused(tmp_path: Path) -> None:
    script = tmp_path / "score.py"
    script.write_text("def init():\n    pass\n")
    with pytest.raises(EntryScriptError, match=r"no run\(\)"):
        check_entry_script(script)


def test_entry_script_with_a_syntax_error_points_at_the_line(tmp_path: Path) -> None:
    script = tmp_path / "score.py"
    script.write_text("def run(x):\n    return (\n")
    with pytest.raises(EntryScriptError, match=r"score.py:\d+: syntax error"):
        check_entry_script(script)


def test_dockerfile_orders_layers_from_dependencies_to_code(a_score_py: Path) -> None:
    # Given a package with a pinned dependency
    spec = PackageSpec("demo", a_score_py, Environment(pip=["numpy==2.0.0"]), ())
    # When the Dockerfile is rendered
    text = render_dockerfile(spec)
    # Then dependencies come before the server, the models and the code, in that order
    order = [text.index(s) for s in ("requirements.txt", "COPY server/", "COPY models/",
                                     "COPY app/")]
    assert order == sorted(order)
    assert "CMD [\"/opt/jupyter-deploy/venv/bin/python\", \"-m\", \"jd_scoring.server\"]" in text


def test_dockerfile_never_contains_registry_credentials(a_score_py: Path) -> None:
    env = Environment(base_image="127.0.0.1:5300/base:1",
                      registry=RegistryCredentials("127.0.0.1:5300", "bob", "hunter2"))
    text = render_dockerfile(PackageSpec("demo", a_score_py, env, ()))
    assert "hunter2" not in text and "bob" not in text


def test_payload_accepts_lists_strings_arrays_and_frames() -> None:
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    expected = {"data": SAMPLE}
    for data in (SAMPLE, np.array(SAMPLE), pd.DataFrame(SAMPLE), json.dumps(expected)):
        assert json.loads(to_payload(data)) == expected
    assert json.loads(to_payload(expected)) == expected


@pytest.mark.parametrize(
    ("ref", "expected"),
    [("img", ("img", "latest")), ("img:1", ("img", "1")),
     ("127.0.0.1:5000/a/b", ("127.0.0.1:5000/a/b", "latest")),
     ("127.0.0.1:5000/a/b:2", ("127.0.0.1:5000/a/b", "2"))],
)
def test_split_tag_does_not_mistake_a_registry_port_for_a_tag(
    ref: str, expected: tuple[str, str]
) -> None:
    assert split_tag(ref) == expected


def test_a_jupyter_server_config_reaches_the_core(monkeypatch: pytest.MonkeyPatch) -> None:
    from traitlets.config import Config

    from jupyter_deploy import config as config_module
    from jupyter_deploy.config import get_config, load_config

    # (a process-wide config of its own: traitlets re-applies merged config on every later load,
    # so resetting the trait afterwards would not undo it for the tests that follow)
    monkeypatch.setattr(config_module, "_config", None)
    # Given a server config that changes a DeployConfig trait
    config = Config()
    config.DeployConfig.log_tail = 7
    # When the extension loads it
    load_config(config)
    # Then every core call sees it
    assert get_config().log_tail == 7
