"""Conformance with Azure ML's inference server, scenario by scenario, run against both servers.

Each scenario starts the peer (``azmlinfsrv``, from PyPI) and ours (``jupyter-deploy serve``) the
same way and compares what a client or a ``score.py`` sees: how ``request.headers`` iterates, the
``x-ms-server-version`` header and its switch, ``WORKER_COUNT`` without a worker option, a
relative ``AZUREML_MODEL_DIR``, and the app root when ``AML_APP_ROOT`` is unset. What the peer
does is asserted too, so a scenario that tests nothing fails.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

COMPAT = Path(__file__).parents[1] / "compat"
sys.path.insert(0, str(COMPAT))

from servers import serving  # noqa: E402

KINDS = ("peer", "ours")

HEADERS_SCRIPT = '''
import json
from azureml.contrib.services.aml_request import AMLRequest, rawhttp
from azureml.contrib.services.aml_response import AMLResponse

def init():
    pass

@rawhttp
def run(request):
    pairs = [[name, value] for name, value in request.headers]
    return AMLResponse(json.dumps({"pairs": pairs, "dict": dict(request.headers)}), 200)
'''

ENV_SCRIPT = '''
import os, helper

def init():
    global seen
    seen = {"model_dir": os.environ.get("AZUREML_MODEL_DIR"), "helper": helper.NAME}
    with open(os.path.join(os.environ["INIT_LOG"], str(os.getpid())), "w") as f:
        f.write("init")

def run(raw):
    return seen
'''


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


def _workers_started(folder: Path, expected: int, timeout: float = 30.0) -> int:
    """How many workers ran init() (each leaves a file), once ``expected`` did or time is up."""
    deadline = time.monotonic() + timeout
    while len(list(folder.iterdir())) < expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return len(list(folder.iterdir()))


def test_request_headers_iterate_as_name_value_pairs(tmp_path: Path) -> None:
    script = _write(tmp_path, "score.py", HEADERS_SCRIPT)
    seen: dict[str, Any] = {}
    for kind in KINDS:
        with serving(kind, script) as server:
            answer = requests.post(server.url + "/score", data=b"{}", timeout=30, headers={
                "Content-Type": "application/json", "x-custom-thing": "42"})
            assert answer.status_code == 200, (kind, answer.text)
            seen[kind] = answer.json()
    # Then the script got (Name, value) pairs, named alike on both servers
    for kind in KINDS:
        assert ["X-Custom-Thing", "42"] in seen[kind]["pairs"], (kind, seen[kind])
        assert seen[kind]["dict"]["X-Custom-Thing"] == "42"
    assert {n for n, _ in seen["peer"]["pairs"]} >= {"X-Custom-Thing", "Content-Type"}
    assert {n for n, _ in seen["ours"]["pairs"]} >= {"X-Custom-Thing", "Content-Type"}


@pytest.mark.parametrize(("switch", "sent"), [(None, True), ("true", True), ("false", False)])
def test_the_server_version_header_follows_the_peers_switch(
    tmp_path: Path, switch: str | None, sent: bool
) -> None:
    script = _write(tmp_path, "score.py", "def init():\n    pass\n\ndef run(raw):\n    return 1\n")
    env = {} if switch is None else {"SERVER_VERSION_LOG_RESPONSE_ENABLED": switch}
    for kind in KINDS:
        with serving(kind, script, env=env) as server:
            answer = requests.post(server.url + "/score", json={"data": 1}, timeout=30)
        assert ("x-ms-server-version" in answer.headers) is sent, (kind, dict(answer.headers))


def test_worker_count_sets_the_workers_and_model_dir_and_app_root_are_the_peers(
    tmp_path: Path,
) -> None:
    # Given a script in one folder, started from another holding a helper module and models/
    script = _write(tmp_path / "scripts", "score.py", ENV_SCRIPT)
    seen: dict[str, Any] = {}
    for kind in KINDS:
        root = tmp_path / kind
        _write(root, "helper.py", "NAME = 'helper from the working folder'\n")
        (root / "models").mkdir()
        inits = root / "inits"
        inits.mkdir()
        # When it is served with WORKER_COUNT=2, no worker option, no AML_APP_ROOT and a
        # relative model folder
        with serving(kind, script, workers=None, model_dir="models", cwd=root, app_root=False,
                     env={"WORKER_COUNT": "2", "INIT_LOG": str(inits)}) as server:
            answer = requests.post(server.url + "/score", json={"data": 1}, timeout=30)
            assert answer.status_code == 200, (kind, answer.text, server.log()[-2000:])
            seen[kind] = {**json.loads(answer.text), "workers": _workers_started(inits, 2)}
    # Then both ran init() in two workers, handed init() the model folder as given, and found
    # the helper module in the working folder (the app root)
    assert seen["peer"] == {"model_dir": "models", "helper": "helper from the working folder",
                            "workers": 2}
    assert seen["ours"] == seen["peer"]
