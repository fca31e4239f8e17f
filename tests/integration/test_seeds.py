"""The seed documents' own Python snippets, run against the real engine and registries.

Each ```python block of seeds 000/001/003 (custom base image) and 002 (model packages) is read
from the seed file and executed with only two kinds of change: ``azureml.`` imports gain the
``jupyter_deploy.`` prefix, and placeholders are filled (the registry, its login, the image name,
ports, the service name and ``localhost`` → ``127.0.0.1``). ``ws`` and ``model`` exist
beforehand, as the seeds assume. The assertions check what each snippet promises.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from ports import an_unused_port
from samples import JOBLIB_SCORE_PY, SAMPLE

from jupyter_deploy.azureml.core import Workspace
from jupyter_deploy.azureml.core.model import Model
from jupyter_deploy.build.wheelhouse import download
from jupyter_deploy.engine import images
from jupyter_deploy.engine.base_images import build_base
from jupyter_deploy.engine.client import docker_client
from jupyter_deploy.registry.local import LocalRegistry, write_htpasswd
from jupyter_deploy.spec.environment import RegistryCredentials

SEED_DIR = Path(os.environ.get("JUPYTER_DEPLOY_SEEDS", "/work/shared/seeds"))
#: The snippets as extracted from the seeds, for machines without the seed documents (CI).
SNIPPETS_COPY = Path(__file__).parent / "data" / "seed_snippets.json"
PRIVATE_USER, PRIVATE_PASSWORD = "reader", "s3cret-for-tests"
BASE_DOCKERFILE = """FROM jupyter-deploy/python:3.11
COPY wheels/ /tmp/wheels/
RUN python3 "$(ls /tmp/wheels/pip-*.whl)/pip" install --no-index --no-cache-dir \\
    --break-system-packages --find-links /tmp/wheels scikit-learn joblib && rm -rf /tmp/wheels
