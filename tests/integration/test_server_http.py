"""HTTP/1.1 behaviour of the scoring server's connections, on raw sockets against the real server.

The compatibility suite compares answers with the peer's; this checks the connection-level
rules the server's own protocol class decides (:mod:`jupyter_deploy.server.connection`):
keep-alive, pipelining, ``Connection: close``, HTTP/1.0, ``Expect: 100-continue``, chunked
bodies, the body and header limits, malformed requests, HEAD, upgrades, ``async def run()``
and graceful shutdown.
"""

from __future__ import annotations

import json
import signal
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

COMPAT = Path(__file__).parents[1] / "compat"
sys.path.insert(0, str(COMPAT))
sys.path.insert(0, str(Path(__file__).parents[1]))

from samples import write_score_py  # noqa: E402
from servers import RunningServer, serving  # noqa: E402

BODY = b'{"data": [[1, 2], [3, 4]]}'


@dataclass
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class Client:
    """A raw connection: send exact bytes, read answers one by one (a test-side reader)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.file = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reply(self, head_only: bool = False) -> Reply:
        status_line = self.file.readline()
        assert status_line.startswith(b"HTTP/1.1 "), status_line
        reply = Reply(int(status_line.split()[1]))
        while (line := self.file.readline().rstrip(b"\r\n")):
            name, _, value = line.decode("latin-1").partition(":")
            reply.headers[name.strip().lower()] = value.strip()
        if not head_only and reply.status >= 200:
            reply.body = self.file.read(int(reply.headers.get("content-length", 0)))
        return reply

    def closed_by_server(self) -> bool:
        return self.file.read(1) == b""

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def post(body: bytes = BODY, path: str = "/score", extra: str = "") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n").encode() + body


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("echo")
    script = write_score_py(folder, "json.loads(raw)['data']", imports="import json")
    with serving("ours", script, env={"JD_MAX_BODY_BYTES": "1000"}) as running:
        yield running


@pytest.fixture
def client(server: RunningServer) -> Iterator[Client]:
    connection = Client(server.port)
    yield connection
    connection.close()


def test_a_kept_alive_connection_answers_request_after_request(client: Client) -> None:
    for _ in range(3):
        client.send(post())
        reply = client.reply()
        assert (reply.status, json.loads(reply.body)) == (200, [[1, 2], [3, 4]])
        assert "connection" not in reply.headers


def test_pipelined_requests_are_answered_in_order(client: Client) -> None:
    # Given three requests sent in one write, the second one for the health route
    client.send(post(b'{"data": [1]}') + b"GET / HTTP/1.1\r\nHost: t\r\n\r\n" +
                post(b'{"data": [3]}'))
    # Then three answers come back, in the order asked
    assert client.reply().body == b"[1]"
    assert client.reply().body == b"Healthy"
    assert client.reply().body == b"[3]"


def test_connection_close_and_http_1_0_close_after_the_answer(server: RunningServer) -> None:
    for request in (post(extra="Connection: close\r\n"),
                    b"GET / HTTP/1.0\r\n\r\n"):
        client = Client(server.port)
        client.send(request)
        reply = client.reply()
        assert reply.status == 200 and reply.headers["connection"] == "close"
        assert client.closed_by_server()
        client.close()


def test_expect_100_continue_gets_the_go_ahead_first(client: Client) -> None:
    client.send(post(extra="Expect: 100-continue\r\n")[:-len(BODY)])
    assert client.reply(head_only=True).status == 100
    client.send(BODY)
    assert client.reply().status == 200


def test_a_chunked_body_sent_in_pieces_is_put_together(client: Client) -> None:
    client.send(b"POST /score HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                b"Content-Type: application/json\r\n\r\n")
    for piece in (BODY[:10], BODY[10:]):
        client.send(b"%x\r\n%s\r\n" % (len(piece), piece))
    client.send(b"0\r\n\r\n")
    assert json.loads(client.reply().body) == [[1, 2], [3, 4]]


def test_a_body_over_the_limit_is_refused_before_it_is_read(client: Client) -> None:
    # When the Content-Length says more than JD_MAX_BODY_BYTES (1000 here)
    client.send(post(b"x" * 5000)[:-5000])
    # Then 413 comes back without the body being sent, and the connection closes
    reply = client.reply()
    assert reply.status == 413 and "JD_MAX_BODY_BYTES" in json.loads(reply.body)["message"]
    assert client.closed_by_server()


def test_a_chunked_body_over_the_limit_is_refused(client: Client) -> None:
    client.send(b"POST /score HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
    client.send(b"%x\r\n%s\r\n" % (800, b"x" * 800) * 2)
    assert client.reply().status == 413
    assert client.closed_by_server()


def test_malformed_requests_get_400_and_a_closed_connection(server: RunningServer) -> None:
    for garbage in (b"NOT HTTP AT ALL\r\n\r\n",
                    b"POST /score HTTP/1.1\r\nContent-Length: x\r\n\r\n"):
        client = Client(server.port)
        client.send(garbage)
        assert client.reply().status == 400
        assert client.closed_by_server()
        client.close()


def test_headers_over_64_kb_get_431(client: Client) -> None:
    client.send(b"GET / HTTP/1.1\r\nHost: t\r\n" + b"X-Filler: " + b"y" * 70_000 + b"\r\n\r\n")
    assert client.reply().status == 431
    assert client.closed_by_server()


def test_paths_are_percent_decoded_and_absolute_urls_accepted(client: Client) -> None:
    client.send(post(path="/sc%6Fre") + post(path="http://t/score?x=1"))
    assert client.reply().status == 200
    assert client.reply().status == 200


def test_head_answers_headers_only(client: Client) -> None:
    client.send(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n")
    reply = client.reply(head_only=True)
    assert reply.status == 200 and reply.headers["content-length"] == "7"
    # And the connection goes on with the next request (no stray body bytes in between)
    client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert client.reply().body == b"Healthy"


def test_an_upgrade_request_is_answered_as_plain_http(client: Client) -> None:
    client.send(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
    assert client.reply().body == b"Healthy"
    assert client.closed_by_server()


def test_the_server_survives_a_client_that_vanishes_mid_request(server: RunningServer,
                                                                client: Client) -> None:
    # Given a client that sends half a request and disconnects
    gone = Client(server.port)
    gone.send(post()[:-5])
    gone.close()
    # Then other clients are served as before
    client.send(post())
    assert client.reply().status == 200


def test_async_run_answers_pipelined_requests_in_order(tmp_path: Path) -> None:
    # Given an async run() that takes longer for the first request than for the second
    script = tmp_path / "score.py"
    script.write_text("import asyncio, json\n\ndef init():\n    pass\n\n"
                      "async def run(raw):\n    n = json.loads(raw)['n']\n"
                      "    await asyncio.sleep(0.2 if n == 1 else 0)\n    return n\n")
    with serving("ours", script) as running:
        client = Client(running.port)
        client.send(post(b'{"n": 1}') + post(b'{"n": 2}'))
        # Then the answers come in the order of the requests
        assert [client.reply().body, client.reply().body] == [b"1", b"2"]
        client.close()


def test_a_refused_request_behind_a_pending_one_does_not_jump_the_queue(tmp_path: Path
                                                                        ) -> None:
    # Given an async run() still working on a first request
    script = tmp_path / "score.py"
    script.write_text("import asyncio\n\ndef init():\n    pass\n\n"
                      "async def run(raw):\n    await asyncio.sleep(0.2)\n    return 'first'\n")
    with serving("ours", script, env={"JD_MAX_BODY_BYTES": "1000"}) as running:
        client = Client(running.port)
        # When a second request, too large, follows it on the same connection
        client.send(post() + post(b"x" * 5000)[:-5000])
        # Then the first is answered, and then the connection closes (no 413 out of turn)
        reply = client.reply()
        assert (reply.status, reply.body) == (200, b'"first"')
        assert reply.headers["connection"] == "close"
        assert client.closed_by_server()
        client.close()


def test_graceful_shutdown_delivers_the_answer_in_flight(tmp_path: Path) -> None:
    # Given an async run() that is still working when the server is told to stop
    script = tmp_path / "score.py"
    script.write_text("import asyncio\n\ndef init():\n    pass\n\n"
                      "async def run(raw):\n    await asyncio.sleep(1)\n    return 'done'\n")
    with serving("ours", script) as running:
        client = Client(running.port)
        client.send(post())
        health = Client(running.port)
        health.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert health.reply().status == 200  # the request above is now in flight
        running.process.send_signal(signal.SIGTERM)
        # Then the answer still arrives, on a connection the server then closes
        reply = client.reply()
        assert (reply.status, reply.body) == (200, b'"done"')
        assert reply.headers["connection"] == "close"
        # (uvicorn re-raises the signal once it has shut down, so the status says SIGTERM)
        assert running.process.wait(30) in (0, -signal.SIGTERM)
        client.close()
        health.close()


def test_a_stop_closes_idle_connections_and_ends_the_server(tmp_path: Path) -> None:
    # Given a server with a kept-alive connection that is idle
    script = write_score_py(tmp_path, "1.0")
    with serving("ours", script) as running:
        kept = Client(running.port)
        kept.send(post())
        assert kept.reply().status == 200
        # When it is told to stop
        running.process.send_signal(signal.SIGTERM)
        # Then it closes the idle connection and ends
        assert kept.closed_by_server()
        assert running.process.wait(30) in (0, -signal.SIGTERM)
        assert "Shutting down" in running.log()
        kept.close()


def test_a_draining_server_serves_on_with_its_health_route_down(tmp_path: Path) -> None:
    # Given a server with a drain, and a kept-alive connection a load balancer holds to it
    script = write_score_py(tmp_path, "1.0")
    with serving("ours", script, env={"JD_DRAIN_SECONDS": "2"}) as running:
        kept = Client(running.port)
        kept.send(post())
        assert kept.reply().status == 200
        # When it is told to stop
        started = time.monotonic()
        running.process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        # Then the health route says it is going, on a connection it then closes
        health = Client(running.port)
        health.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        reply = health.reply()
        assert (reply.status, reply.body) == (503, b"Draining")
        assert reply.headers["connection"] == "close"
        # And a request on the kept connection is still answered, and that connection closed
        kept.send(post())
        reply = kept.reply()
        assert reply.status == 200 and json.loads(reply.body) == pytest.approx(1.0)
        assert reply.headers["connection"] == "close" and kept.closed_by_server()
        # And the server stops once the drain is over, not before
        assert running.process.wait(30) in (0, -signal.SIGTERM)
        assert time.monotonic() - started >= 2
