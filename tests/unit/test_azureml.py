"""The Azure ML compatibility layer: SDK-shaped objects that convert to the native specs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_deploy.azureml.core import Workspace
from jupyter_deploy.azureml.core.conda_dependencies import CondaDependencies
from jupyter_deploy.azureml.core.environment import Environment
from jupyter_deploy.azureml.core.model import InferenceConfig, Model
from jupyter_deploy.azureml.core.webservice import LocalWebservice
from jupyter_deploy.config import get_config
from jupyter_deploy.errors import ConfigurationError, EnvironmentSpecError
from jupyter_deploy.spec import formats as environment_io

SEED_JSON = Path(__file__).parent / "data" / "seed_inferenceconfig.json"


@pytest.fixture
def a_workspace(tmp_path: Path) -> Workspace:
    return Workspace(path=tmp_path / "ws")


@pytest.fixture
def the_seed_environment() -> Environment:
    """The seeds' SDK snippet, attribute by attribute."""
    myenv = Environment(name="myenv")
    myenv.docker.enabled = True
    myenv.docker.base_image = "127.0.0.1:5301/o16n-sample-user-base/ubuntu-miniconda:latest"
    myenv.docker.base_image_registry.address = "127.0.0.1:5301"
    myenv.docker.base_image_registry.username = "username"
    myenv.docker.base_image_registry.password = "password"
    myenv.inferencing_stack_version = "latest"
    conda_dep = CondaDependencies()
    conda_dep.add_pip_package("azureml-defaults")
    myenv.python.conda_dependencies = conda_dep
    return myenv


def test_the_seed_environment_becomes_a_native_spec(the_seed_environment: Environment):
    # When the SDK-style environment is converted
    native = the_seed_environment.to_native()
    # Then every attribute landed in the frozen spec, the password in memory only
    assert native.base_image.endswith("ubuntu-miniconda:latest")
    assert native.registry is not None and native.registry.password == "password"
    assert native.pip == ("azureml-defaults",)
    assert native.inferencing_stack_version == "latest"
    assert native.extras["docker.enabled"] is True


def test_reprs_and_files_never_show_the_password(the_seed_environment: Environment,
                                                 tmp_path: Path):
    assert "password" not in repr(the_seed_environment).replace('"password": null', "")
    assert "'password'" not in repr(the_seed_environment.docker.base_image_registry)
    the_seed_environment.save_to_directory(tmp_path / "env")
    for file in (tmp_path / "env").iterdir():
        assert '"password"' not in file.read_text().replace('"password": null', "")


def test_an_environment_round_trips_through_a_directory(the_seed_environment: Environment,
                                                        tmp_path: Path):
    the_seed_environment.save_to_directory(tmp_path / "env")
    back = Environment.load_from_directory(tmp_path / "env")
    assert back.to_native().with_changes(registry=None) == (
        the_seed_environment.to_native().with_changes(registry=None))
    assert back.docker.base_image_registry.username == "username"


def test_a_default_environment_uses_the_projects_base_image():
    assert Environment("plain").to_native().base_image == get_config().default_base_image


def test_a_bad_field_is_named():
    env = Environment("bad")
    env.environment_variables = {"1BAD": "x"}
    with pytest.raises(EnvironmentSpecError, match="env_vars"):
        env.to_native()


def test_conda_dependencies_edit_like_the_sdk(tmp_path: Path):
    # Given the SDK's create() and add_* calls
    deps = CondaDependencies.create(pip_packages=["numpy==2.1.3"], python_version="3.11")
    deps.add_pip_package("numpy==2.2.0")
    deps.add_conda_package("libgdal")
    deps.add_channel("conda-forge")
    deps.add_channel("conda-forge")
    # Then packages are replaced by name, channels kept once, and the YAML reads back
    assert list(deps.pip_packages) == ["numpy==2.2.0"]
    assert list(deps.conda_channels) == ["conda-forge"]
    assert deps.get_python_version() == "3.11"
    path = deps.save(tmp_path / "env.yml")
    again = CondaDependencies(path)
    assert list(again.conda_packages) == ["python=3.11", "libgdal"]
    assert list(again.pip_packages) == ["numpy==2.2.0"]
    deps.remove_pip_package("numpy")
    assert list(deps.pip_packages) == []


def test_an_environment_from_pip_requirements(tmp_path: Path):
    (tmp_path / "requirements.txt").write_text("# pinned\nscipy == 1.2.3\n-r other.txt\n")
    env = Environment.from_pip_requirements("pipenv", tmp_path / "requirements.txt")
    assert env.to_native().pip == ("scipy == 1.2.3",)


def test_the_inference_config_json_reads_into_sdk_objects():
    config = InferenceConfig.from_file(SEED_JSON)
    assert config.entry_script == "score.py"
    assert config.environment.name == "my-deploy-env"
    assert config.environment.environment_variables == {"EXAMPLE_ENV_VAR": "EXAMPLE_VALUE"}
    text = environment_io.dumps(config.native_environment(), "inference-config")
    assert json.loads(text) == json.loads(SEED_JSON.read_text())