"""



def snippets(seed: str) -> list[str]:
    """The runnable ```python blocks of a seed (quoted notes are not code)."""
    if not SEED_DIR.is_dir():
        return list(json.loads(SNIPPETS_COPY.read_text())[seed])
    text = next(SEED_DIR.glob(f"{seed}_*.txt")).read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    return [b for b in blocks if not b.lstrip().startswith(">")]


@pytest.mark.skipif(not SEED_DIR.is_dir(), reason="the seed documents are not on this machine")
def test_the_copied_snippets_are_the_seeds_own():
    copy = json.loads(SNIPPETS_COPY.read_text())
    assert {seed: snippets(seed) for seed in copy} == copy


def run_snippet(code: str, namespace: dict[str, Any], fills: Mapping[str, str]) -> None:
    """Execute ``code`` with the import prefix changed and the placeholders filled."""
    code = re.sub(r"\b(from|import) azureml\.", r"\1 jupyter_deploy.azureml.", code)
    for placeholder, value in fills.items():
        code = code.replace(placeholder, value)
    exec(compile(code, "<seed snippet>", "exec"), namespace)


@pytest.fixture(scope="module")
def a_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with score.py and a 10-feature Ridge model, as the seeds' prerequisites."""
    from joblib import dump
    from sklearn.linear_model import Ridge

    folder = tmp_path_factory.mktemp("project")
    features = np.arange(100, dtype=float).reshape(10, 10)
    dump(Ridge().fit(features, features.sum(axis=1)), folder / "model.pkl")
    (folder / "score.py").write_text(JOBLIB_SCORE_PY)
    return folder


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory, test_labels: dict[str, str]) -> Workspace:
    workspace = Workspace(path=tmp_path_factory.mktemp("workspace"))
    workspace.labels = dict(test_labels)
    return workspace


@pytest.fixture(scope="module")
def model(ws: Workspace, a_project: Path) -> Model:
    return Model.register(ws, str(a_project / "model.pkl"), "sklearn-ridge")


@pytest.fixture(scope="module")
def a_private_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    """A registry with Basic auth, on a port of this run's."""
    root = tmp_path_factory.mktemp("private-registry")
    htpasswd = write_htpasswd(root / "htpasswd", {PRIVATE_USER: PRIVATE_PASSWORD})
    registry = LocalRegistry(f"127.0.0.1:{an_unused_port()}", root, htpasswd=htpasswd)
    registry.start()
    yield registry
    registry.stop()


@pytest.fixture(scope="module")
def a_miniconda_like_base(
    a_private_registry: LocalRegistry, tmp_path_factory: pytest.TempPathFactory,
    test_labels: dict[str, str],
) -> str:
    """The seeds' custom base (slow software pre-installed), pushed to the private registry.

    The local copy is removed afterwards, so deploying really pulls it with the credentials.
    """
    context = tmp_path_factory.mktemp("base-context")
    download(["scikit-learn==1.9.1", "joblib==1.6.0"]).copy_to(context / "wheels")
    (context / "Dockerfile").write_text(BASE_DOCKERFILE)
    ref = f"{a_private_registry.address}/o16n-sample-user-base/ubuntu-miniconda:latest"
    credentials = RegistryCredentials(a_private_registry.address, PRIVATE_USER, PRIVATE_PASSWORD)
    build_base(context / "Dockerfile", ref, registry=credentials, push=True, log=lambda _: None,
               labels=test_labels)
    docker_client().images.remove(ref)
    return ref


@pytest.fixture
def fills(a_private_registry: LocalRegistry, a_miniconda_like_base: str,
          a_service_name: str) -> dict[str, str]:
    return {
        "mcr.microsoft.com/azureml/o16n-sample-user-base/ubuntu-miniconda:latest":
            a_miniconda_like_base,
        "mcr.microsoft.com/azureml/o16n-sample-user-base/ubuntu-miniconda":
            a_miniconda_like_base.removesuffix(":latest"),
        "myregistry.azurecr.io": a_private_registry.address,
        '"username"': f'"{PRIVATE_USER}"',
        '"password"': f'"{PRIVATE_PASSWORD}"',
        "port=8890": f"port={an_unused_port()}",
        '"myservice"': f'"{a_service_name}"',
        "localhost:6789": "127.0.0.1:{port}",
        "./imagefiles": "imagefiles",
    }


@pytest.fixture
def a_namespace(ws: Workspace, model: Model, a_project: Path,
                monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What the seeds assume exists: ``ws``, ``model`` and ``Model``; cwd holds score.py."""
    monkeypatch.chdir(a_project)
    return {"ws": ws, "model": model, "Model": Model}


@pytest.mark.parametrize("seed", ["000", "001", "003"])
def test_a_custom_base_image_seed_deploys_a_healthy_service(
    seed: str, a_namespace: dict[str, Any], fills: dict[str, str],
    capsys: pytest.CaptureFixture[str],
):
    # Given the seed's four snippets (environment, private registry, inference config, deploy)
    blocks = snippets(seed)
    assert len(blocks) == 4
    # When each runs in turn, as a notebook would
    for block in blocks:
        run_snippet(block, a_namespace, fills)
    # Then the service is Healthy, as printed, and answers the seeds' two rows with two scores
    service = a_namespace["service"]
    try:
        assert capsys.readouterr().out.strip().splitlines()[-1] == "Healthy"
        assert service.state == "Healthy"
        assert len(service.run(json.dumps(SAMPLE))) == 2
        # And the password is nowhere the engine shows
        container = service.deployment.container
        inspect = json.dumps([container.attrs, container.image.attrs if container.image else {}])
        assert PRIVATE_PASSWORD not in inspect
    finally:
        service.delete()


def test_a_package_is_pulled_run_and_answers_the_sample_client(
    a_namespace: dict[str, Any], fills: dict[str, str], capsys: pytest.CaptureFixture[str],
    a_service_name: str, test_labels: dict[str, str],
):
    # Given the environment and inference configuration of seed 000
    for block in snippets("000")[:3]:
        run_snippet(block, a_namespace, fills)
    package_block, _, client_block = snippets("002")
    # When the model is packaged and pulled
    run_snippet(package_block, a_namespace, fills)
    capsys.readouterr()
    # (the SDK's pull() prints the engine's status line and returns nothing)
    assert a_namespace["package"].pull() is None
    # Then the pull names the image in the workspace registry, and the engine lists it
    location = a_namespace["package"].location
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed[-1] == f"Status: Downloaded newer image for {location}"
    assert location.startswith(f"{a_namespace['ws'].registry}/package:")
    assert images.exists(location)
    # When it runs as `docker run -p PORT:5001 --name mycontainer <image>`
    port = an_unused_port()
    _run_container(location, a_service_name, port, test_labels)
    # Then the seeds' sample client gets two results
    capsys.readouterr()
    run_snippet(client_block, {}, {**fills, "localhost:6789": f"127.0.0.1:{port}"})
    assert len(json.loads(capsys.readouterr().out)) == 2


def test_a_generated_dockerfile_builds_offline_and_answers_the_sample_client(
    a_namespace: dict[str, Any], fills: dict[str, str], capsys: pytest.CaptureFixture[str],
    a_service_name: str, test_labels: dict[str, str], a_private_registry: LocalRegistry,
):
    # Given seed 000's inference configuration
    for block in snippets("000")[:3]:
        run_snippet(block, a_namespace, fills)
    # When seed 002 generates a Dockerfile and saves the package folder
    run_snippet(snippets("002")[1], a_namespace, fills)
    printed = capsys.readouterr().out
    # Then the folder holds the Dockerfile, the model, the entry script, the server, the wheels
    folder = Path("imagefiles")
    for part in ("Dockerfile", "app/score.py", "models/sklearn-ridge/1/model.pkl",
                 "server/jd_scoring/server.py", "requirements.txt"):
        assert (folder / part).is_file(), part
    assert any((folder / "wheels").glob("pip-*.whl"))
    # And the registry it names is the one the Dockerfile's base is in
    assert f"Address: {a_private_registry.address}" in printed
    assert f"FROM {fills['myregistry.azurecr.io']}/" in (folder / "Dockerfile").read_text()
    # When the base is pulled with those credentials (in memory) and plain docker builds it
    acr = a_namespace["acr"]
    images.pull(fills["mcr.microsoft.com/azureml/o16n-sample-user-base/ubuntu-miniconda:latest"],
                auth_config={"username": acr.username, "password": acr.password,
                             "serveraddress": acr.address})
    tag = f"jdtest-myimage-{a_service_name}:latest"
    labels = [arg for k, v in test_labels.items() for arg in ("--label", f"{k}={v}")]
    subprocess.run(["docker", "build", "--network", "none", *labels, "--tag", tag, str(folder)],
                   check=True, capture_output=True)
    # Then the container answers the sample client with two results
    port = an_unused_port()
    _run_container(tag, a_service_name, port, test_labels)
    run_snippet(snippets("002")[2], {}, {**fills, "localhost:6789": f"127.0.0.1:{port}"})
    assert len(json.loads(capsys.readouterr().out)) == 2


def _run_container(image: str, name: str, port: int, labels: dict[str, str]) -> None:
    container = docker_client().containers.run(
        image, name=name, detach=True, labels=labels, ports={"5001/tcp": ("127.0.0.1", port)}
    )
    for _ in range(240):
        try:
            if requests.get(f"http://127.0.0.1:{port}/", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        container.reload()
        if container.status == "exited":
            break
        time.sleep(0.25)
    raise AssertionError(f"the container did not answer:\n{container.logs().decode()[-2000:]}")
