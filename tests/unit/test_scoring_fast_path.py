"""The scoring server's short path: its JSON codec, the access line, the run clock, request ids
and the plain ``/score`` path, each against what it replaces (no sockets, no engine)."""

from __future__ import annotations

import io
import json
import logging
import math
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from jupyter_deploy.server import access, aml, codec, entry, logs, phases
from jupyter_deploy.server.app import RequestIds, ScoringApp

SAMPLE = {"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]]}


def _standard(value: Any) -> Any:
    """What the standard library made of ``value`` before orjson: the values a client read."""
    return json.loads(json.JSONEncoder(default=codec.default).encode(value))


@pytest.mark.parametrize("value", [
    [386.006384083642, 221.80008018427714, 1e-5, 1e16, -0.0],
    np.array([0.1, 0.2], dtype=np.float32), np.arange(3), np.float64(0.3), np.int64(7),
    pd.DataFrame({"a": [1, 2], "b": [0.5, 0.25]}), pd.Series([1.0, 2.0]),
    {"nested": [{"b": np.array([1.0])}], "none": None, "text": "héllo ☃"},
    [math.nan, math.inf, -math.inf, None], 2**70, {1: "int key"}, "\ud800",
    pd.Timestamp("2024-01-01T00:00:00.000000001"), (1, 2),
])
def test_the_codec_writes_the_values_the_standard_library_wrote(value: Any) -> None:
    # Given a value run() may return, When it is encoded
    body = codec.dumps(value)
    # Then a client decodes exactly what it decoded from the standard library's JSON
    decoded, expected = json.loads(body), _standard(value)
    assert repr(decoded) == repr(expected)


def test_the_codec_keeps_nan_and_infinity_as_the_peer_writes_them() -> None:
    assert codec.dumps([math.nan, math.inf, None]) == b"[NaN,Infinity,null]"


def test_the_codec_refuses_what_json_refused() -> None:
    with pytest.raises(TypeError):
        codec.dumps({1, 2})


def test_the_codec_reads_what_json_read_with_its_error_messages() -> None:
    assert codec.loads(b'{"a": [1, 2.5]}') == {"a": [1, 2.5]}
    assert math.isnan(codec.loads(b"[NaN]")[0])
    assert codec.loads(b"123456789012345678901234567890") == 123456789012345678901234567890
    with pytest.raises(ValueError) as refused:
        codec.loads(b'{"a": [1, 2')
    with pytest.raises(ValueError) as standard:
        json.loads(b'{"a": [1, 2')
    assert str(refused.value) == str(standard.value)


# The access line


@pytest.fixture
def default_logging() -> Iterator[Callable[[], io.StringIO]]:
    """Makes the server's default logging set-up (as ``logs.configure`` does), on a buffer.

    Called inside the test: pytest adds its capture handlers to the root logger after the
    fixtures ran, which would make the set-up not the default one.
    """
    root = logging.getLogger()
    saved = root.handlers[:], root.level

    def configure() -> io.StringIO:
        stream = io.StringIO()
        logs.configure("INFO")
        assert logs._default is not None
        logs._default.setStream(stream)
        return stream

    yield configure
    for handler in root.handlers[:]:
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])
    logs._default = None


def test_the_access_line_is_what_logging_writes_in_the_peers_format(
        default_logging: Callable[[], io.StringIO]) -> None:
    # Given the access log of the default set-up
    written = default_logging()
    log = access.AccessLog.for_server()
    assert log is not None and log.stream is written
    # When a request's line is noted and written, next to the same text through logging
    started = time.perf_counter()
    log.request("POST", "/score", b"a=1", 200, started, 38)
    log.flush()
    logging.getLogger(logs.LOGGER).info("POST /score?a=1 200 0.001ms 38")
    fast, slow = written.getvalue().splitlines()
    # Then both lines have the same shape: UTC time to the millisecond, level, pid, logger
    prefix = f" I [{__import__('os').getpid()}] azmlinfsrv - POST /score?a=1 200 "
    assert fast[23:].startswith(prefix) and slow[23:].startswith(prefix)
    assert fast.endswith("ms 38")
    assert abs(time.mktime(time.strptime(fast[:19], "%Y-%m-%d %H:%M:%S")) -
               time.mktime(time.strptime(slow[:19], "%Y-%m-%d %H:%M:%S"))) <= 1
    assert fast[19] == "," and fast[20:23].isdigit()


