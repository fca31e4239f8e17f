"""Model packages, custom base images and the CLI flow on the real engine and registries.

Also every bad input the issue names: a base image that does not exist, a private registry with a
wrong password, an unreachable registry, a Dockerfile whose ``RUN`` fails, a pip package with no
wheel for the image's platform — each its own error class, and nothing half-made left behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from ports import an_unused_port
from runs import RUN_ID
from samples import JOBLIB_SCORE_PY, SAMPLE

from jupyter_deploy.cli.main import main
from jupyter_deploy.engine import images
from jupyter_deploy.engine.base_images import build_base
from jupyter_deploy.engine.client import docker_client
from jupyter_deploy.errors import (
    BuildError,
    DependencyError,
    ImageNotFoundError,
    RegistryAuthError,
    RegistryError,
)
from jupyter_deploy.registry.local import LocalRegistry, write_htpasswd
from jupyter_deploy.services.building import default_builder
from jupyter_deploy.services.packages import package_dockerfile, package_image
from jupyter_deploy.services.workspace import Workspace
from jupyter_deploy.spec.environment import Environment, RegistryCredentials
from jupyter_deploy.spec.package import PackageSpec

PINNED = ("scikit-learn==1.9.1", "joblib==1.6.0")
#: The packages' name: this run's own, so its images' tags are too.
PACKAGE = f"pkgtest-{RUN_ID}"


@pytest.fixture(scope="module")
def a_workspace(tmp_path_factory: pytest.TempPathFactory, test_labels: dict[str, str]
                ) -> Workspace:
    workspace = Workspace(tmp_path_factory.mktemp("ws"), labels=test_labels)
    folder = tmp_path_factory.mktemp("model")
    from joblib import dump
    from sklearn.linear_model import Ridge

    features = np.arange(100, dtype=float).reshape(10, 10)
    dump(Ridge().fit(features, features.sum(axis=1)), folder / "model.pkl")
    workspace.register_model(folder / "model.pkl", "ridge")
    return workspace


@pytest.fixture
def a_project(tmp_path: Path) -> Path:
    (tmp_path / "score.py").write_text(JOBLIB_SCORE_PY)
    return tmp_path


@pytest.fixture
def a_spec(a_workspace: Workspace, a_project: Path) -> PackageSpec:
    return PackageSpec(PACKAGE, a_project / "score.py", Environment(name="pkg", pip=PINNED),
                       (a_workspace.get_model("ridge").files(),))


@pytest.fixture(scope="module")
def a_private_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    root = tmp_path_factory.mktemp("private")
    htpasswd = write_htpasswd(root / "htpasswd", {"reader": "right-password"})
    registry = LocalRegistry(f"127.0.0.1:{an_unused_port()}", root, htpasswd=htpasswd)
    registry.start()
    yield registry
    registry.stop()


def test_editing_score_py_reuses_every_dependency_layer(
    a_workspace: Workspace, a_spec: PackageSpec, a_project: Path
):
    # Given a package built once
    log: list[str] = []
    first = package_image(a_spec, a_workspace.registry, log.append, a_workspace.labels)
    # When only score.py changes and it is packaged again
    (a_project / "score.py").write_text(JOBLIB_SCORE_PY + "\n# edited\n")
    log.clear()
    second = package_image(a_spec, a_workspace.registry, log.append, a_workspace.labels)
    # Then it is a new image, and the dependencies were not installed again
    assert second.location != first.location
    text = "\n".join(log)
    if default_builder() == "buildkit":
        # the environment's own image served as it was: no wheel sent, no install step at all
        assert " is built already" in text and "-r /tmp/requirements.txt" not in text
        assert text.count("Using cache") >= 2  # the server's and the models' layers
    else:
        install_step = text.index("-r /tmp/requirements.txt")
        assert "Using cache" in text[install_step:install_step + 400]
        assert text.count("Using cache") >= 3


def test_the_same_inputs_give_the_same_tag(a_workspace: Workspace, a_spec: PackageSpec,
                                           tmp_path: Path):
    first = package_dockerfile(a_spec, a_workspace.registry, tmp_path / "a")
    second = package_dockerfile(a_spec, a_workspace.registry, tmp_path / "b")
    assert first.context is not None and second.context is not None
    assert first.context.digest == second.context.digest


def test_an_image_built_earlier_serves_as_a_base(
    a_workspace: Workspace, a_spec: PackageSpec, a_service_name: str
):
    # Given a package image in the workspace registry (sklearn installed in it)
    earlier = package_image(a_spec, a_workspace.registry, labels=a_workspace.labels)
    assert earlier.location is not None
    # When a new environment names it as its base and installs nothing itself
    from jupyter_deploy.services.deployment import deploy

    env = Environment(name="derived", base_image=earlier.location)
    service = deploy(a_service_name, a_spec.entry_script, a_spec.models, env,
                     labels=a_workspace.labels)
    # Then the service scores with the base image's packages
    try:
        assert len(service.score(SAMPLE).value) == 2
    finally:
        service.remove()


def test_a_base_dockerfile_is_built_first_and_named_in_the_registry(
    a_workspace: Workspace, a_spec: PackageSpec, tmp_path: Path
):
    # Given an environment with a base Dockerfile instead of a base image
    dockerfile = "FROM jupyter-deploy/python:3.11\nENV SLOW_SOFTWARE=installed\n"
    env = Environment(name="fromdockerfile", base_dockerfile=dockerfile, pip=PINNED)
    # When a Dockerfile package is generated
    package = package_dockerfile(_with(a_spec, env), a_workspace.registry, tmp_path / "ctx",
                                 labels=a_workspace.labels)
    # Then the base was built, pushed to the workspace registry, and the Dockerfile names it
    base = package.spec.environment.base_image
    assert base.startswith(f"{a_workspace.registry}/jupyter-deploy/base:")
    assert f"FROM {base}" in (tmp_path / "ctx" / "Dockerfile").read_text()
    assert package.registry.address == a_workspace.registry and package.registry.password is None


def test_a_base_image_that_does_not_exist(a_workspace: Workspace, a_spec: PackageSpec):
    env = Environment(name="nobase", base_image=f"{a_workspace.registry}/nope/nothing:1")
    with pytest.raises(ImageNotFoundError, match="nope/nothing"):
        package_image(_with(a_spec, env), a_workspace.registry, labels=a_workspace.labels)
    assert not docker_client().images.list(name=f"jupyter-deploy/{PACKAGE}-nobase")


def test_a_wrong_password_is_refused_without_being_shown(
    a_workspace: Workspace, a_spec: PackageSpec, a_private_registry: LocalRegistry,
    test_labels: dict[str, str], tmp_path: Path,
):
    # Given a base image pushed to the private registry with the right login
    ref = f"{a_private_registry.address}/base/tiny:1"
    (tmp_path / "Dockerfile").write_text("FROM jupyter-deploy/python:3.11\nRUN true\n")
    right = RegistryCredentials(a_private_registry.address, "reader", "right-password")
    build_base(tmp_path / "Dockerfile", ref, registry=right, push=True, log=lambda _: None,
               labels=test_labels)
    docker_client().images.remove(ref)
    # When an environment names it with a wrong password
    wrong = RegistryCredentials(a_private_registry.address, "reader", "wrong-password")
    env = Environment(name="private", base_image=ref, registry=wrong)
    with pytest.raises(RegistryAuthError) as caught:
        package_image(_with(a_spec, env), a_workspace.registry, labels=a_workspace.labels)
    # Then the error says so, without the password, and nothing was pulled
    assert "wrong-password" not in str(caught.value)
    assert not images.exists(ref)


def test_an_unreachable_registry(a_workspace: Workspace, a_spec: PackageSpec):
    address = f"127.0.0.1:{an_unused_port()}"
    env = Environment(name="away", base_image=f"{address}/base/python:3.11")
    with pytest.raises(RegistryError) as caught:
        package_image(_with(a_spec, env), a_workspace.registry, labels=a_workspace.labels)
    assert not isinstance(caught.value, RegistryAuthError)
    assert address in str(caught.value)


def test_a_failing_run_step_shows_the_logs_tail(tmp_path: Path, test_labels: dict[str, str]):
    (tmp_path / "Dockerfile").write_text(
        "FROM jupyter-deploy/python:3.11\nRUN echo preparing && echo the-real-cause >&2 && exit 3\n"
    )
    tag = f"jupyter-deploy/failing-base:{RUN_ID}"
    with pytest.raises(BuildError) as caught:
        build_base(tmp_path / "Dockerfile", tag, log=lambda _: None, labels=test_labels)
    assert "the-real-cause" in str(caught.value)
    assert "exit 3" in caught.value.build_log or "code: 3" in caught.value.build_log
    assert not images.exists(tag)


def test_a_pip_package_with_no_wheel_for_the_platform(a_workspace: Workspace,
                                                      a_spec: PackageSpec):
    env = Environment(name="nowheel", pip=("pycrypto==2.6.1",))
    with pytest.raises(DependencyError) as caught:
        package_image(_with(a_spec, env), a_workspace.registry, labels=a_workspace.labels)
    assert "pycrypto" in str(caught.value)


def test_the_cli_flow_of_the_seeds(
    a_workspace: Workspace, a_project: Path, tmp_path: Path, a_service_name: str,
    test_labels: dict[str, str], capsys: pytest.CaptureFixture[str],
):
    # Given an inference config and a deployment config, as the seeds' CLI uses them
    ic = a_project / "inferenceconfig.json"
    ic.write_text(json.dumps({"entryScript": "score.py", "environment": {
        "name": "cli-env", "python": {"condaDependencies": {"dependencies": [
            "python=3.11", {"pip": list(PINNED)}]}}}}))
    dc = a_project / "deploymentconfig.json"
    dc.write_text(json.dumps({"computeType": "local"}))
    ws = ["-w", str(a_workspace.root), *[f"--label={k}={v}" for k, v in test_labels.items()]]
    model = str(a_workspace.root / "models" / "ridge" / "1" / "model.pkl")
    # When a model is registered, the workspace registry shown, a package written and deployed
    assert main(["model", "register", "-n", "climodel", "-p", model, *ws]) == 0
    assert main(["workspace", "registry", *ws]) == 0
    assert main(["package", "-m", "climodel:1", "--ic", str(ic), "--output",
                 str(tmp_path / "out"), *ws]) == 0
    assert main(["deploy", a_service_name, "--ic", str(ic), "--dc", str(dc),
                 "-m", "climodel:1", *ws]) == 0
    out = capsys.readouterr().out.splitlines()
    # Then each step printed its result and the service is healthy
    assert out[0] == "climodel:1"
    assert out[1] == a_workspace.registry
    assert (tmp_path / "out" / "Dockerfile").is_file()
    assert out[-1].startswith(f"{a_service_name}: Healthy at http://127.0.0.1:")
    assert main(["rm", a_service_name]) == 0


def test_the_cli_reports_a_bad_inference_config(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]):
    ic = tmp_path / "ic.json"
    ic.write_text('{\n  "entryScript": "score.py",\n  "environment": {"dockr": {}}\n}\n')
    assert main(["package", "-m", "x:1", "--ic", str(ic), "-w", str(tmp_path)]) == 1
    assert "line 3: environment.dockr: unknown key" in capsys.readouterr().err


def _with(spec: PackageSpec, env: Environment) -> PackageSpec:
    from dataclasses import replace

    return replace(spec, name=f"{PACKAGE}-{env.name}", environment=env)


def test_the_cli_builds_a_base_image_into_the_workspace_registry(
    a_workspace: Workspace, tmp_path: Path, test_labels: dict[str, str],
    capsys: pytest.CaptureFixture[str],
):
    # Given a Dockerfile in a folder, as `az acr build --image myimage:v1 --file Dockerfile .`
    (tmp_path / "Dockerfile").write_text("FROM jupyter-deploy/python:3.11\nCOPY note.txt /\n")
    (tmp_path / "note.txt").write_text(f"{tmp_path.name}\n")
    labels = [f"--label={k}={v}" for k, v in test_labels.items()]
    # When the CLI builds and pushes it
    assert main(["image", "build", str(tmp_path), "--image", "myimage",
                 "-w", str(a_workspace.root), *labels]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    # Then the build streamed, the push reported its digest, and one summary line ends it
    assert any("Step 2/" in line for line in out)
    assert any("digest: sha256:" in line for line in out)
    assert out[-1].startswith("Run ID: ") and " was successful after 0m" in out[-1]
    assert out[-1].endswith(f"({a_workspace.registry}/myimage:latest)")


def test_a_native_deploy_builds_its_base_dockerfile_first(
    a_workspace: Workspace, a_spec: PackageSpec, a_service_name: str
):
    # Given an environment whose base comes from a Dockerfile
    from jupyter_deploy.services.deployment import deploy

    dockerfile = "FROM jupyter-deploy/python:3.11\nENV SLOW_SOFTWARE=installed\n"
    env = Environment(name="native-dockerfile", base_dockerfile=dockerfile, pip=PINNED)
    # When it is deployed with the native API
    service = deploy(a_service_name, a_spec.entry_script, a_spec.models, env,
                     labels=a_workspace.labels)
    # Then the service runs on that base and scores
    try:
        assert len(service.score(SAMPLE).value) == 2
        assert "SLOW_SOFTWARE=installed" in service.container.attrs["Config"]["Env"]
    finally:
        service.remove()


def test_conda_only_packages_on_a_base_without_conda_are_named(
    a_workspace: Workspace, a_spec: PackageSpec
):
    env = Environment(name="condaonly", conda=("python=3.11", "libgdal=3.9"), pip=PINNED)
    with pytest.raises(DependencyError) as caught:
        package_image(_with(a_spec, env), a_workspace.registry, labels=a_workspace.labels)
    assert caught.value.requirements == ("libgdal=3.9",)
    assert "jupyter-deploy/python:3.11 has no conda" in str(caught.value)


def test_an_unpinned_requirement_is_warned_with_the_resolved_pin(
    a_workspace: Workspace, a_spec: PackageSpec, tmp_path: Path
):
    log: list[str] = []
    env = Environment(name="loose", pip=("scikit-learn==1.9.1", "joblib"))
    package_dockerfile(_with(a_spec, env), a_workspace.registry, tmp_path / "ctx", log.append)
    warnings = [line for line in log if line.startswith("warning: 'joblib' is not pinned")]
    assert len(warnings) == 1 and "pin it as 'joblib==" in warnings[0]
