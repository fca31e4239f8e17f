"""Conformance with Azure ML's inference server, scenario by scenario, run against both servers.

Each scenario starts the peer (``azmlinfsrv``, from PyPI) and ours (``jupyter-deploy serve``) the
same way and compares what a client or a ``score.py`` sees: how ``request.headers`` iterates, the
``x-ms-server-version`` header and its switch, ``WORKER_COUNT`` without a worker option, a
relative ``AZUREML_MODEL_DIR``, the app root when ``AML_APP_ROOT`` is unset, answers streamed
from generators (byte for byte, and read by a client while the generator still runs), and the
server's own log lines: the settings banner, ``print()`` as ``azmlinfsrv.print`` lines, a broken
script in the peer's words, and ``logging.json``. What the peer does is asserted too, so a
scenario that tests nothing fails.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

COMPAT = Path(__file__).parents[1] / "compat"
sys.path.insert(0, str(COMPAT))

from servers import RunningServer, serving, start, stop  # noqa: E402

KINDS = ("peer", "ours")
SCRIPTS = COMPAT / "scripts"

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


@pytest.mark.parametrize(("switch", "sent"), [(None, True), ("TRUE", True), ("false", False),
                                              ("notgood", False), ("1", False)])
def test_the_server_version_header_follows_the_peers_switch(
    tmp_path: Path, switch: str | None, sent: bool
) -> None:
    script = _write(tmp_path, "score.py", "def init():\n    pass\n\ndef run(raw):\n    return 1\n")
    env = {} if switch is None else {"SERVER_VERSION_LOG_RESPONSE_ENABLED": switch}
    for kind in KINDS:
        with serving(kind, script, env=env) as server:
            answer = requests.post(server.url + "/score", json={"data": 1}, timeout=30)
        assert ("x-ms-server-version" in answer.headers) is sent, (kind, dict(answer.headers))


def test_the_peers_cors_flag_allows_the_origins_it_names(tmp_path: Path) -> None:
    script = _write(tmp_path, "score.py", "def init():\n    pass\n\ndef run(raw):\n    return 1\n")
    flag = ["--access_control_allow_origins", "http://a.example,http://b.example"]
    for kind in KINDS:
        with serving(kind, script, args=flag) as server:
            for origin, allowed in (("http://b.example", True), ("http://c.example", False)):
                answer = requests.post(server.url + "/score", json={"data": 1}, timeout=30,
                                       headers={"Origin": origin})
                given = answer.headers.get("Access-Control-Allow-Origin")
                assert (given == origin) is allowed, (kind, origin, dict(answer.headers))


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


# Streamed answers


def exchange_raw(server: RunningServer, target: str, version: str = "1.1"
                 ) -> tuple[int, dict[str, str], list[bytes], bool]:
    """GET ``target`` on a connection of its own: status, headers, the body's chunks as framed
    (one item for an unframed HTTP/1.0 body) and whether the body ended properly."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock, \
            sock.makefile("rb") as answer:
        sock.sendall(f"GET {target} HTTP/{version}\r\nHost: t\r\nConnection: close\r\n\r\n"
                     .encode())
        status = int(answer.readline().split()[1])
        headers = {}
        while line := answer.readline().rstrip(b"\r\n"):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            return status, headers, [answer.read(int(headers["content-length"]))], True
        if headers.get("transfer-encoding") != "chunked":
            return status, headers, [answer.read()], True
        chunks: list[bytes] = []
        while size_line := answer.readline():
            size = int(size_line.strip(), 16)
            data = answer.read(size + 2)
            if size == 0:
                return status, headers, chunks, data == b"\r\n"
            chunks.append(data[:-2])
        return status, headers, chunks, False  # cut off: no last chunk