def test_access_lines_wait_for_a_write_but_never_pass_another_line(
        default_logging: Callable[[], io.StringIO]) -> None:
    # Given the access log, inside an event loop, with one line noted
    written = default_logging()
    log = access.AccessLog.for_server()
    assert log is not None and log.stream is written

    async def serve() -> tuple[str, str]:
        log.request("POST", "/score", b"", 200, time.perf_counter(), 2)
        before = written.getvalue()
        # When another line is logged (say a run() failure) before the buffer's time is up
        logging.getLogger("azmlinfsrv").error("Encountered Exception: boom")
        return before, written.getvalue()

    import asyncio
    before, after = asyncio.run(serve())
    # Then nothing was written at once, and the access line came out first
    assert before == ""
    lines = after.splitlines()
    assert "POST /score 200" in lines[0] and "Encountered Exception: boom" in lines[1]


def test_a_custom_logging_setup_gets_the_line_through_logging(
        caplog: pytest.LogCaptureFixture) -> None:
    # Given logging that is not the server's default (pytest's capture handler)
    with caplog.at_level(logging.INFO, logger="azmlinfsrv"):
        log = access.AccessLog.for_server()
        assert log is not None and log.stream is None
        # When a streamed answer's line is noted, Then logging has it at once, in the peer's words
        log.request("GET", "/score", b"", 200, time.perf_counter(), None)
    assert caplog.records[-1].getMessage().endswith("ms N/A")
    assert caplog.records[-1].levelno == logging.INFO


def test_no_line_above_info() -> None:
    logger = logging.getLogger("azmlinfsrv")
    saved = logger.level
    logger.setLevel(logging.WARNING)
    try:
        assert access.AccessLog.for_server() is None
    finally:
        logger.setLevel(saved)


def _request(method: str, path: str, body: bytes = b"", query: bytes = b"",
             headers: list[tuple[bytes, bytes]] | None = None) -> entry.Request:
    raw = headers if headers is not None else [(b"content-type", b"application/json")]
    return entry.Request(method, path, query, aml.Headers(raw=raw), body, "127.0.0.1")


def test_access_lines_for_the_routes_the_peer_logs(
        an_app_for: Callable[..., ScoringApp], caplog: pytest.LogCaptureFixture) -> None:
    # Given an app whose access lines go through logging
    with caplog.at_level(logging.INFO, logger="azmlinfsrv"):
        app = an_app_for("plain_json")
        body = json.dumps(SAMPLE).encode()
        # When the probe, a score, a bad score, a 404, a PUT, the swagger and a protocol call come
        for method, path, payload in [("GET", "/", b""), ("POST", "/score", body),
                                      ("POST", "/score", b"{"), ("GET", "/nowhere", b""),
                                      ("PUT", "/score", b""), ("GET", "/swagger.json", b""),
                                      ("GET", "/v2/health/ready", b""),
                                      ("POST", "/invocations", b'{"inputs": [[1]]}')]:
            app.respond(_request(method, path, payload))
    lines = [r.getMessage() for r in caplog.records
             if r.name == "azmlinfsrv" and r.levelno == logging.INFO]
    # Then the score (good and bad), the swagger and the protocol call are logged, as the peer
    # logs /score and /swagger.json but not the probe, an unknown route or a refused method
    assert [line.split(" ")[:3] for line in lines] == [
        ["POST", "/score", "200"], ["POST", "/score", "500"], ["GET", "/swagger.json", "200"],
        ["POST", "/invocations", lines[-1].split(" ")[2]]]
    assert lines[0].endswith(f" {len(b'[56,56]')}")


# The plain path and the general one answer alike


def test_the_plain_path_answers_as_the_general_one(an_app_for: Callable[..., ScoringApp]
                                                   ) -> None:
    app = an_app_for("plain_json", cors_origins=("http://a.example",),
                     server_version="jupyter-deploy/9")
    headers = [(b"content-type", b"application/json"), (b"origin", b"http://a.example"),
               (b"x-ms-client-request-id", b"cid")]
    answers = []
    for plain in (True, False):
        app.plain = plain
        status, body, extra = app.respond(  # type: ignore[misc]
            _request("POST", "/score", json.dumps(SAMPLE).encode(), headers=headers))
        answers.append((status, body, [(k, v) for k, v in extra
                                       if k not in (b"x-ms-run-fn-exec-ms", b"x-request-id")]))
    assert answers[0] == answers[1]
    assert answers[0][0] == 200 and answers[0][1] == b"[56,56]"


