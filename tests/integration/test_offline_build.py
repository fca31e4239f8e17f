"""Image builds that need no network, with uv installing the wheels and pip standing by.

A saved build folder (the portable Dockerfile) builds with plain ``docker build --network none``
and uv installs it; when uv refuses, pip installs the same wheels and the log keeps uv's reason;
a deploy's own build (BuildKit, wheels through a bind mount) leaves no wheel in the image and
makes it no bigger than the portable build does; a failing step under BuildKit keeps its output.
Small environments (the server's packages and one more), so the builds take well under a minute.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from runs import RUN_ID

import jupyter_deploy as jd
from jupyter_deploy.build.installer import FALLBACK_NOTICE, UV_BINARY
from jupyter_deploy.config import get_config
from jupyter_deploy.engine import buildkit, images
from jupyter_deploy.engine.client import docker_client
from jupyter_deploy.errors import BuildError
from jupyter_deploy.services.building import (
    LABEL_ENVIRONMENT,
    build_package,
    prune_environment,
    write_context,
)
from jupyter_deploy.spec.package import PackageSpec

VENV_PYTHON = "/opt/jupyter-deploy/venv/bin/python"
CHECK = ("import os, tabulate, uvicorn; "
         "print(sorted(os.listdir('/tmp/wheels')) if os.path.isdir('/tmp/wheels') else 'none')")


@pytest.fixture(scope="module")
def a_small_spec(tmp_path_factory: pytest.TempPathFactory) -> PackageSpec:
    folder = tmp_path_factory.mktemp("offline")
    (folder / "score.py").write_text("import tabulate\n\ndef init():\n    pass\n\n"
                                     "def run(raw):\n    return tabulate.tabulate([[raw]])\n")
    env = jd.Environment(name="offline", pip=("tabulate==0.9.0",))
    return PackageSpec(f"offline-{RUN_ID}", folder / "score.py", env, ())


def docker_build(folder: Path, tag: str, labels: dict[str, str]) -> str:
    """Plain ``docker build --network none`` (the CLI, as a user would; no cache, so the install
    step runs); its whole output."""
    flags = [arg for k, v in labels.items() for arg in ("--label", f"{k}={v}")]
    proc = subprocess.run(["docker", "build", "--network", "none", "--no-cache", *flags,
                           "--tag", tag, str(folder)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def in_the_image(tag: str, labels: dict[str, str]) -> str:
    """What the image's venv Python prints for :data:`CHECK`, run with no network."""
    out = docker_client().containers.run(tag, [VENV_PYTHON, "-c", CHECK], network_mode="none",
                                         labels=labels, remove=True)
    return out.decode().strip()


def test_a_saved_folder_builds_offline_with_plain_docker(
    a_small_spec: PackageSpec, tmp_path: Path, test_labels: dict[str, str]
) -> None:
    # Given the folder a user saves (the portable Dockerfile, the wheels and the uv binary)
    context = jd.write_build_context(a_small_spec, tmp_path / "saved")
    assert "--mount" not in context.dockerfile.read_text()
    assert (context.path / "wheels" / UV_BINARY).stat().st_mode & 0o111
    # When plain docker builds it with no network
    tag = f"jdtest-offline-{RUN_ID}:saved"
    out = docker_build(context.path, tag, test_labels)
    # Then uv installed the wheels, and the image has the packages and none of the wheels
    assert "Installed" in out and FALLBACK_NOTICE not in out
    assert in_the_image(tag, test_labels) == "none"


def test_when_uv_refuses_pip_installs_and_the_log_says_why(
    a_small_spec: PackageSpec, tmp_path: Path, test_labels: dict[str, str]
) -> None:
    # Given a BuildKit context whose uv refuses everything (the context's copy is a hard link
    # to the cached binary: unlinked first, the cache is untouched)
    context = write_context(a_small_spec, tmp_path / "refusing", mounts=True)
    uv = context.path / "wheels" / UV_BINARY
    uv.unlink()
    uv.write_text("#!/bin/sh\necho 'error: this uv refuses to install anything' >&2\nexit 2\n")
    uv.chmod(0o755)
    # When it is built with no network
    tag = f"jdtest-offline-{RUN_ID}:fallback"
    built = buildkit.build(context.path, tag, labels=test_labels, network_mode="none",
                           nocache=True)
    # Then uv's reason and the notice are in the log, and pip installed the packages
    assert "this uv refuses to install anything" in built.log
    assert FALLBACK_NOTICE in built.log and "Successfully installed" in built.log
    assert in_the_image(tag, test_labels) in ("none", "[]")


