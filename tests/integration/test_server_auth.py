"""Bearer keys on the scoring server (``JD_AUTH_KEY_FILES``), through ``jupyter-deploy serve``.

What the cluster targets rely on: without a key or with a wrong one every route but the health
probe and the API description answers 401 with ``WWW-Authenticate: Bearer``; either of two keys
works; rewriting or removing a key file rotates the keys without a restart; a missing or empty
file stops the server at start, naming the file; and no key ever shows in the log or in what
``run()`` sees.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

COMPAT = Path(__file__).parents[1] / "compat"
sys.path.insert(0, str(COMPAT))

from servers import RunningServer, serving, start, stop  # noqa: E402

PRIMARY, SECONDARY, ROTATED = "primary-Key-1f9c", "secondary-Key-7a2e", "rotated-Key-40d1"

ECHO_HEADERS = """
import json
from azureml.contrib.services.aml_request import rawhttp
from azureml.contrib.services.aml_response import AMLResponse

def init():
    print("init done")

@rawhttp
def run(request):
    print("run got", dict(request.headers))
    return AMLResponse(json.dumps(dict(request.headers)), 200,
                       {"Content-Type": "application/json"})
"""


@pytest.fixture(scope="module")
def key_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("secrets")
    (folder / "primary").write_text(PRIMARY + "\n")  # a trailing newline is not part of it
    (folder / "secondary").write_text(SECONDARY)
    return folder / "primary", folder / "secondary"


@pytest.fixture(scope="module")
def a_guarded_server(tmp_path_factory: pytest.TempPathFactory, key_files: tuple[Path, Path]
                     ) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("guarded")
    (folder / "score.py").write_text(ECHO_HEADERS)
    env = {"JD_AUTH_KEY_FILES": ",".join(str(p) for p in key_files)}
    with serving("ours", folder / "score.py", env=env) as server:
        yield server


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_requests_without_a_valid_key_are_refused(a_guarded_server: RunningServer) -> None:
    url = a_guarded_server.url
    refused = [
        requests.post(url + "/score", json={}, timeout=10),
        requests.post(url + "/score", json={}, headers=bearer("wrong"), timeout=10),
        requests.post(url + "/score", json={}, headers=bearer(PRIMARY[:-1]), timeout=10),
        requests.post(url + "/score", json={}, headers={"Authorization": PRIMARY}, timeout=10),
        requests.post(url + "/score", json={}, headers={"Authorization": f"Basic {PRIMARY}"},
                      timeout=10),
        requests.get(url + "/score", timeout=10),
        requests.options(url + "/score", timeout=10),
        requests.get(url + "/elsewhere", timeout=10),
        requests.post(url + "/", timeout=10),
    ]
    for answer in refused:
        assert answer.status_code == 401, (answer.request.method, answer.request.url)
        assert answer.headers["WWW-Authenticate"] == "Bearer"
        assert answer.headers["Content-Type"] == "application/json"
        assert "Authorization: Bearer <key>" in answer.json()["message"]
        assert PRIMARY not in answer.text and "x-request-id" in answer.headers


def test_the_probe_and_the_api_description_need_no_key(a_guarded_server: RunningServer) -> None:
    url = a_guarded_server.url
    assert requests.get(url + "/", timeout=10).text == "Healthy"
    assert requests.head(url + "/", timeout=10).status_code == 200
    assert requests.get(url + "/swagger.json", timeout=10).json()["swagger"] == "2.0"
    assert requests.get(url + "/swagger.json?version=3", timeout=10).status_code == 200


def test_either_key_works_and_run_never_sees_it(a_guarded_server: RunningServer) -> None:
    for key in (PRIMARY, SECONDARY):
        answer = requests.post(a_guarded_server.url + "/score", json={}, timeout=10,
                               headers={**bearer(key), "X-Other": "kept"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["X-Other"] == "kept" and "Authorization" not in answer.json()
    lowercase = {"Authorization": f"bearer {PRIMARY}"}
    assert requests.get(a_guarded_server.url + "/score", headers=lowercase,
                        timeout=10).status_code == 200
    # And no key was logged
    log = a_guarded_server.log()
    assert "run got" in log and PRIMARY not in log and SECONDARY not in log


def _eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_rewriting_or_removing_a_key_file_rotates_the_keys(tmp_path: Path) -> None:
    # Given a server reading two key files of its own
    primary, secondary = tmp_path / "primary", tmp_path / "secondary"
    primary.write_text(PRIMARY)
    secondary.write_text(SECONDARY)
    (tmp_path / "score.py").write_text(ECHO_HEADERS)
    env = {"JD_AUTH_KEY_FILES": f"{primary}, {secondary}"}
    with serving("ours", tmp_path / "score.py", env=env) as server:

        def status(key: str) -> int:
            return requests.post(server.url + "/score", json={}, headers=bearer(key),
                                 timeout=10).status_code

        assert status(PRIMARY) == 200
        # When the primary key file is replaced (as a Kubernetes Secret update does)
        staged = tmp_path / "primary.new"
        staged.write_text(ROTATED + "\n")
        staged.replace(primary)
        # Then within about a second the new key works and the old one no longer does
        assert _eventually(lambda: status(ROTATED) == 200)
        assert status(PRIMARY) == 401 and status(SECONDARY) == 200
        # When the secondary key file goes away, Then its key stops working too
        secondary.unlink()
        assert _eventually(lambda: status(SECONDARY) == 401)
        assert status(ROTATED) == 200
        log = server.log()
    assert f"Bearer key file {primary} changed" in log and ROTATED not in log


@pytest.mark.parametrize("problem", ["missing", "empty"])
def test_a_missing_or_empty_key_file_stops_the_server_at_start(tmp_path: Path,
                                                               problem: str) -> None:
    # Given JD_AUTH_KEY_FILES naming a good file and a missing or blank one
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_text(PRIMARY)
    if problem == "empty":
        bad.write_text(" \n")
    (tmp_path / "score.py").write_text(ECHO_HEADERS)
    server = start("ours", tmp_path / "score.py",
                   env={"JD_AUTH_KEY_FILES": f"{good},{bad}"})
    try:
        # When it starts, Then it exits with status 3, naming the file (not any key)
        code = server.process.wait(60)
    finally:
        stop(server)
    log = server.log()
    assert code == 3, log[-2000:]
    assert f"Bearer key file {bad}" in log and "refusing to start" in log
    assert PRIMARY not in log and "init done" not in log