def test_an_inference_config_without_an_entry_script_needs_models_that_describe_themselves(
    a_workspace: Workspace, tmp_path: Path,
):
    # An InferenceConfig may leave the script out (as Azure ML v2 does for MLflow models) ...
    config = InferenceConfig()
    # ... but models that do not describe themselves then have nothing to be served by
    (tmp_path / "weights.bin").write_bytes(b"0")
    model = Model.register(a_workspace, str(tmp_path / "weights.bin"), "weights")
    with pytest.raises(ConfigurationError, match=r"score\.py"):
        config.package_spec("svc", [model])


def test_models_are_versioned_in_the_workspace(a_workspace: Workspace, tmp_path: Path):
    # Given a model file registered twice
    (tmp_path / "model.pkl").write_bytes(b"v1")
    first = Model.register(a_workspace, str(tmp_path / "model.pkl"), "ridge")
    (tmp_path / "model.pkl").write_bytes(b"v2")
    second = Model.register(a_workspace, str(tmp_path / "model.pkl"), "ridge", tags={"a": "b"})
    # Then versions count up, the latest is the default, and each keeps its own bytes
    assert (first.id, second.id) == ("ridge:1", "ridge:2")
    assert Model(a_workspace, "ridge").version == 2
    assert Model(a_workspace, id="ridge:1").registered.files().version == 1
    assert (Path(Model(a_workspace, "ridge", version=1).download(str(tmp_path / "d")))
            .read_bytes() == b"v1")
    assert a_workspace.models["ridge"].tags == {"a": "b"}


def test_an_unknown_model_says_how_to_register(a_workspace: Workspace):
    with pytest.raises(ConfigurationError, match="register"):
        Model(a_workspace, "nope")


def test_environments_are_registered_without_their_password(
    a_workspace: Workspace, the_seed_environment: Environment
):
    registered = the_seed_environment.register(a_workspace)
    assert registered.version == "1"
    assert Environment.get(a_workspace, "myenv").docker.base_image_registry.password is None
    stored = next((a_workspace.root / "environments" / "myenv").glob("*.yml")).read_text()
    assert "password" not in stored


def test_from_config_finds_a_config_in_a_parent(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch):
    # Given a config.json two folders up that names a workspace folder
    (tmp_path / "config.json").write_text(json.dumps({"workspace_name": "proj", "path": "wsdir",
                                                      "subscription_id": "ignored"}))
    (tmp_path / "a" / "b").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "a" / "b")
    # When the SDK call runs there
    ws = Workspace.from_config()
    # Then it is that workspace, and its details name the workspace registry
    assert (ws.name, ws.root) == ("proj", tmp_path / "wsdir")
    assert ws.get_details()["containerRegistry"] == get_config().registry_address


def test_without_a_config_the_default_workspace_is_used(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("JUPYTER_DEPLOY_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert Workspace.from_config().root == tmp_path / "home" / "workspace"


def test_a_local_deploy_configuration_carries_the_port():
    assert LocalWebservice.deploy_configuration(port=8890).port == 8890


def test_a_deployment_needs_an_inference_config_and_a_cluster_config_a_cluster(
    a_workspace: Workspace, tmp_path: Path
):
    from jupyter_deploy.azureml.core.webservice import AksWebservice

    with pytest.raises(ConfigurationError, match="InferenceConfig"):
        Model.deploy(a_workspace, "svc", [], None)
    # An AKS configuration with no deployment_target would run nowhere: said before any build
    (tmp_path / "score.py").write_text("def init(): pass\ndef run(raw): return 1\n")
    with pytest.raises(ConfigurationError, match="deployment_target=ComputeTarget"):
        Model.deploy(a_workspace, "svc", [], InferenceConfig(str(tmp_path / "score.py")),
                     AksWebservice.deploy_configuration(num_replicas=2))


def test_a_conda_dependencies_file_is_read(tmp_path: Path):
    (tmp_path / "env.yml").write_text("dependencies:\n- pip:\n  - requests==2.32.3\n")
    env = Environment("withfile")
    env.python.conda_dependencies_file = str(tmp_path / "env.yml")
    assert env.to_native().pip == ("requests==2.32.3",)


def test_a_new_environment_names_the_default_base_image_and_a_dockerfile_replaces_it():
    # Given a new SDK environment, as the seeds make one
    env = Environment(name="myenv")
    # Then its docker section names the base image it will use, as the SDK's does
    assert env.docker.base_image == get_config().default_base_image
    # And setting a Dockerfile clears the image (the two exclude each other), and back
    env.docker.base_dockerfile = "FROM python:3.11-slim\n"
    assert env.docker.base_image is None
    env.docker.base_image = "127.0.0.1:5000/base/custom:1"
    assert env.docker.base_dockerfile is None
