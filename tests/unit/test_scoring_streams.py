"""Streamed answers and bearer keys of the scoring server, without sockets or a server process.

Streams go through the ASGI adapter and through the server's own connection class on a real
event loop with a recording transport: the parts that depend on the client's pace (a client
that stops reading, one that goes away, a request pipelined behind a stream). The key files are
checked with a clock that moves only when told. What a real client sees is checked against the
peer in ``tests/integration/test_server_conformance.py`` and ``test_server_auth.py``.
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from jupyter_deploy.server import aml, auth, entry, shims, streaming
from jupyter_deploy.server.app import ScoringApp
from jupyter_deploy.server.connection import ScoringProtocol
from jupyter_deploy.server.settings import Settings

STREAMING = """
import asyncio
from azureml.contrib.services.aml_response import AMLResponse

closed = []
gate = None

def init():
    pass

def pieces():
    try:
        yield "a"
        yield b"b"
        yield "c"
    finally:
        closed.append("pieces")

async def waiting():
    global gate
    gate = asyncio.Event()
    try:
        yield "first"
        await gate.wait()
        yield "second"
    finally:
        closed.append("waiting")

def run(raw):
    return AMLResponse(waiting() if raw == "wait" else pieces(), 200)
"""


@pytest.fixture
def an_app(tmp_path: Path) -> Iterator[ScoringApp]:
    aml._rawHttpRequested = False
    shims.install()
    path = tmp_path / "score.py"
    path.write_text(textwrap.dedent(STREAMING))
    script = entry.UserScript(str(path))
    script.load()
    script.init()
    yield ScoringApp(script, Settings(str(path), str(tmp_path)))
    aml._rawHttpRequested = False


def closed(app: ScoringApp) -> list[str]:
    return app.script.module.closed  # type: ignore[union-attr]


def test_an_asgi_server_gets_the_pieces_one_message_each(an_app: ScoringApp) -> None:
    sent: list[dict[str, Any]] = []
    scope = {"type": "http", "method": "POST", "path": "/score", "query_string": b"",
             "headers": [], "client": ("127.0.0.1", 1)}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"go", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    asyncio.run(an_app(scope, receive, send))
    # Then the head has no length, each piece is a message, and an empty one ends the body
    names = [name for name, _ in sent[0]["headers"]]
    assert sent[0]["status"] == 200 and b"content-length" not in names
    assert [(m["body"], m.get("more_body", False)) for m in sent[1:]] == [
        (b"a", True), (b"b", True), (b"c", True), (b"", False)]
    assert closed(an_app) == ["pieces"]


class Transport:
    """Records what the connection writes; the test decides when the client stops reading."""

    def __init__(self) -> None:
        self.written = b""
        self.closed = False
        self.reading = True

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 40000) if name == "peername" else None


def a_connection(app: ScoringApp) -> tuple[ScoringProtocol, Transport]:
    state = SimpleNamespace(connections=set(), tasks=set(), default_headers=[],
                            total_requests=0)
    connection = ScoringProtocol(SimpleNamespace(app=app, timeout_keep_alive=30), state)
    transport = Transport()
    connection.connection_made(transport)  # type: ignore[arg-type]
    return connection, transport


def post(body: bytes) -> bytes:
    return b"POST /score HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%b" % (len(body), body)


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def test_a_request_pipelined_behind_a_stream_waits_for_it(an_app: ScoringApp) -> None:
    async def scenario() -> bytes:
        connection, transport = a_connection(an_app)
        # Given a stream that waits, and a second request sent right behind it
        connection.data_received(post(b"wait") + b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        await settle()
        # Then only the first piece is out, and the health answer waits its turn
        assert transport.written.endswith(b"5\r\nfirst\r\n") and b"Healthy" not in \
            transport.written
        an_app.script.module.gate.set()  # type: ignore[union-attr]
        await settle()
        return transport.written

    written = asyncio.run(scenario())
    # When the stream ends, Then the last chunk, then the second answer, on the same connection
    assert b"6\r\nsecond\r\n0\r\n\r\nHTTP/1.1 200 OK" in written and written.endswith(b"Healthy")


def test_no_piece_is_made_while_the_client_does_not_read(an_app: ScoringApp) -> None:
    async def scenario() -> tuple[bytes, bytes]:
        connection, transport = a_connection(an_app)
        connection.pause_writing()  # the client's window is full from the start
        connection.data_received(post(b"go"))
        await settle()
        before = transport.written
        connection.resume_writing()
        await settle()
        return before, transport.written

    before, after = asyncio.run(scenario())
    assert before.endswith(b"1\r\na\r\n")  # one piece, then it waited
    assert after.endswith(b"1\r\na\r\n1\r\nb\r\n1\r\nc\r\n0\r\n\r\n")


def test_a_client_that_goes_away_stops_the_generator(an_app: ScoringApp) -> None:
    async def scenario() -> Transport:
        connection, transport = a_connection(an_app)
        connection.data_received(post(b"wait"))
        await settle()
        connection.connection_lost(None)
        await settle()
        return transport

    transport = asyncio.run(scenario())
    assert closed(an_app) == ["waiting"] and not transport.written.endswith(b"0\r\n\r\n")


def test_items_other_than_text_or_bytes_are_refused() -> None:
    assert streaming.encode("é") == "é".encode() and streaming.encode(bytearray(b"x")) == b"x"
    with pytest.raises(TypeError, match="str or bytes, not int"):
        streaming.encode(1)
    assert not streaming.is_stream(["a"]) and streaming.is_stream(iter(["a"]))
    assert aml.AMLResponse(["a", b"b"], 200).get_data() == b"ab"
    assert aml.AMLResponse((c for c in "ab"), 200).get_data() == b"ab"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def two_key_files(tmp_path: Path) -> tuple[auth.KeyFiles, Clock, Path]:
    (tmp_path / "a").write_text("key-a\n")
    (tmp_path / "b").write_text("key-b")
    clock = Clock()
    keys = auth.KeyFiles([str(tmp_path / "a"), str(tmp_path / "b")], clock)
    keys.load()
    return keys, clock, tmp_path


def test_keys_are_checked_at_most_once_a_second(two_key_files: tuple[auth.KeyFiles, Clock, Path]
                                                ) -> None:
    keys, clock, folder = two_key_files
    assert keys.allows(b"Bearer key-a") and keys.allows(b"bearer key-b")
    assert not keys.allows(b"Bearer key-c") and not keys.allows(None)
    assert not keys.allows(b"key-a") and not keys.allows(b"Basic key-a")
    # When a file is rewritten, Then the old key holds until a second has passed
    (folder / "a").write_text("key-c")
    clock.now += 0.5
    assert keys.allows(b"Bearer key-a")
    clock.now += 0.6
    assert keys.allows(b"Bearer key-c") and not keys.allows(b"Bearer key-a")
    # When a file goes away, Then its key goes with it
    (folder / "b").unlink()
    clock.now += 1.1
    assert not keys.allows(b"Bearer key-b") and keys.allows(b"Bearer key-c")


@pytest.mark.parametrize("problem", ["missing", "blank"])
def test_a_missing_or_blank_key_file_is_refused_by_name(tmp_path: Path, problem: str) -> None:
    if problem == "blank":
        (tmp_path / "k").write_text("\n \n")
    with pytest.raises(auth.KeyFileError, match=f"Bearer key file {tmp_path / 'k'}"):
        auth.KeyFiles([str(tmp_path / "k")]).load()

