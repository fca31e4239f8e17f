"""Dockerfiles rendered for typical environments, compared with golden files (diff on failure).

A missing golden file is a failure, never written on the fly. After an intended change, run
with ``UPDATE_GOLDEN=1``: each file that changes is rewritten and its test is skipped (not
passed), then review the diff in git and commit it. The golden files must be tracked by git,
with no unstaged change, and each must belong to a case.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from golden import assert_matches_golden

from jupyter_deploy.build.context import (
    check_conda,
    pip_requirements,
    python_warnings,
    render_dockerfile,
)
from jupyter_deploy.errors import DependencyError
from jupyter_deploy.spec.environment import Environment, RegistryCredentials
from jupyter_deploy.spec.package import ModelFiles, PackageSpec

GOLDEN = Path(__file__).parent / "golden"

CASES = {
    "default": Environment(name="default", pip=("scikit-learn==1.9.1",)),
    "private_base": Environment(
        name="private", base_image="127.0.0.1:5301/base/miniconda:latest",
        registry=RegistryCredentials("127.0.0.1:5301", "reader", "never-shown"),
        env_vars={"EXAMPLE_ENV_VAR": "EXAMPLE_VALUE"},
    ),
    "user_managed": Environment(name="um", user_managed=True,
                                interpreter_path="/opt/py/bin/python"),
    "conda_base": Environment(name="conda", base_image="127.0.0.1:5000/base/miniconda:4",
                              conda=("python=3.11", "numpy=2.1"), channels=("conda-forge",)),
}


def golden_path(name: str) -> Path:
    return GOLDEN / f"{name}.Dockerfile"


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=GOLDEN, capture_output=True, text=True,
                          check=False)


@pytest.fixture
def a_spec_for(tmp_path: Path):
    script = tmp_path / "score.py"
    script.write_text("def run(data):\n    return data\n")

    def make(env: Environment) -> PackageSpec:
        return PackageSpec("mymodel", script, env, (ModelFiles(tmp_path, "ridge", 3),))

    return make


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_dockerfile_matches_its_golden_file(case: str, a_spec_for):
    # Given a typical environment
    # When its Dockerfile is rendered
    text = render_dockerfile(a_spec_for(CASES[case]))
    # Then no credential is in it, and it is exactly the reviewed one
    assert "never-shown" not in text and "reader" not in text
    assert_matches_golden(text, golden_path(case))


def test_every_golden_file_belongs_to_a_case():
    # Given the golden folder
    # Then it holds exactly one Dockerfile per case: none missing, none left from a removed case
    assert sorted(p.name for p in GOLDEN.glob("*.Dockerfile")) == sorted(
        golden_path(c).name for c in CASES)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_golden_files_are_committed():
    # Given a git checkout (an unpacked sdist has no history to compare with)
    if git("rev-parse", "--is-inside-work-tree").stdout.strip() != "true":
        pytest.skip("not a git checkout")
    # When git is asked which golden files it tracks, and which differ from what it holds
    tracked = git("ls-files", "--", "*.Dockerfile").stdout.split()
    changed = git("diff", "--name-only", "--relative", "--", ".").stdout.split()
    # Then every golden file is tracked, and none has a change git does not hold yet
    assert sorted(tracked) == sorted(golden_path(c).name for c in CASES), (
        "golden files must be committed: git add tests/unit/golden")
    assert changed == [], f"golden files changed but not added to git: {changed}"


def test_dependencies_come_before_the_code(a_spec_for):
    # Layers from slowest- to fastest-changing: editing score.py reuses the dependency layers
    lines = render_dockerfile(a_spec_for(CASES["default"])).splitlines()
    order = [next(i for i, line in enumerate(lines) if marker in line)
             for marker in ("-r /tmp/requirements.txt", "COPY server/", "COPY models/",
                           "COPY app/")]
    assert order == sorted(order)


def test_conda_only_packages_without_conda_are_named():
    # Given conda packages and a base image without conda
    env = Environment(conda=("python=3.11", "numpy=2.1", "conda-forge::libgdal"))
    # When the packager checks it
    with pytest.raises(DependencyError) as caught:
        check_conda(env, base_has_conda=False)
    # Then the error names exactly the conda-only ones and says what to do
    assert caught.value.requirements == ("numpy=2.1", "conda-forge::libgdal")
    assert "pip" in str(caught.value) and "python=3.11" not in str(caught.value)


def test_python_and_pip_alone_never_need_conda():
    check_conda(Environment(conda=("python=3.11", "pip")), base_has_conda=False)


def test_a_base_with_conda_accepts_conda_packages():
    check_conda(Environment(conda=("numpy=2.1",)), base_has_conda=True)


def test_the_sdk_server_packages_are_replaced_by_ours():
    env = Environment(pip=("azureml-defaults>=1.0.45", "scikit-learn==1.9.1"))
    assert pip_requirements(env) == ["scikit-learn==1.9.1"]
    assert "azureml-defaults" in python_warnings(env)[0]


def test_the_servers_own_packages_are_not_installed_twice():
    # Given an environment asking for another version of a package the server pins
    env = Environment(pip=("uvloop==0.21.0", "Uvicorn", "scikit-learn==1.9.1"))
    # Then the server's pins win (pip could not install both), and the user is told
    assert pip_requirements(env) == ["scikit-learn==1.9.1"]
    assert "uvloop==0.21.0, Uvicorn not installed" in python_warnings(env)[0]


def test_a_python_pin_the_image_cannot_honour_is_warned():
    warnings = python_warnings(Environment(conda=("python=3.6.2",)))
    assert any("python=3.6.2" in w and "3.11" in w for w in warnings)
    assert python_warnings(Environment(conda=("python=3.11",))) == []
