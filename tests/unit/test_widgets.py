"""The panels driven like a user would: set values, click buttons, read what the panel shows.

The core is replaced by the recording fakes of test_magics (the panels call the same functions
the magics call); background work is awaited with ``panel.wait()``.
"""

from __future__ import annotations

import html
import re
import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from test_magics_fakes import FakeCore, FakeService

from jupyter_deploy.engine.images import BuiltImage
from jupyter_deploy.errors import PortInUseError
from jupyter_deploy.services import deployment as deployments
from jupyter_deploy.spec.environment import Environment
from jupyter_deploy.widgets import DeployPanel, EnvironmentPanel, ScoringPanel, ServicesPanel
from jupyter_deploy.widgets.build_progress import BuildProgress


def shown(panel: Any) -> str:
    """Everything the panel's output area holds, as text."""
    parts = []
    for output in panel.output.outputs:
        parts.append(output.get("text", ""))
        parts.extend(str(v) for v in output.get("data", {}).values())
    return "".join(parts)


def status(panel: Any) -> str:
    """The panel's status line as a user reads it."""
    return html.unescape(re.sub(r"<[^>]+>", "", panel.status.value))


class FakeCatalog:
    """Answers like the registries layer's Catalog."""

    def local_images(self) -> list[dict[str, Any]]:
        return [{"id": "sha256:1", "tags": ["jupyter-deploy/python:3.11"], "labels": {}}]

    def registries(self) -> list[dict[str, Any]]:
        return [{"address": "127.0.0.1:5000", "reachable": True, "error": None}]

    def repositories(self, address: str) -> list[str]:
        return ["base/custom"]

    def tags(self, address: str, repository: str) -> list[dict[str, Any]]:
        return [{"repository": repository, "tag": "1"}]


@pytest.fixture
def a_core(monkeypatch: pytest.MonkeyPatch) -> FakeCore:
    core = FakeCore()
    monkeypatch.setattr(deployments, "deploy", core.deploy)
    monkeypatch.setattr(deployments, "DeploymentCollection", core.collection())
    return core


# -- the environment editor --------------------------------------------------------------------


def test_the_editor_saves_what_the_fields_say() -> None:
    # Given an editor whose picker lists the catalog's images
    saved: list[Environment] = []
    panel = EnvironmentPanel(on_save=saved.append, catalog=FakeCatalog())  # type: ignore[arg-type]
    panel.wait()
    assert set(panel.base_image.options) == {"jupyter-deploy/python:3.11",
                                             "127.0.0.1:5000/base/custom:1"}
    # When the user fills the form, including a private registry password, and saves
    panel.name.value = "custom"
    panel.base_image.value = "127.0.0.1:5000/base/custom:1"
    panel.pip.value = "scikit-learn==1.5.2\n\nnumpy==1.26.4\n"
    panel.env_vars.add_button.click()
    key, value, _ = panel.env_vars.rows[-1].children
    key.value, value.value = "MODE", "fast"
    panel.registry_address.value = "127.0.0.1:5000"
    panel.registry_username.value = "alice"
    panel.registry_password.value = "s3cr3t-pw"
    panel.save_button.click()
    # Then the saved environment is exactly that, and the password is shown nowhere
    env = saved[-1]
    assert env.name == "custom" and env.base_image == "127.0.0.1:5000/base/custom:1"
    assert env.pip == ("scikit-learn==1.5.2", "numpy==1.26.4")
    assert dict(env.env_vars) == {"MODE": "fast"}
    assert env.registry is not None and env.registry.password == "s3cr3t-pw"
    assert "Saved environment 'custom'" in status(panel)
    assert "s3cr3t-pw" not in shown(panel) + status(panel)


def test_the_editor_names_a_bad_field_and_saves_nothing() -> None:
    saved: list[Environment] = []
    panel = EnvironmentPanel(on_save=saved.append, load_images=False)
    panel.pip.value = "scikit-learn=>1.5"
    panel.save_button.click()
    assert saved == [] and "pip[0]" in status(panel)


def test_the_editor_removes_variables_and_shows_yaml() -> None:
    panel = EnvironmentPanel(Environment(name="e", env_vars={"A": "1", "B": "2"}),
                             load_images=False)
    panel.env_vars.rows[0].children[2].click()
    panel.yaml_button.click()
    assert panel.env_vars.value == {"B": "2"}
    assert "B: '2'" in shown(panel) or "B: \"2\"" in shown(panel)


# -- the deploy panel --------------------------------------------------------------------------


