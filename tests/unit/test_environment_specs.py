"""Environment specs, conda spec helpers and the workspace's bookkeeping (no engine)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_deploy.errors import ConfigurationError, EnvironmentSpecError
from jupyter_deploy.services.workspace import Workspace, find_config
from jupyter_deploy.spec.conda import CondaDependencies, conda_only, python_pin, spec_name
from jupyter_deploy.spec.environment import Environment, RegistryCredentials


@pytest.mark.parametrize(("spec", "name"), [
    ("numpy", "numpy"), ("numpy=2.1", "numpy"), ("conda-forge::libgdal>=3", "libgdal"),
    ("Python = 3.11", "python"), ("scikit-learn==1.5.*", "scikit-learn"),
])
def test_conda_spec_names(spec: str, name: str):
    assert spec_name(spec) == name


def test_only_real_conda_packages_need_conda():
    assert conda_only(["python=3.11", "pip", "setuptools", "numpy"]) == ["numpy"]


@pytest.mark.parametrize(("specs", "pin"), [
    (["python=3.6.2"], "3.6.2"), (["numpy", "python==3.11"], "3.11"), (["numpy"], None),
])
def test_the_python_pin(specs: list[str], pin: str | None):
    assert python_pin(specs) == pin


def test_conda_dependencies_from_a_native_environment_and_back():
    env = Environment(name="e", pip=("a==1",), conda=("numpy",), channels=("c",))
    deps = CondaDependencies.of(env)
    deps.add_pip_package("b==2")
    back = deps.apply_to(env)
    assert (back.pip, back.conda, back.channels) == (("a==1", "b==2"), ("numpy",), ("c",))


def test_an_environment_is_frozen_and_masks_its_password():
    env = Environment(registry=RegistryCredentials("r:5000", "u", "secret"))
    assert "secret" not in repr(env)
    with pytest.raises(AttributeError):
        env.name = "x"  # type: ignore[misc]


def test_extras_are_immutable_and_kept():
    env = Environment(extras={"docker.enabled": True})
    assert env.extras["docker.enabled"] is True
    with pytest.raises(TypeError):
        env.extras["x"] = 1  # type: ignore[index]


def test_a_conda_entry_must_be_text():
    with pytest.raises(EnvironmentSpecError, match=r"conda\[0\]"):
        Environment(conda=("",))


def test_find_config_accepts_a_file_or_the_azureml_folder(tmp_path: Path):
    (tmp_path / ".azureml").mkdir()
    config = tmp_path / ".azureml" / "config.json"
    config.write_text("{}")
    assert find_config(tmp_path) == config
    assert find_config(config) == config


def test_write_config_then_from_config_is_the_same_workspace(tmp_path: Path):
    ws = Workspace(tmp_path / "ws", name="proj")
    path = ws.write_config(tmp_path)
    again = Workspace.from_config(path)
    assert (again.name, again.root) == ("proj", (tmp_path / "ws").resolve())


def test_a_broken_config_says_which_file(tmp_path: Path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ConfigurationError, match=r"config\.json"):
        Workspace.from_config(tmp_path)


def test_a_model_folder_keeps_its_name_under_the_version(tmp_path: Path):
    (tmp_path / "outputs").mkdir()
    (tmp_path / "outputs" / "weights.bin").write_bytes(b"w")
    ws = Workspace(tmp_path / "ws")
    model = ws.register_model(tmp_path / "outputs", "net")
    assert (model.path / "outputs" / "weights.bin").read_bytes() == b"w"
    assert json.loads((model.path.parent / "1.json").read_text())["description"] is None
    assert [m.id for m in ws.list_models()] == ["net:1"]


def test_bad_model_names_and_paths_are_refused(tmp_path: Path):
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(ConfigurationError, match="does not exist"):
        ws.register_model(tmp_path / "missing.pkl", "m")
    (tmp_path / "m.pkl").write_bytes(b"")
    with pytest.raises(ConfigurationError, match="not a valid model name"):
        ws.register_model(tmp_path / "m.pkl", "../escape")