def test_a_deploy_build_mounts_the_wheels_and_is_no_bigger(
    a_small_spec: PackageSpec, test_labels: dict[str, str]
) -> None:
    if not buildkit.available():
        pytest.skip("the engine has no BuildKit (API < 1.41): deploys use the portable build")
    # Given the same package built as a deploy does (BuildKit) and with the portable Dockerfile
    mounted = build_package(a_small_spec, labels=test_labels)
    portable = build_package(a_small_spec, labels=test_labels, builder="classic")
    # Then the deploy's build read the wheels through a mount: none copied, none left behind
    assert isinstance(mounted, buildkit.BuildKitImage)
    history = " ".join(str(h.get("CreatedBy")) for h in docker_client().api.history(mounted.id))
    assert "COPY wheels" not in history and "install.sh uv" in history
    assert in_the_image(mounted.tag, test_labels) in ("none", "[]")
    # And its image is no bigger than the portable one (same files, fewer layers)
    sizes = [docker_client().images.get(b.id).attrs["Size"] for b in (mounted, portable)]
    assert sizes[0] <= sizes[1] * 1.01, sizes


def test_an_edit_builds_on_the_environment_image_which_goes_with_the_last_image_on_it(
    a_small_spec: PackageSpec, tmp_path: Path, test_labels: dict[str, str]
) -> None:
    if not buildkit.available():
        pytest.skip("the engine has no BuildKit (API < 1.41): deploys use the portable build")
    # Given the package on a base image name of this run's own (so its environment is too)
    base = f"jdtest-base-{RUN_ID}:3.11"
    docker_client().images.get(get_config().default_base_image).tag(base)
    spec = replace(a_small_spec, environment=a_small_spec.environment.with_changes(
        base_image=base))
    first = build_package(spec, labels=test_labels)
    environment = docker_client().images.get(first.tag).labels[LABEL_ENVIRONMENT]
    # When score.py is edited and the package built again
    script = tmp_path / "score.py"
    script.write_text(a_small_spec.entry_script.read_text() + "\n# edited\n")
    lines: list[str] = []
    second = build_package(replace(spec, entry_script=script), lines.append, test_labels)
    # Then the environment was not built again: no wheel was sent, no install step ran
    assert second.tag != first.tag
    assert any(line.startswith(f"Environment {environment} is built already") for line in lines)
    assert not any("Building the environment" in line for line in lines)
    assert "install.sh" not in second.log
    assert docker_client().images.get(second.tag).labels[LABEL_ENVIRONMENT] == environment
    # And the environment's image stays while an image is built on it, and goes with the last
    docker_client().images.remove(first.id, force=True)
    prune_environment(environment)
    assert images.exists(environment)
    docker_client().images.remove(second.id, force=True)
    prune_environment(environment)
    assert not images.exists(environment)


def test_a_failing_step_under_buildkit_keeps_its_output(
    tmp_path: Path, test_labels: dict[str, str]
) -> None:
    # Given a Dockerfile whose step prints and fails
    (tmp_path / "Dockerfile").write_text(
        "FROM jupyter-deploy/python:3.11\nRUN echo about to fail && exit 3\n")
    # When BuildKit builds it
    with pytest.raises(BuildError) as caught:
        buildkit.build(tmp_path, f"jdtest-offline-{RUN_ID}:failing", labels=test_labels,
                       nocache=True)
    # Then the error shows the step, its output and its exit code; the whole log is kept
    assert "Step 2/2 : RUN echo about to fail" in str(caught.value)
    assert "about to fail" in caught.value.build_log and "exit code: 3" in caught.value.build_log
