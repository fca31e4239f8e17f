"""The scoring server's connection protocol with a fake clock and transport: the parts that
depend on time or on the peer's reading speed (idle keep-alive, write back-pressure).

The HTTP behaviour itself is checked on real sockets in ``tests/integration/test_server_http``.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from jupyter_deploy.server import entry
from jupyter_deploy.server.app import ScoringApp
from jupyter_deploy.server.connection import ScoringProtocol
from jupyter_deploy.server.settings import Settings


class FakeLoop:
    """Time that moves only when told, and the timers due by then."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[tuple[float, Any]] = []

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Any) -> Any:
        self.timers.append((self.now + delay, callback))
        return SimpleNamespace(cancel=lambda: None)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = [t for t in self.timers if t[0] <= self.now]
        self.timers = [t for t in self.timers if t[0] > self.now]
        for _, callback in due:
            callback()


class FakeTransport:
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


@pytest.fixture
def connection(tmp_path: Path) -> tuple[ScoringProtocol, FakeLoop, FakeTransport]:
    path = tmp_path / "score.py"
    path.write_text("def init():\n    pass\n\ndef run(raw):\n    return raw\n")
    script = entry.UserScript(str(path))
    script.load()
    app = ScoringApp(script, Settings(str(path), str(tmp_path)))
    loop, transport = FakeLoop(), FakeTransport()
    state = SimpleNamespace(connections=set(), tasks=set(), default_headers=[],
                            total_requests=0)
    protocol = ScoringProtocol(SimpleNamespace(app=app, timeout_keep_alive=30), state,
                               _loop=loop)  # type: ignore[arg-type]
    protocol.connection_made(transport)  # type: ignore[arg-type]
    return protocol, loop, transport


def test_an_idle_connection_closes_after_the_keep_alive_time(connection: Any) -> None:
    protocol, loop, transport = connection
    # Given a connection that answered a request
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert b"Healthy" in transport.written
    # When it stays quiet for less than the keep-alive time, Then it stays open
    loop.advance(29)
    assert not transport.closed
    # And when a request comes in, the idle time starts again
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    loop.advance(20)
    assert not transport.closed
    # When it has been quiet for the whole keep-alive time, Then the server closes it
    loop.advance(15)
    assert transport.closed
    assert protocol.state.total_requests == 2


def test_reading_pauses_while_the_client_does_not_read_its_answers(connection: Any) -> None:
    protocol, _, transport = connection
    # When the transport's write buffer is full, Then no more requests are read
    protocol.pause_writing()
    assert not transport.reading
    # When it has drained, Then reading goes on
    protocol.resume_writing()
    assert transport.reading


def test_graceful_shutdown_closes_an_idle_connection_at_once(connection: Any) -> None:
    protocol, _, transport = connection
    protocol.shutdown()
    assert transport.closed
    assert protocol in protocol.state.connections  # until the transport reports it lost
    protocol.connection_lost(None)
    assert protocol not in protocol.state.connections