def test_a_generator_is_streamed_chunked_with_the_peers_framing() -> None:
    seen: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        with serving(kind, SCRIPTS / "streamed.py") as server:
            seen[kind] = {name: exchange_raw(server, f"/score?kind={name}")
                          for name in ("words", "event-stream", "list", "empty", "failing")}
            seen[kind]["http/1.0"] = exchange_raw(server, "/score?kind=words", "1.0")
    for kind in KINDS:
        # Then each item is one chunk (text as UTF-8, bytes as they are, empty ones skipped)
        status, headers, chunks, whole = seen[kind]["words"]
        assert (status, chunks, whole) == (200, ["héllo ".encode(), b"bytes ", b"world"], True)
        assert "content-length" not in headers, (kind, headers)
        assert headers["content-type"] == "text/html; charset=utf-8"
        assert headers["x-ms-run-function-failed"] == "False"
        # And the script's own status and content type are kept
        status, headers, chunks, _ = seen[kind]["event-stream"]
        assert (status, headers["content-type"]) == (201, "text/event-stream")
        assert headers["transfer-encoding"] == "chunked" and len(chunks) == 3
        # And a list is one body with a length, an empty generator an empty chunked body
        assert seen[kind]["list"][2] == [b"xy"] and seen[kind]["list"][1]["content-length"] == "2"
        assert seen[kind]["empty"][2:] == ([], True)
        # And a generator that fails half-way ends the connection without the last chunk
        assert seen[kind]["failing"][2:] == ([b"first"], False), kind
        # And an HTTP/1.0 client gets the bytes unframed, ended by the connection closing
        assert seen[kind]["http/1.0"][2] == ["héllo bytes world".encode()], kind


@pytest.mark.parametrize("generator", ["gated", "async-gated"])
def test_a_client_reads_the_first_chunk_while_the_generator_still_runs(
    tmp_path: Path, generator: str
) -> None:
    for kind in KINDS:
        if generator == "async-gated" and kind == "peer":
            continue  # Flask cannot iterate an async generator: the peer answers 500 (below)
        with serving(kind, SCRIPTS / "streamed.py") as server:
            _read_while_the_generator_waits(server, generator, tmp_path / f"{kind}-gate")


def _read_while_the_generator_waits(server: RunningServer, generator: str, gate: Path) -> None:
    # Given a generator that yields "first", then waits until the gate file exists
    with requests.get(f"{server.url}/score", params={"kind": generator, "gate": str(gate)},
                      stream=True, timeout=10) as answer:
        pieces = answer.iter_content(chunk_size=None)
        # When the client reads, Then "first" arrives while the generator waits
        assert next(pieces) == b"first" and not gate.exists(), server.name
        if generator == "async-gated":  # and ours answers others meanwhile
            assert requests.get(server.url + "/", timeout=5).text == "Healthy"
        # And once the gate opens, the rest follows and the body ends
        gate.touch()
        assert b"".join(pieces) == b"second"


def test_an_async_generator_streams_on_ours_and_fails_on_the_peer() -> None:
    seen = {}
    for kind in KINDS:
        with serving(kind, SCRIPTS / "streamed.py") as server:
            seen[kind] = exchange_raw(server, "/score?kind=async-words")
    assert seen["peer"][0] == 500
    assert seen["ours"][0] == 200 and seen["ours"][2:] == (["héllo ".encode(), b"bytes "], True)


# The server's own log lines

PRINTING_SCRIPT = """
def init():
    print("printed in init", 1, 2)

def run(raw):
    print("printed in run")
    return 1
"""

#: One log line in the peer's format: time (UTC), level letter, pid, logger name, message.
LINE = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} %s \[\d+\] %s - %s$"


def _line(level: str, logger: str, message: str) -> re.Pattern[str]:
    return re.compile(LINE % (level, re.escape(logger), message), re.MULTILINE)


