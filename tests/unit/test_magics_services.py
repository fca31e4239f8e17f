"""The service, pull, image and panel magics through a real IPython shell, on recording fakes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from samples import write_score_py
from test_magics_fakes import (
    SKLEARN_YAML,
    FakeCatalog,
    FakeCore,
    FakeService,
    usage_error,
    value_of,
)

from jupyter_deploy.engine import images
from jupyter_deploy.errors import RegistryAuthError
from jupyter_deploy.services import building
from jupyter_deploy.spec.package import PackageSpec

# -- services ----------------------------------------------------------------------------------


def test_list_logs_reload_stop_remove(
    a_shell: InteractiveShell, a_core: FakeCore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given one running service built from a score.py in the working folder
    monkeypatch.chdir(tmp_path)
    script = write_score_py(tmp_path, "score")
    package = PackageSpec("svc", script)
    service = a_core.services["svc"] = FakeService("svc", package=package)
    # Then each command reaches it, and each shows a readable outcome
    listing = value_of(a_shell, "%deploy_ls")
    assert "svc" in str(listing) and "Healthy" in listing._repr_html_()
    assert "ready" in str(value_of(a_shell, "%deploy_logs svc -n 5"))
    assert "reloaded" in str(value_of(a_shell, "%deploy_reload svc --entry score.py"))
    assert "stopped" in str(value_of(a_shell, "%deploy_stop svc"))
    assert "removed" in str(value_of(a_shell, "%deploy_rm svc --image"))
    # And the real Deployment turned each into the target's verbs
    assert service.calls == [("logs", 5), ("copy_files", ["score.py"]), ("restart", None),
                             ("stop", None), ("remove", True)]


def test_an_empty_list_says_how_to_start(a_shell: InteractiveShell) -> None:
    assert "start one with %deploy" in str(value_of(a_shell, "%deploy_ls"))


# -- %deploy_pull ------------------------------------------------------------------------------


@pytest.fixture
def a_pull_recorder(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def pull(ref: str, auth_config: Any = None, on_event: Any = None) -> str:
        calls.append({"ref": ref, "auth": auth_config})
        if auth_config and auth_config.get("password") == "wrong":
            raise RegistryAuthError(f"the registry refused to let us pull {ref}: check the "
                                    "username and password (or run `docker login`).")
        on_event({"status": "Pulling fs layer", "id": "abc"})
        on_event({"status": "Pull complete", "id": "abc"})
        return f"Status: Downloaded newer image for {ref}"

    monkeypatch.setattr(images, "pull", pull)
    monkeypatch.delenv("JUPYTER_DEPLOY_REGISTRY_USERNAME", raising=False)
    monkeypatch.delenv("JUPYTER_DEPLOY_REGISTRY_PASSWORD", raising=False)
    return calls


def test_pull_with_a_password_variable(
    a_shell: InteractiveShell, a_pull_recorder: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the password in a variable
    a_shell.user_ns["secret"] = "s3cr3t-pw"
    # When pulling with it
    shown = value_of(a_shell, "%deploy_pull 127.0.0.1:8999/base/custom:1 -u alice -p $secret")
    # Then the engine got the login, the status line is shown and the password nowhere
    assert a_pull_recorder[-1]["auth"] == {"username": "alice", "password": "s3cr3t-pw",
                                           "serveraddress": "127.0.0.1:8999"}
    assert "Downloaded newer image" in str(shown)
    printed = capsys.readouterr()
    assert "s3cr3t-pw" not in printed.out + printed.err + str(shown)


def test_pull_credentials_from_the_environment_variables(
    a_shell: InteractiveShell, a_pull_recorder: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a login in the variables, which name no registry
    monkeypatch.setenv("JUPYTER_DEPLOY_REGISTRY_USERNAME", "bob")
    monkeypatch.setenv("JUPYTER_DEPLOY_REGISTRY_PASSWORD", "pw-from-env")
    # When pulling from the workspace registry, then from another one
    value_of(a_shell, "%deploy_pull 127.0.0.1:5000/base/custom:1")
    value_of(a_shell, "%deploy_pull 127.0.0.1:8999/base/custom:1")
    # Then the login went with the workspace registry's pull only
    assert a_pull_recorder[0]["auth"] == {"username": "bob", "password": "pw-from-env",
                                          "serveraddress": "127.0.0.1:5000"}
    assert a_pull_recorder[1]["auth"] is None


def test_a_wrong_registry_password_is_one_paragraph_without_it(
    a_shell: InteractiveShell, a_pull_recorder: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    a_shell.user_ns["secret"] = "wrong"
    message = usage_error(a_shell, "%deploy_pull 127.0.0.1:8999/base/custom:1 -u a -p $secret",
                          capsys)
    assert "check the username and password" in message and "wrong" not in message


def test_a_malformed_image_reference(
    a_shell: InteractiveShell, a_pull_recorder: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    message = usage_error(a_shell, "%deploy_pull Not/A//Ref", capsys)
    assert "not a valid image reference" in message and a_pull_recorder == []


def test_panel_needs_a_known_kind(
    a_shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "env, deploy, score, services" in usage_error(a_shell, "%deploy_panel cake", capsys)


def test_images_shows_the_registry_and_our_local_images(
    a_shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_deploy.notebook import display

    monkeypatch.setattr(display, "Catalog", FakeCatalog)
    # When the workspace registry and local images are listed
    view = value_of(a_shell, "%deploy_images")
    # Then both show, with only this project's local images
    text = str(view)
    assert "Registry 127.0.0.1:5000" in text and "base/custom" in text
    assert "jupyter-deploy/svc:1" in text and "other:1" not in text
    # And one repository's tags can be asked for
    tags = value_of(a_shell, "%deploy_images --repository base/custom")
    assert "127.0.0.1:5000/base/custom:1" in tags._repr_html_()


def test_package_only_builds_and_binds_the_image(
    a_shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_deploy.engine.images import BuiltImage

    built: list[Any] = []

    def build_package(spec: Any, log: Any = None, labels: Any = None) -> BuiltImage:
        built.append((spec.name, labels))
        return BuiltImage("sha256:1", f"jupyter-deploy/{spec.name}:abc", "", 2.0)

    monkeypatch.setattr(building, "build_package", build_package)
    shown = value_of(a_shell, "%deploy pkg --package-only --label team=ml --as image")
    assert built == [("pkg", {"team": "ml"})]
    assert a_shell.user_ns["image"].tag == "jupyter-deploy/pkg:abc" and "Built image" in str(shown)


def test_panel_magic_gives_panels_bound_to_the_session(
    a_shell: InteractiveShell, a_core: FakeCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_deploy.widgets import (
        DeployPanel,
        EnvironmentPanel,
        ServicesPanel,
        environment_editor,
    )

    monkeypatch.setattr(environment_editor, "Catalog", FakeCatalog)
    value_of(a_shell, f"%%deploy_env sk\n{SKLEARN_YAML}")
    deploy_panel = value_of(a_shell, "%deploy_panel deploy svc")
    assert isinstance(deploy_panel, DeployPanel) and "sk" in deploy_panel.env.options
    assert isinstance(value_of(a_shell, "%deploy_panel services"), ServicesPanel)
    # A panel's launch binds the service like %deploy does
    deploy_panel.launch_button.click()
    deploy_panel.wait()
    assert a_shell.user_ns["svc"] is a_core.services["svc"]
    editor = value_of(a_shell, "%deploy_panel env sk")
    assert isinstance(editor, EnvironmentPanel) and editor.pip.value == "scikit-learn==1.5.2"
    editor.wait()
    assert "127.0.0.1:5000/package:1" in editor.base_image.options
    # Saving in the editor binds the environment for %deploy
    editor.pip.value = "numpy==2.4.6"
    editor.save_button.click()
    assert a_shell.user_ns["sk"].pip == ("numpy==2.4.6",)