def test_the_plain_path_reports_a_failing_run_as_the_general_one(
        an_app_for: Callable[..., ScoringApp]) -> None:
    app = an_app_for("run_raises")
    assert app.plain
    status, body, extra = app.respond(  # type: ignore[misc]
        _request("POST", "/score", json.dumps(SAMPLE).encode()))
    assert status == 500 and isinstance(body, bytes) and b"this model refuses to score" in body
    assert (b"x-ms-run-function-failed", b"True") in extra


def test_a_body_that_is_not_utf8_gets_400_on_either_path(an_app_for: Callable[..., ScoringApp]
                                                         ) -> None:
    answer = an_app_for("plain_json").respond(_request("POST", "/score", b"\xff\xfe"))
    assert answer[0] == 400  # type: ignore[index]


ECHO = """
    import json

    seen = []

    def init():
        pass

    def run(raw):
        seen.append(raw)
        rows = json.loads(raw)["data"]
        if rows == "fail":
            raise ValueError("asked to fail")
        return [sum(r) if isinstance(r, list) else r for r in rows]
    """
_TENSOR = {"name": "rows", "shape": [2, 3], "datatype": "INT64", "data": [1, 2, 3, 4, 5, 6]}


@pytest.mark.parametrize("request_body", [
    {"inputs": [_TENSOR]},
    {"inputs": [_TENSOR], "id": "r-1"},
    {"inputs": [{**_TENSOR, "datatype": "FP64", "data": [0.5, 2, 1e-5, 3, 4, 1e300]}]},
    {"inputs": [{**_TENSOR, "datatype": "FP32", "shape": [6]}]},
    {"inputs": [{**_TENSOR, "datatype": "INT32", "shape": [3, 2]}]},
    {"inputs": [{**_TENSOR, "shape": [0, 3], "data": []}]},
    # each of these takes the general path: the same answer, or the same error
    {"inputs": [{**_TENSOR, "data": [1, 2, 3, 4, 5, 2.5]}]},
    {"inputs": [{**_TENSOR, "data": [1, 2, 3, 4, 5, True]}]},
    {"inputs": [{**_TENSOR, "data": [1, 2, 3, 4, 5, 2**63]}]},
    {"inputs": [{**_TENSOR, "data": [1, 2, 3, 4, 5, 2**70]}]},
    {"inputs": [{**_TENSOR, "datatype": "INT32", "data": [1, 2, 3, 4, 5, 2**31]}]},
    {"inputs": [{**_TENSOR, "shape": [2, 4]}]},
    {"inputs": [{**_TENSOR, "shape": [2, -3]}]},
    {"inputs": [{**_TENSOR, "shape": [1, 2, 3]}]},
    {"inputs": [{**_TENSOR, "data": [[1, 2, 3], [4, 5, 6]]}]},
    {"inputs": [{**_TENSOR, "datatype": "BYTES", "data": ["a"] * 6}]},
    {"inputs": [{**_TENSOR, "parameters": {"content_type": "json"}}]},
    {"inputs": [_TENSOR, {**_TENSOR, "name": "more"}]},
    {"inputs": [_TENSOR], "outputs": [{"name": "output-0"}]},
    {"inputs": [_TENSOR], "parameters": {"binary_data_output": True}},
    {"inputs": []}, {"inputs": "rows"}, [1, 2], {"inputs": [{**_TENSOR, "name": 7}]},
    {"inputs": [{**_TENSOR, "datatype": "FP64", "shape": [1], "data": ["fail"]}]},
])
def test_the_plain_infer_path_answers_as_the_general_one(
        an_app_for: Callable[..., ScoringApp], request_body: Any) -> None:
    # Given a plain run(raw) that keeps the text it was given
    app = an_app_for(text=ECHO)
    assert app.plain
    seen = app.script.module.seen  # type: ignore[attr-defined]
    path = app.protocols.oip.infer_path
    answers = []
    # When the same infer request takes the short path, then the general one
    for plain in (True, False):
        app.plain = plain
        status, body, extra = app.respond(  # type: ignore[misc]
            _request("POST", path, json.dumps(request_body).encode()))
        answers.append((status, body, [(k, v) for k, v in extra
                                       if k not in (b"x-request-id", b"x-ms-request-id")],
                        list(seen)))
        seen.clear()
    # Then run() got the same text, and the client the same answer
    assert answers[0] == answers[1]


