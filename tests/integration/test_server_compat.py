"""Compatibility: every score.py style, served by the peer and by ours, answers alike.

The peer (Azure ML's inference server) and our server run side by side on the host
(``jupyter-deploy serve`` against ``azmlinfsrv``); each script gets the same good and bad
requests, and the status codes and bodies must match — except where ours is deliberately
better, each such case named in :data:`DELIBERATE` and listed in the README.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

COMPAT = Path(__file__).parents[1] / "compat"
sys.path.insert(0, str(COMPAT))

from servers import RunningServer, serving, start, stop  # noqa: E402

SCRIPTS = COMPAT / "scripts"
ROWS = [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]]
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Call:
    method: str
    path: str = "/score"
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = tuple(JSON.items())


REQUESTS = {
    "good": Call("POST", body=json.dumps({"data": ROWS}).encode()),
    "malformed json": Call("POST", body=b'{"data": [[1, 2'),
    "wrong content type": Call("POST", body=json.dumps({"data": ROWS}).encode(),
                               headers=(("Content-Type", "text/plain"),)),
    "empty body": Call("POST"),
    "missing key": Call("POST", body=b'{"rows": [[1, 2]]}'),
    "huge body": Call("POST", body=json.dumps({"data": ROWS * 40_000}).encode()),
    "get with query": Call("GET", "/score?data=[[1,2,3,4,5,6,7,8,9,10]]"),
    "options": Call("OPTIONS"),
    "health": Call("GET", "/"),
    "swagger": Call("GET", "/swagger.json"),
    "put": Call("PUT", body=b"{}"),
    "unknown route": Call("GET", "/nowhere"),
}

#: (script, request) pairs where ours answers differently on purpose: what ours does instead.
DELIBERATE = {
    ("numpy_out", label): "numpy values are serialised (the peer answers 500)"
    for label in ("good", "wrong content type", "huge body", "get with query")
}


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> object:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def exchange(server: RunningServer, call: Call) -> Answer:
    response = requests.request(call.method, server.url + call.path, data=call.body,
                                headers=dict(call.headers), timeout=60)
    return Answer(response.status_code, response.content)


def difference(peer: Answer, ours: Answer, request: str) -> str | None:
    """Why the two answers are not equivalent, or None when they are."""
    if peer.status != ours.status:
        return f"status {peer.status} (peer) != {ours.status} (ours)"
    if request == "swagger":
        return None if _swagger_paths(peer) == _swagger_paths(ours) else "swagger paths differ"
    mine, theirs = ours.json(), peer.json()
    if isinstance(mine, dict) and set(mine) == {"message"}:
        if theirs is None:  # the peer's Flask HTML error page: ours is JSON, on purpose
            return None
        if isinstance(theirs, dict) and str(mine["message"]).startswith(theirs["message"]):
            return None  # ours may add the exception's type and text
        return f"message {theirs!r} (peer) != {mine!r} (ours)"
    if theirs is None and mine is None:
        return None if peer.body == ours.body else "bodies differ"
    return None if theirs == mine else f"{theirs!r:.200} (peer) != {mine!r:.200} (ours)"


def _swagger_paths(answer: Answer) -> object:
    doc = answer.json()
    if not isinstance(doc, dict):
        return None
    service_input = doc.get("definitions", {}).get("ServiceInput", {})
    return sorted(doc.get("paths", {})), service_input.get("example")


@pytest.fixture(scope="module", params=[
    "plain_json", "ridge", "numpy_out", "pandas_frame", "schema_standard", "schema_numpy",
    "schema_pandas", "raw_http", "run_raises",
])
def both_servers(request: pytest.FixtureRequest) -> Iterator[tuple[str, RunningServer,
                                                                   RunningServer]]:
    """The peer and ours, serving the same script."""
    script = SCRIPTS / f"{request.param}.py"
    with serving("peer", script) as peer, serving("ours", script) as ours:
        yield request.param, peer, ours


def test_same_answers_as_the_peer(both_servers: tuple[str, RunningServer, RunningServer]
                                  ) -> None:
    # Given one script served by both
    name, peer, ours = both_servers
    mismatches = {}
    # When each request is sent to both
    for label, call in REQUESTS.items():
        found = difference(exchange(peer, call), exchange(ours, call), label)
        deliberate = DELIBERATE.get((name, label))
        if deliberate:
            assert exchange(ours, call).status == 200, deliberate
        elif found:
            mismatches[label] = found
    # Then they are equivalent
    assert not mismatches, json.dumps(mismatches, indent=1)


def test_request_ids_are_echoed_like_the_peer(both_servers: tuple[str, RunningServer,
                                                                  RunningServer]) -> None:
    _, peer, ours = both_servers
    sent = {"x-request-id": "rid-1", "x-ms-client-request-id": "cid-1", **JSON}
    names = ("x-request-id", "x-ms-request-id", "x-ms-client-request-id")
    answers = [requests.post(s.url + "/score", data=b"{}", headers=sent, timeout=30)
               for s in (peer, ours)]
    assert [[a.headers.get(n) for n in names] for a in answers] == [["rid-1", "cid-1",
                                                                      "cid-1"]] * 2
    assert all("x-ms-run-function-failed" in a.headers for a in answers)


def test_a_slow_run_times_out_like_the_peer() -> None:
    # Given a run() slower than SCORING_TIMEOUT_MS
    env = {"SCORING_TIMEOUT_MS": "500"}
    with serving("peer", SCRIPTS / "slow.py", env=env) as peer, \
            serving("ours", SCRIPTS / "slow.py", env=env) as ours:
        # When scored, Then both answer 500 with the same message
        answers = [exchange(s, REQUESTS["good"]) for s in (peer, ours)]
    assert [a.status for a in answers] == [500, 500]
    assert answers[0].json() == answers[1].json() == {"message": "Scoring timeout after 500 ms"}


def test_a_failing_init_ends_both_with_the_traceback_last(tmp_path: Path) -> None:
    # Given a script whose init() raises, and a model folder with a file
    (tmp_path / "model.txt").write_text("weights")
    servers = [start(kind, SCRIPTS / "init_raises.py", model_dir=tmp_path)
               for kind in ("peer", "ours")]
    try:
        # When started, Then both exit non-zero without serving
        codes = [s.process.wait(60) for s in servers]
    finally:
        for server in servers:
            stop(server)
    assert all(code != 0 for code in codes), codes
    # And ours ends its log with the traceback, after the model folder's listing
    log = servers[1].log().rstrip().splitlines()
    assert "FileNotFoundError: model.pkl is not in AZUREML_MODEL_DIR" in log[-1]
    assert any("model.txt" in line for line in log)
    assert codes[1] == 3


@pytest.mark.parametrize("name", ["schema_standard", "schema_numpy", "schema_pandas"])
def test_an_installed_inference_schema_wins(name: str, tmp_path: Path) -> None:
    # Given the real inference-schema package on ours' path (taken from the peer's venv)
    from peer import PEER_VENV, peer_command

    peer_command()
    site = next(PEER_VENV.glob("lib/python3*/site-packages"))
    for package in ("inference_schema", "pytz"):
        (tmp_path / package).symlink_to(site / package)
    script = SCRIPTS / f"{name}.py"
    with serving("peer", script) as peer, \
            serving("ours", script, env={"PYTHONPATH": str(tmp_path)}) as ours:
        # When both are asked the same, Then the answers and even the swagger documents match
        for label in ("good", "malformed json", "missing key", "wrong content type"):
            call = REQUESTS[label]
            assert difference(exchange(peer, call), exchange(ours, call), label) is None, label
        schemas = [exchange(s, REQUESTS["swagger"]).json() for s in (peer, ours)]
    assert [s["definitions"]["ServiceInput"] for s in schemas] == [  # type: ignore[index]
        schemas[0]["definitions"]["ServiceInput"]] * 2  # type: ignore[index]
