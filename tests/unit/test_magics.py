"""The magics through a real IPython shell, with the core replaced by recording fakes.

Each magic's happy path checks what the core was asked to do and what the cell shows; each bad
input checks that the cell ends in a one-paragraph ``UsageError`` (no traceback) that says what
to do next. Services, pulls, images and panels are in test_magics_services.py; the engine itself
is exercised by tests/integration/test_notebooks.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from test_magics_fakes import (
    SKLEARN_YAML,
    FakeCore,
    FakeService,
    run,
    usage_error,
    value_of,
)

import jupyter_deploy
from jupyter_deploy.config import get_config
from jupyter_deploy.errors import PortInUseError, ServiceNotFoundError
from jupyter_deploy.spec.environment import Environment

DATA = Path(__file__).parent / "data"


# -- loading, help and configuration -----------------------------------------------------------


def test_every_magic_is_documented(a_shell: InteractiveShell) -> None:
    # Given the extension loaded
    # Then each magic has a docstring (what %magic? shows), with its options
    for name in ("deploy", "deploy_pull", "deploy_ls", "deploy_logs", "deploy_stop", "deploy_rm",
                 "deploy_reload", "deploy_images", "deploy_panel", "deploy_score", "deploy_env"):
        magic = a_shell.find_magic(name)
        assert magic is not None and magic.__doc__, name
    assert "--model" in a_shell.find_line_magic("deploy").__doc__
    assert "--password" in a_shell.find_line_magic("deploy_pull").__doc__


def test_config_sets_deploy_config(a_shell: InteractiveShell) -> None:
    # Given the default ready timeout
    before = get_config().ready_timeout
    try:
        # When %config changes it
        run(a_shell, "%config DeployConfig.ready_timeout = 7.5").raise_error()
        # Then the core sees the new value
        assert get_config().ready_timeout == 7.5
    finally:
        get_config().ready_timeout = before


def test_short_errors_can_be_turned_off(a_shell: InteractiveShell) -> None:
    # Given tracebacks asked for
    run(a_shell, "%config DeployMagics.short_errors = False").raise_error()
    try:
        # When a magic fails
        result = run(a_shell, "%deploy_logs nobody")
    finally:
        run(a_shell, "%config DeployMagics.short_errors = True").raise_error()
    # Then our own error comes through, not a UsageError
    assert isinstance(result.error_in_exec, ServiceNotFoundError)


# -- %%deploy_env ------------------------------------------------------------------------------


def test_deploy_env_binds_a_native_yaml_environment(a_shell: InteractiveShell) -> None:
    # When the cell is our YAML
    view = value_of(a_shell, f"%%deploy_env sk\n{SKLEARN_YAML}")
    # Then the environment is bound to its name and shown
    env = a_shell.user_ns["sk"]
    assert isinstance(env, Environment)
    assert env.pip == ("scikit-learn==1.5.2",) and dict(env.env_vars) == {"MODE": "fast"}
    assert "scikit-learn==1.5.2" in view._repr_html_() and "Environment 'sk'" in str(view)


def test_deploy_env_reads_a_conda_file(a_shell: InteractiveShell) -> None:
    cell = ("%%deploy_env condaenv\nname: whatever\nchannels: [conda-forge]\n"
            "dependencies:\n  - numpy=1.26\n  - pip:\n    - requests==2.31.0\n")
    value_of(a_shell, cell)
    env = a_shell.user_ns["condaenv"]
    assert env.name == "condaenv" and "requests==2.31.0" in env.pip


def test_deploy_env_reads_the_seeds_inference_config(a_shell: InteractiveShell) -> None:
    text = (DATA / "seed_inferenceconfig.json").read_text()
    value_of(a_shell, f"%%deploy_env seed\n{text}")
    env = a_shell.user_ns["seed"]
    assert env.env_vars["EXAMPLE_ENV_VAR"] == "EXAMPLE_VALUE"


def test_deploy_env_lists_what_was_defined(a_shell: InteractiveShell) -> None:
    value_of(a_shell, f"%%deploy_env sk\n{SKLEARN_YAML}")
    listing = value_of(a_shell, "%deploy_env")
    assert "sk" in str(listing) and "scikit-learn==1.5.2" in listing._repr_html_()


def test_malformed_yaml_points_at_the_line(
    a_shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given YAML whose third line is broken
    cell = "%%deploy_env broken\npip:\n  - numpy==1.26.4\n  - [unclosed\n"
    # Then the message names the line
    message = usage_error(a_shell, cell, capsys)
    assert "line" in message and "broken" not in a_shell.user_ns


def test_a_wrong_type_names_the_key(
    a_shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    message = usage_error(a_shell, "%%deploy_env bad\npip: 3\n", capsys)
    assert "pip" in message


# -- %deploy -----------------------------------------------------------------------------------


def test_deploy_launches_with_the_named_environment(
    a_shell: InteractiveShell, a_core: FakeCore, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an environment defined in the notebook
    value_of(a_shell, f"%%deploy_env sk\n{SKLEARN_YAML}")
    # When a service is deployed with it on a fixed port
    shown = value_of(a_shell, "%deploy my-svc --model model.pkl --entry score.py --env sk "
                              "--port 8950")
    # Then the core got exactly that, the logs streamed into the cell, the service is bound
    call = a_core.deploy_calls[-1]
    assert call["name"] == "my-svc" and call["port"] == 8950
    assert call["environment"] == a_shell.user_ns["sk"]
    assert [m.path for m in call["models"]] == [Path("model.pkl")]
    assert "Step 1/2" in capsys.readouterr().out
    assert a_shell.user_ns["my_svc"] is a_core.services["my-svc"]
    assert "http://127.0.0.1:8950/score" in str(shown)


def test_deploy_with_an_unknown_environment_says_how_to_define_it(
    a_shell: InteractiveShell, a_core: FakeCore, capsys: pytest.CaptureFixture[str]
) -> None:
    message = usage_error(a_shell, "%deploy svc --env nosuchenv", capsys)
    assert "no environment named 'nosuchenv'" in message and "%%deploy_env nosuchenv" in message
    assert a_core.deploy_calls == []


def test_deploy_reports_a_port_in_use(
    a_shell: InteractiveShell, a_core: FakeCore, capsys: pytest.CaptureFixture[str]
) -> None:
    a_core.fail_with = PortInUseError("port 8951 on 127.0.0.1 is taken by container 'x': "
                                      "pass another port")
    message = usage_error(a_shell, "%deploy svc --port 8951", capsys)
    assert "port 8951" in message and "taken by container 'x'" in message


def test_deploy_rejects_bad_options(
    a_shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "Usage" in usage_error(a_shell, "%deploy", capsys)
    assert "between 1 and 65535" in usage_error(a_shell, "%deploy s --port 70000", capsys)
    assert "unrecognized" in usage_error(a_shell, "%deploy s --colour red", capsys)


def test_a_script_without_run_is_refused_before_any_build(
    a_shell: InteractiveShell, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a score.py with init() only
    script = tmp_path / "score.py"
    script.write_text("def init():\n    pass\n")
    # Then packaging refuses it with what to add
    message = usage_error(a_shell, f"%deploy s --entry {script} --output {tmp_path / 'out'}",
                          capsys)
    assert "no run() function" in message and "run(raw_data)" in message


def test_output_writes_a_dockerfile_folder(a_shell: InteractiveShell, tmp_path: Path) -> None:
    # Given a script and an environment that installs nothing
    script = tmp_path / "score.py"
    script.write_text("def init():\n    pass\n\ndef run(raw):\n    return raw\n")
    value_of(a_shell, "%%deploy_env plain\nuser_managed: true\n")
    # When only a Dockerfile folder is asked for
    value_of(a_shell, f"%deploy pkg --entry {script} --env plain --output {tmp_path / 'files'}")
    # Then the folder holds the Dockerfile and the app, and is bound
    assert (tmp_path / "files" / "Dockerfile").is_file()
    assert (tmp_path / "files" / "app" / "score.py").is_file()
    assert a_shell.user_ns["pkg"].path == tmp_path / "files"


# -- %%deploy_score ----------------------------------------------------------------------------


def test_score_json_shows_a_table_and_stores_it(
    a_shell: InteractiveShell, a_core: FakeCore
) -> None:
    # Given a running service
    a_core.services["svc"] = FakeService("svc")
    # When the cell holds the seeds' sample and asks to store the answer
    view = value_of(a_shell, '%%deploy_score svc answer <<\n{"data": [[1, 2], [3, 4]]}')
    # Then the service got the JSON, the answer is a table with the latency, and stored
    assert a_core.services["svc"].calls == [("score", {"data": [[1, 2], [3, 4]]})]
    stored = a_shell.user_ns["answer"]
    assert isinstance(stored, pd.DataFrame) and stored["score"].tolist() == [1.5, 2.5]
    assert "<table" in view._repr_html_() and "12.3 ms" in str(view)


def test_score_a_dataframe_by_name(a_shell: InteractiveShell, a_core: FakeCore) -> None:
    a_core.services["svc"] = FakeService("svc")
    a_shell.user_ns["df"] = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    value_of(a_shell, "%%deploy_score svc\n$df")
    sent = a_core.services["svc"].calls[0][1]
    assert isinstance(sent, pd.DataFrame) and sent.shape == (2, 2)


def test_score_on_one_line(a_shell: InteractiveShell, a_core: FakeCore) -> None:
    a_core.services["svc"] = FakeService("svc")
    a_shell.user_ns["rows"] = [[1, 2]]
    value_of(a_shell, "%deploy_score svc $rows")
    assert a_core.services["svc"].calls == [("score", [[1, 2]])]


def test_malformed_json_points_at_the_line(
    a_shell: InteractiveShell, a_core: FakeCore, capsys: pytest.CaptureFixture[str]
) -> None:
    a_core.services["svc"] = FakeService("svc")
    cell = '%%deploy_score svc\n{"data": [[1, 2],\n  [3, 4]]\n  "id": 1}'
    message = usage_error(a_shell, cell, capsys)
    assert "line 3" in message and "not JSON" in message


def test_scoring_an_unknown_variable_or_service(
    a_shell: InteractiveShell, a_core: FakeCore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "no variable 'nothing'" in usage_error(a_shell, "%%deploy_score svc\n$nothing",
                                                  capsys)
    assert "no service named 'svc'" in usage_error(a_shell, "%%deploy_score svc\n[1]", capsys)


def test_a_json_env_file_can_be_named_directly(
    a_shell: InteractiveShell, a_core: FakeCore, tmp_path: Path
) -> None:
    # Given an environment file on disk
    path = tmp_path / "env.json"
    path.write_text(json.dumps({"name": "fromfile", "pip": ["requests==2.31.0"]}))
    # When %deploy names the file
    value_of(a_shell, f"%deploy svc --env {path}")
    # Then the file's environment is used
    assert a_core.deploy_calls[-1]["environment"].name == "fromfile"


def test_deploy_from_the_seeds_inference_config(
    a_shell: InteractiveShell, a_core: FakeCore, tmp_path: Path
) -> None:
    # Given the seeds' inference-configuration JSON naming a source folder
    config = json.loads((DATA / "seed_inferenceconfig.json").read_text())
    config["sourceDirectory"] = str(tmp_path / "src")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "score.py").write_text("def init():\n    pass\n\ndef run(r):\n    return r")
    (tmp_path / "ic.json").write_text(json.dumps(config))
    # When %deploy is given it with --ic
    value_of(a_shell, f"%deploy seedsvc --ic {tmp_path / 'ic.json'} --model m.pkl")
    # Then the entry script, the folder and the environment all come from the file
    call = a_core.deploy_calls[-1]
    assert call["entry_script"] == tmp_path / "src" / "score.py"
    assert call["source_dir"] == tmp_path / "src"
    assert call["environment"].env_vars["EXAMPLE_ENV_VAR"] == "EXAMPLE_VALUE"


def test_ic_and_env_together_are_refused(
    a_shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "not both" in usage_error(a_shell, "%deploy s --ic a.json --env b", capsys)


def test_views_have_text_and_escaped_html() -> None:
    from jupyter_deploy.notebook.display import TableView, as_table

    # Given a table with markup in a cell
    view = TableView("Services", ("name", "state"), [("<b>x</b>", "Healthy")])
    # Then the HTML escapes it and the text form is readable
    assert "&lt;b&gt;x&lt;/b&gt;" in view._repr_html_() and "<b>x</b>" in str(view)
    # And answers become tables only when they are tabular
    assert as_table([1, 2]).columns.tolist() == ["score"]
    assert as_table([{"a": 1}, {"a": 2}]).shape == (2, 1)
    assert as_table({"p": [1, 2], "q": [3, 4]}).shape == (2, 2)
    assert as_table({"p": [1, 2], "q": "text"}) is None and as_table("x") is None


def test_a_registered_environment_is_found_from_another_session(
    a_shell: InteractiveShell, a_core: FakeCore, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a workspace of its own, and an environment registered in it
    monkeypatch.setenv("JUPYTER_DEPLOY_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    value_of(a_shell, f"%%deploy_env shared --register\n{SKLEARN_YAML}")
    # When a new session (fresh magics, empty namespace) deploys with it by name
    jupyter_deploy.load_ipython_extension(a_shell)
    a_shell.user_ns.pop("shared")
    value_of(a_shell, "%deploy svc --env shared")
    # Then the registered version is used
    env = a_core.deploy_calls[-1]["environment"]
    assert env.pip == ("scikit-learn==1.5.2",) and env.version == "1"




def test_an_azureml_environment_variable_works_too(
    a_shell: InteractiveShell, a_core: FakeCore
) -> None:
    # Given the seeds' SDK-style environment in a variable
    run(a_shell, "from jupyter_deploy.azureml.core import Environment\n"
                 "myenv = Environment(name='myenv')\n"
                 "myenv.environment_variables = {'MODE': 'sdk'}").raise_error()
    # When %deploy names it
    value_of(a_shell, "%deploy svc --env myenv")
    # Then its native form is deployed
    env = a_core.deploy_calls[-1]["environment"]
    assert isinstance(env, Environment) and env.env_vars["MODE"] == "sdk"


def test_the_magic_and_the_cli_share_the_deploy_options() -> None:
    # Given the magic's parser and the CLI's deploy sub-command
    from jupyter_deploy.cli.main import build_parser
    from jupyter_deploy.notebook.commands import DEPLOY_PARSER
    from jupyter_deploy.spec.options import DEPLOY_OPTIONS

    cli = build_parser()._subparsers._group_actions[0].choices["deploy"]  # type: ignore[union-attr]
    # Then every shared option is spelled and explained the same way in both
    for option in DEPLOY_OPTIONS:
        for parser in (DEPLOY_PARSER, cli):
            action = next(a for a in parser._actions if a.dest == option.dest)
            assert tuple(action.option_strings) == option.flags
            assert action.help == option.help