def test_the_banner_and_print_lines_are_the_peers(tmp_path: Path) -> None:
    script = _write(tmp_path, "score.py", PRINTING_SCRIPT)
    logs = {}
    for kind in KINDS:
        with serving(kind, script, model_dir=tmp_path) as server:
            answer = requests.post(server.url + "/score", json={}, timeout=30)
            assert answer.status_code == 200
            deadline = time.monotonic() + 10
            while "printed in run" not in server.log() and time.monotonic() < deadline:
                time.sleep(0.05)
            logs[kind] = (server.log(), server.port)
    for kind, (log, port) in logs.items():
        # Then the settings banner names the script, the model folder, workers and port
        banner = log[log.index("Server Settings\n---------------\n"):]
        for expected in (f"Entry Script Name: {script}", f"Model Directory: {tmp_path}",
                         "Worker Count: 1", f"Server Port: {port}", f"Health Port: {port}",
                         "Application Insights Enabled: false", "Config File: None",
                         "Server Routes\n---------------\n",
                         f"Score:          POST  127.0.0.1:{port}/score"):
            assert expected in banner, (kind, expected, banner[:1500])
        # And print() became azmlinfsrv.print lines, and the worker said it was ready
        for pattern in (
            _line("I", "azmlinfsrv.print", re.escape("printed in init 1 2")),
            _line("I", "azmlinfsrv.print", "printed in run"),
            _line("I", "azmlinfsrv.user_script", re.escape(f"Found user script at {script}")),
            _line("I", "azmlinfsrv.user_script", re.escape(
                "run() is not decorated. Server will invoke it with the input in JSON string.")),
            _line("I", "azmlinfsrv.user_script", "Invoking user's init function"),
            _line("I", "azmlinfsrv.user_script", "Users's init has completed successfully"),
            _line("I", "azmlinfsrv", "Scoring timeout is set to 3600000"),
            _line("I", "azmlinfsrv", r"Worker with pid \d+ ready for serving traffic"),
        ):
            assert pattern.search(log), (kind, pattern.pattern, log[-3000:])


BROKEN_SCRIPTS = {
    "indentation": ("def init():\n    pass\n\ndef run(raw):\n  x = 1\n    return x\n",
                    ["Failed to import user script because it raised an unhandled exception",
                     "IndentationError: unexpected indent", 'score.py", line 6']),
    "init raises": ("def init():\n    raise RuntimeError('no model here')\n\n"
                    "def run(raw):\n    return raw\n",
                    ["User's init function failed", "Model Directory Contents:",
                     "RuntimeError: no model here"]),
}


@pytest.mark.parametrize("case", list(BROKEN_SCRIPTS))
def test_a_broken_script_is_reported_in_the_peers_words(tmp_path: Path, case: str) -> None:
    text, expected = BROKEN_SCRIPTS[case]
    script = _write(tmp_path / "app", "score.py", text)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.bin").write_bytes(b"0")
    # When both are started on it (ours through `jupyter-deploy serve`, as the peer's command)
    servers = [start(kind, script, model_dir=tmp_path / "model") for kind in KINDS]
    try:
        codes = [server.process.wait(60) for server in servers]
    finally:
        for server in servers:
            stop(server)
    # Then both stop with gunicorn's boot-error status, saying why in the same words
    assert codes == [3, 3]
    for server in servers:
        for words in expected:
            assert words in server.log(), (server.name, words, server.log()[-3000:])


def test_logging_json_in_the_app_root_configures_the_log(tmp_path: Path) -> None:
    script = _write(tmp_path, "score.py", PRINTING_SCRIPT)
    for kind in KINDS:
        # Given a logging.json sending the server's lines to a file in a format of its own
        target = tmp_path / f"{kind}.log"
        config = {"version": 1,
                  "formatters": {"plain": {"format": "CUSTOM|%(levelname)s|%(name)s|%(message)s"}},
                  "handlers": {"file": {"class": "logging.FileHandler", "filename": str(target),
                                        "formatter": "plain"}},
                  "loggers": {"azmlinfsrv": {"level": "INFO", "handlers": ["file"],
                                             "propagate": False}}}
        (tmp_path / "logging.json").write_text(json.dumps(config))
        with serving(kind, script) as server:
            assert requests.post(server.url + "/score", json={}, timeout=30).status_code == 200
            deadline = time.monotonic() + 10
            while "printed in run" not in target.read_text() and time.monotonic() < deadline:
                time.sleep(0.05)
        # Then the file holds the server's lines and the script's print() in that format
        lines = target.read_text().splitlines()
        for line in (f"CUSTOM|INFO|azmlinfsrv|Loaded logging config from "
                     f"{tmp_path / 'logging.json'}",
                     "CUSTOM|INFO|azmlinfsrv.print|printed in init 1 2",
                     "CUSTOM|INFO|azmlinfsrv.print|printed in run",
                     "CUSTOM|INFO|azmlinfsrv.user_script|Invoking user's init function"):
            assert line in lines, (kind, line, lines)
        # And they are no longer in the server's own output
        assert "printed in init" not in server.log(), kind
