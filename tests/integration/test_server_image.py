"""The scoring server in a real image: scores, shims Azure imports, fails readably, stays small.

Images are built on the default base image with no extra packages, so the only Python packages
in them are the server's own: the difference between an image and its base is what the server
adds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from samples import SAMPLE

import jupyter_deploy as jd
from jupyter_deploy.config import get_config
from jupyter_deploy.engine.client import docker_client
from jupyter_deploy.errors import ContainerError

SCRIPTS = Path(__file__).parents[1] / "compat" / "scripts"
#: The server and its own dependencies may add at most this much to an image.
SIZE_BUDGET = 15 * 1024 * 1024


def test_the_image_scores_and_answers_with_the_peers_headers(
    a_service_name: str, test_labels: dict[str, str],
) -> None:
    # Given the plain JSON script deployed in a container
    service = jd.deploy(a_service_name, SCRIPTS / "plain_json.py", labels=test_labels)
    try:
        # When the seed's sample is posted to the published port
        answer = requests.post(service.scoring_uri, data=json.dumps(SAMPLE),
                               headers={"Content-Type": "application/json",
                                        "x-request-id": "abc"}, timeout=30)
        # Then two rows are scored, with the request id echoed and the run time reported
        assert answer.status_code == 200 and answer.json() == [56, 56]
        assert answer.headers["x-request-id"] == "abc"
        assert float(answer.headers["x-ms-run-fn-exec-ms"]) >= 0
        assert requests.get(service.base_url + "/", timeout=10).text == "Healthy"
    finally:
        service.remove()


def test_azure_import_paths_work_in_the_image(a_service_name: str,
                                              test_labels: dict[str, str]) -> None:
    # Given a @rawhttp script importing from azureml.contrib.services (not installed)
    service = jd.deploy(a_service_name, SCRIPTS / "raw_http.py", labels=test_labels)
    try:
        # When it is scored, Then its own AMLResponse comes back
        answer = requests.post(service.scoring_uri, data=b"abc", timeout=30)
        assert (answer.status_code, answer.content) == (201, b"cba")
    finally:
        service.remove()


def test_an_sdk_v1_script_finds_its_model(a_service_name: str, test_labels: dict[str, str],
                                          tmp_path: Path) -> None:
    # Given a registered-style model file and a script using Model.get_model_path("weights")
    model = tmp_path / "weights.json"
    model.write_text(json.dumps([1] * 10))
    service = jd.deploy(a_service_name, SCRIPTS.parent / "sdk_v1_score.py",
                        models=[jd.ModelFiles(model, "weights")], labels=test_labels)
    try:
        # When scored, Then the model was found where Azure would put it
        assert service.score(SAMPLE).value == [55, 55]
    finally:
        service.remove()


def test_a_failing_init_ends_the_container_with_the_traceback_last(
    a_service_name: str, test_labels: dict[str, str], tmp_path: Path,
) -> None:
    # Given a script whose init() raises, deployed with a model file
    (tmp_path / "weights.bin").write_bytes(b"0")
    # When deployed, Then the deploy fails with the container's exit status and log
    with pytest.raises(ContainerError) as failure:
        jd.deploy(a_service_name, SCRIPTS / "init_raises.py", models=[tmp_path / "weights.bin"],
                  labels=test_labels)
    logs = failure.value.logs.rstrip().splitlines()
    assert failure.value.exit_status == 3
    assert logs[-1] == "FileNotFoundError: model.pkl is not in AZUREML_MODEL_DIR"
    assert any("weights.bin" in line for line in logs), failure.value.logs


def test_the_server_adds_less_than_15_mb(a_service_name: str,
                                         test_labels: dict[str, str]) -> None:
    # Given an image of the plain script with no packages of its own
    built = jd.build_package(
        jd.PackageSpec(a_service_name, SCRIPTS / "plain_json.py"), labels=test_labels)
    # When its size is compared with the base image's
    client = docker_client()
    size = client.images.get(built.tag).attrs["Size"]
    base = client.images.get(get_config().default_base_image).attrs["Size"]
    # Then the difference (server, its dependencies, the script) is within the budget
    assert size - base <= SIZE_BUDGET, f"the server adds {(size - base) / 2**20:.1f} MB"
