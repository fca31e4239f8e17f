"""Reading and writing environments: native YAML/JSON, conda files, the seeds' inference JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_deploy.errors import EnvironmentSpecError
from jupyter_deploy.spec import formats as environment_io
from jupyter_deploy.spec.environment import Environment, RegistryCredentials

SEED_JSON = Path(__file__).parent / "data" / "seed_inferenceconfig.json"


@pytest.fixture
def the_seed_inference_config() -> str:
    return SEED_JSON.read_text()


@pytest.fixture
def a_full_environment() -> Environment:
    return Environment(
        name="full", base_image="127.0.0.1:5000/base/python:3.11", pip=("numpy==2.1.3",),
        conda=("python=3.11",), channels=("conda-forge",), env_vars={"A": "1"},
        registry=RegistryCredentials("127.0.0.1:5000", "reader", "s3cret"),
        docker_arguments=("--cpus", "1"), shm_size="1g", inferencing_stack_version="latest",
        version="3",
    )


def test_the_seed_inference_config_round_trips_without_loss(the_seed_inference_config: str):
    # Given the seeds' inference-configuration JSON
    # When it is read and written back as an inference config
    env = environment_io.loads(the_seed_inference_config)
    text = environment_io.dumps(env, "inference-config", entry_script="score.py")
    # Then the JSON documents are equal, and the fields landed where they belong
    assert json.loads(text) == json.loads(the_seed_inference_config)
    assert env.name == "my-deploy-env"
    assert env.pip[2] == "scikit-learn"
    assert env.conda == ("python=3.6.2",)
    assert dict(env.env_vars) == {"EXAMPLE_ENV_VAR": "EXAMPLE_VALUE"}


def test_the_inference_config_gives_its_entry_script(the_seed_inference_config: str):
    # When the seed is read as an inference configuration
    spec = environment_io.loads_inference_config(the_seed_inference_config)
    # Then the entry script and the environment are both there
    assert spec.entry_script == "score.py"
    assert spec.environment.channels == ("conda-forge",)


@pytest.mark.parametrize("fmt", ["yaml", "json", "azureml", "inference-config"])
def test_every_full_format_round_trips(a_full_environment: Environment, fmt: str):
    # Given an environment using every field
    # When it is written in a format and read back (format auto-detected)
    back = environment_io.loads(environment_io.dumps(a_full_environment, fmt))
    # Then it is equal except for the password, which is never written
    assert back == a_full_environment
    assert back.registry is not None and back.registry.password is None


def test_no_format_writes_the_password(a_full_environment: Environment):
    for fmt in environment_io.FORMATS:
        assert "s3cret" not in environment_io.dumps(a_full_environment, fmt)


def test_a_conda_file_round_trips():
    # Given a conda environment file with channels, pip and variables
    text = ("name: myenv\nchannels:\n- conda-forge\ndependencies:\n- python=3.11\n- numpy=2.1\n"
            "- pip:\n  - requests==2.32.3\nvariables:\n  MODE: fast\n")
    # When it is read and written back as conda
    env = environment_io.loads(text)
    # Then conda and pip packages are separated, and the text is the same
    assert env.conda == ("python=3.11", "numpy=2.1")
    assert env.pip == ("requests==2.32.3",)
    assert environment_io.dumps(env, "conda") == text


def test_a_name_overrides_the_documents(the_seed_inference_config: str):
    assert environment_io.loads(the_seed_inference_config, name="other").name == "other"


def test_save_and_load_follow_the_suffix(a_full_environment: Environment, tmp_path: Path):
    for name in ("env.yml", "env.json"):
        path = environment_io.save(a_full_environment, tmp_path / name)
        assert environment_io.load(path).base_image == a_full_environment.base_image
    assert (tmp_path / "env.json").read_text().startswith("{")


def test_an_unknown_key_is_named_with_its_line(the_seed_inference_config: str):
    # Given the seed with a misspelt key on line 10
    text = the_seed_inference_config.replace('"shmSize"', '"shmSise"')
    # When it is read
    with pytest.raises(EnvironmentSpecError) as caught:
        environment_io.loads(text)
    # Then the error names the key path and its line, and lists the known keys
    assert caught.value.key == "environment.docker.shmSise"
    assert caught.value.line == 10
    assert "shmSize" in str(caught.value)


def test_a_wrong_type_is_named_with_its_line(the_seed_inference_config: str):
    text = the_seed_inference_config.replace('"enabled": false', '"enabled": "no"')
    with pytest.raises(EnvironmentSpecError, match="must be bool") as caught:
        environment_io.loads_inference_config(text)
    assert (caught.value.key, caught.value.line) == ("environment.docker.enabled", 8)


def test_a_bad_pip_requirement_points_into_the_dependencies(the_seed_inference_config: str):
    text = the_seed_inference_config.replace('"scikit-learn"', '"scikit learn!"')
    with pytest.raises(EnvironmentSpecError) as caught:
        environment_io.loads(text)
    assert caught.value.key is not None and caught.value.key.startswith(
        "environment.python.condaDependencies.dependencies"
    )


def test_broken_syntax_gives_the_line():
    with pytest.raises(EnvironmentSpecError) as caught:
        environment_io.loads('{\n  "name": "x",\n  "pip": [\n}\n')
    assert caught.value.line == 4


def test_a_missing_entry_script_is_reported():
    with pytest.raises(EnvironmentSpecError, match="entryScript"):
        environment_io.loads_inference_config('{"environment": {"name": "x"}}')


def test_an_unknown_format_lists_the_known_ones(a_full_environment: Environment):
    with pytest.raises(EnvironmentSpecError, match="inference-config"):
        environment_io.dumps(a_full_environment, "toml")


def test_a_missing_file_is_a_spec_error(tmp_path: Path):
    with pytest.raises(EnvironmentSpecError, match="cannot read"):
        environment_io.load(tmp_path / "nope.yml")


def test_a_conda_file_with_an_unknown_key_names_it():
    with pytest.raises(EnvironmentSpecError) as caught:
        environment_io.loads("name: x\ndependencies:\n- numpy\nchanels:\n- conda-forge\n")
    assert (caught.value.key, caught.value.line) == ("chanels", 4)