def test_the_plain_infer_path_is_taken_for_rows_of_numbers(
        an_app_for: Callable[..., ScoringApp], monkeypatch: pytest.MonkeyPatch) -> None:
    app = an_app_for(text=ECHO)
    monkeypatch.setattr(app.protocols.oip, "infer", None)  # the general path would fail
    status, body, _ = app.respond(  # type: ignore[misc]
        _request("POST", app.protocols.oip.infer_path, json.dumps({"inputs": [_TENSOR]}).encode()))
    assert status == 200 and json.loads(body)["outputs"][0]["data"] == [6, 15]


# The run clock


def test_the_run_clock_stops_every_slow_run_and_leaves_fast_ones(
        an_app_for: Callable[..., ScoringApp]) -> None:
    # Given a script that sleeps as long as it is asked, with a 200 ms limit
    app = an_app_for(text="""
        import time
        def init(): pass
        def run(data):
            time.sleep(float(data))
            return "done"
        """, timeout_ms=200)
    try:
        results = []
        # When slow and fast runs alternate (the timer staying armed in between)
        for seconds in ("0", "1", "0", "0.05", "1", "0"):
            started = time.monotonic()
            status, _, _ = app.respond(  # type: ignore[misc]
                _request("POST", "/score", seconds.encode()))
            results.append((status, round(time.monotonic() - started, 1)))
        # Then every slow run ended at the limit, and every fast one was answered
        assert [status for status, _ in results] == [200, 500, 200, 200, 500, 200], results
        assert all(took < 0.9 for _, took in results), results
        # And an idle server's timer goes off harmlessly
        time.sleep(0.3)
        assert app.respond(_request("POST", "/score", b"0"))[0] == 200  # type: ignore[index]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        entry._CLOCK.due = 0.0


def test_the_run_clock_arms_the_timer_once_for_a_run_of_requests(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the clock, with system calls counted
    calls: list[float] = []
    monkeypatch.setattr(entry.signal, "setitimer", lambda which, seconds: calls.append(seconds))
    clock = entry.RunClock()
    # When a hundred runs start in a row with the same limit
    for _ in range(100):
        clock.arm(time.perf_counter(), 60.0)
        clock.started = 0.0
    # Then the timer was armed once, not a hundred times (nor disarmed a hundred times)
    assert len(calls) == 1
    # And a shorter limit arms it again, sooner
    clock.arm(time.perf_counter(), 1.0)
    assert calls[-1] == 1.0


# Request ids


def test_generated_request_ids_are_distinct_version_4_uuids() -> None:
    ids = [RequestIds(), RequestIds()]
    made = [one.new().decode() for one in ids for _ in range(1000)]
    assert len(set(made)) == 2000
    assert all(uuid.UUID(i).version == 4 and str(uuid.UUID(i)) == i for i in made)


# The phase clock


def test_the_phase_clock_takes_its_own_cost_out_of_every_phase(tmp_path: Path) -> None:
    # Given a clock whose reads cost 1 unit, and one request that took 9 units of work in
    # data_received: 2 parsing, 7 answering (3 dispatch, run() 2, encode 1, write 1). Each
    # interval read includes one read's cost, and two for every interval inside it.
    clock = phases.PhaseClock(str(tmp_path / "phases.json"))
    clock.call = 1.0
    clock.requests = 1
    clock.fed, clock.fed_n = 9 + 1 + 2 * 4, 1
    clock.answered, clock.answered_n = 7 + 1 + 2 * 3, 1
    clock.ran, clock.ran_n = 2 + 1, 1
    clock.encoded, clock.encoded_n = 1 + 1, 1
    clock.written, clock.written_n = 1 + 1, 1
    totals = clock.totals()
    # Then the phases are the work itself, and the clock's ten reads are counted apart
    assert totals == {"requests": 1, "parse": 2, "dispatch": 3, "run": 2, "encode": 1,
                      "write": 1, "clock": 10}
    clock.dump()
    assert json.loads((tmp_path / "phases.json").read_text())["run"] == 2