def test_launch_runs_deploy_off_the_main_thread_and_streams_its_log(
    a_core: FakeCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a panel offering one environment
    env = Environment(name="sk", pip=["scikit-learn==1.5.2"])
    threads: list[bool] = []
    real_deploy = a_core.deploy

    def deploy(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread() is threading.main_thread())
        return real_deploy(*args, **kwargs)

    monkeypatch.setattr(deployments, "deploy", deploy)
    bound: list[Any] = []
    panel = DeployPanel("svc", environments=lambda: {"sk": env}, on_deployed=bound.append)
    # When the user picks it, a port and a model, and clicks Launch
    panel.env.value = "sk"
    panel.port.value = 8952
    panel.models.value = "model.pkl, other/"
    panel.launch_button.click()
    panel.wait()
    # Then deploy ran on the worker thread with those values, and the panel shows the outcome
    assert threads == [False]
    call = a_core.deploy_calls[-1]
    assert call["name"] == "svc" and call["port"] == 8952 and call["environment"] == env
    assert [m.path for m in call["models"]] == [Path("model.pkl"), Path("other/")]
    assert call["source_dir"] is None
    assert "Step 1/2" in shown(panel)
    assert panel.progress.value == 1.0 and panel.progress.bar_style == "success"
    assert "Healthy" in panel.state.value and bound == [a_core.services["svc"]]
    assert not panel.launch_button.disabled


def test_a_failed_launch_says_why_in_the_panel(a_core: FakeCore) -> None:
    a_core.fail_with = PortInUseError("port 8953 on 127.0.0.1 is taken by process 'x': pass "
                                      "another port")
    panel = DeployPanel("svc")
    panel.port.value = 8953
    panel.launch_button.click()
    # Then wait() raises the failure (a script can tell), and the panel says why
    with pytest.raises(PortInUseError):
        panel.wait()
    assert "taken by process" in status(panel) and "failed" in status(panel)
    assert "pass another port" in shown(panel) and panel.progress.bar_style == "danger"


def test_build_only_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    specs: list[Any] = []

    def build_package(spec: Any, log: Any = None, labels: Any = None) -> BuiltImage:
        specs.append(spec)
        return BuiltImage("sha256:abc", f"jupyter-deploy/{spec.name}:1", "", 1.5)

    monkeypatch.setattr(deployments, "build_package", build_package)
    panel = DeployPanel("pkg", entry_script="app/score.py")
    panel.build_button.click()
    panel.wait()
    assert specs[0].name == "pkg" and specs[0].entry_script == Path("app/score.py")
    assert panel.image is not None and "Built jupyter-deploy/pkg:1" in status(panel)


def test_stop_and_remove_act_on_the_named_service(a_core: FakeCore) -> None:
    service = a_core.services["svc"] = FakeService("svc")
    panel = DeployPanel("svc")
    panel.stop_button.click()
    panel.wait()
    panel.remove_button.click()
    panel.wait()
    assert service.calls == [("stop", None), ("remove", False)]
    assert "Deleted" in panel.state.value


def test_stop_of_an_unknown_service_is_reported(a_core: FakeCore) -> None:
    panel = DeployPanel("ghost")
    panel.stop_button.click()
    assert "no service named 'ghost'" in status(panel)


# -- the scoring panel -------------------------------------------------------------------------


def test_send_scores_the_sample_and_shows_a_table(a_core: FakeCore) -> None:
    # Given a running service, offered by the panel
    service = a_core.services["svc"] = FakeService("svc")
    results: list[Any] = []
    panel = ScoringPanel(on_result=results.append)
    assert panel.service.options == ("svc",)
    # When the user edits the sample and sends it
    panel.service.value = "svc"
    panel.sample.value = '{"data": [[1, 2, 3]]}'
    panel.send_button.click()
    panel.wait()
    # Then the service got it and the panel shows the table and the latency
    assert service.calls == [("score", {"data": [[1, 2, 3]]})]
    assert "<table" in shown(panel) and panel.latency.value == "12.3 ms"
    assert isinstance(results[0].table, pd.DataFrame)


def test_a_sample_naming_a_dataframe(a_core: FakeCore) -> None:
    service = a_core.services["svc"] = FakeService("svc")
    frame = pd.DataFrame({"x": [1.0]})
    panel = ScoringPanel("svc", namespace={"df": frame})
    panel.sample.value = "$df"
    panel.send_button.click()
    panel.wait()
    assert service.calls[0][1] is frame


def test_bad_json_is_reported_with_its_line(a_core: FakeCore) -> None:
    a_core.services["svc"] = FakeService("svc")
    panel = ScoringPanel("svc")
    panel.sample.value = '{"data":\n [[1, 2]\n'
    panel.send_button.click()
    assert "line 2" in status(panel) and panel.last_job is None


# -- the services overview ---------------------------------------------------------------------


def test_the_overview_lists_services_and_acts_on_a_row(a_core: FakeCore) -> None:
    # Given two services
    a_core.services["a"] = FakeService("a", port=8960)
    b = a_core.services["b"] = FakeService("b", port=8961)
    panel = ServicesPanel()
    # Then both are listed with state and port
    assert [r[:3] for r in panel.rows] == [("a", "Healthy", 8960), ("b", "Healthy", 8961)]
    # When the user reads b's log, then stops and removes it
    panel.row_buttons["b"]["Logs"].click()
    panel.wait()
    assert "ready" in shown(panel)
    panel.row_buttons["b"]["Stop"].click()
    panel.wait()
    assert b.calls[-1] == ("stop", None) and "Stopped b." in status(panel)
    del a_core.services["b"]
    panel.row_buttons["a"]["Remove"].click()
    panel.wait()
    assert a_core.services["a"].calls == [("remove", False)]


def test_an_empty_overview_says_how_to_start(a_core: FakeCore) -> None:
    panel = ServicesPanel()
    assert "launch one with %deploy" in panel.table.children[-1].value


def test_launch_returns_at_once_and_the_kernel_stays_free(
    a_core: FakeCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a deployment that takes as long as the test wants
    release = threading.Event()
    real_deploy = a_core.deploy

    def slow_deploy(*args: Any, **kwargs: Any) -> Any:
        release.wait()
        return real_deploy(*args, **kwargs)

    monkeypatch.setattr(deployments, "deploy", slow_deploy)
    panel = DeployPanel("svc")
    # When Launch is clicked
    panel.launch_button.click()
    # Then the click returns while the work goes on, and the panel says it is busy
    assert panel.last_job is not None and not panel.last_job.done()
    assert "Launching svc" in status(panel) and panel.launch_button.disabled
    # And once the work ends the panel is usable again
    release.set()
    panel.wait()
    assert "answers at" in status(panel) and not panel.launch_button.disabled


def test_a_source_folder_holds_the_entry_script(a_core: FakeCore, tmp_path: Path) -> None:
    # Given a folder with the script in it
    (tmp_path / "score.py").write_text("def init():\n    pass\n\ndef run(r):\n    return r\n")
    panel = DeployPanel("svc")
    # When the folder is named and the service launched
    panel.source_dir.value = str(tmp_path)
    panel.launch_button.click()
    panel.wait()
    # Then the script is the folder's, and the folder goes with it
    call = a_core.deploy_calls[-1]
    assert call["entry_script"] == tmp_path / "score.py" and call["source_dir"] == tmp_path


def test_import_fills_the_form_from_a_conda_file_and_points_at_bad_lines() -> None:
    panel = EnvironmentPanel(load_images=False)
    # When a conda environment file is pasted and imported
    panel.import_text.value = ("name: fromconda\nchannels: [conda-forge]\ndependencies:\n"
                               "  - numpy=1.26\n  - pip:\n    - requests==2.31.0\n")
    panel.import_button.click()
    # Then the fields show it, ready to be saved
    assert panel.name.value == "fromconda" and panel.pip.value == "requests==2.31.0"
    assert "numpy=1.26" in panel.conda.value and "Imported" in status(panel)
    # And broken text is reported with its line, leaving the form as it was
    panel.import_text.value = "pip:\n  - [unclosed\n"
    panel.import_button.click()
    assert "line" in status(panel) and panel.name.value == "fromconda"


def test_the_progress_bar_keeps_room_for_a_service_built_on_a_new_environment() -> None:
    # Given a bar following a cold deploy's log: the environment's image, then the service's
    progress = BuildProgress()
    progress.start()
    progress("Building the environment jupyter-deploy/environments:0123456789abcdef …")
    progress("Step 2/2 : RUN --mount=type=bind,source=wheels,target=/tmp/wheels …")
    during_install = progress.bar.value
    # When the service's build on it follows
    progress("Building jupyter-deploy/mymodel:fedcba9876543210 …")
    progress("Step 6/6 : WORKDIR /var/azureml-app")
    # Then the long install step left room for it, and the bar only ever moved forward
    assert 0.1 < during_install <= 0.7 < progress.bar.value <= 0.85
    progress("Service 'mymodel' is healthy: http://127.0.0.1:5001/score")
    assert progress.bar.value == 1.0
