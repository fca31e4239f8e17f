"""HTTP/1.1 connections of the scoring server: httptools parses, the app answers, one write.

uvicorn stays the server: it owns the listening socket, the event loop (uvloop), signals,
graceful shutdown and the ``Date`` header. This class is plugged into it through uvicorn's
``http=`` protocol-class setting. uvicorn's own httptools protocol runs every request as an
asyncio task through the ASGI send/receive cycle and writes headers and body separately. For a
scoring request (small, complete after one read, answered synchronously) that costs more
Python time than the parsing and the socket together. Here a complete request goes straight to
:meth:`ScoringApp.respond`, the same path the ASGI adapter takes, and its answer leaves in one
``write``; only an ``async def run()`` gets a task.

HTTP/1.1 itself (request framing, chunked bodies, keep-alive rules, upgrades, malformed input)
is httptools' (llhttp's) work. What is decided here: which answers close the connection, the
body limit (413, before the body is read when ``Content-Length`` says so), ``Expect:
100-continue``, pipelined requests answered in order, idle keep-alive connections closed after
``timeout_keep_alive``, and reading paused while the client does not read its answers.

A streamed answer (``AMLResponse(generator, …)``) goes out chunked, one chunk per item as the
item is made, through a task like an ``async def run()``'s: later requests on the connection
wait for it, the next item waits while the client does not read, a client that goes away
stops the generator, and a generator that fails ends the connection without the last chunk,
so the client sees a cut-off answer rather than a complete one. HTTP/1.0 clients get the
pieces unframed, ended by closing the connection.
"""

from __future__ import annotations

import asyncio
import collections
import http
import logging
import traceback
from typing import Any
from urllib.parse import unquote

import httptools

try:
    from . import aml, entry, streaming
    from .app import Answer, ScoringApp, error_answer
except ImportError:  # pragma: no cover - run as a plain script
    import aml  # type: ignore[no-redef]
    import entry  # type: ignore[no-redef]
    import streaming  # type: ignore[no-redef]
    from app import Answer, ScoringApp, error_answer  # type: ignore[no-redef]

log = logging.getLogger("azmlinfsrv")

#: Request line plus headers beyond this many bytes get 431 (gunicorn's default is 8190 per
#: field and 100 fields; llhttp itself sets no limit).
HEADER_BYTES_LIMIT = 64 * 1024
HEADERS_TOO_LARGE = f"Request headers are larger than {HEADER_BYTES_LIMIT} bytes."
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_STATUS_LINES = {s.value: f"HTTP/1.1 {s.value} {s.phrase}".encode() for s in http.HTTPStatus}
_COLON = b": ".join


def status_line(status: int) -> bytes:
    """The status line, without its CRLF."""
    return _STATUS_LINES.get(status) or f"HTTP/1.1 {status} ".encode()


def _target(url: bytes) -> tuple[str, bytes]:
    """The decoded path and the raw query of a request target."""
    if url[:1] == b"/" and b"?" not in url and b"%" not in url and b"#" not in url:
        return url.decode("latin-1"), b""  # what parse_url would find, sooner
    parsed = httptools.parse_url(url)
    path = parsed.path.decode("latin-1")
    return unquote(path) if "%" in path else path, parsed.query or b""


class ScoringProtocol(asyncio.Protocol):
    """One client connection (uvicorn makes one per accepted socket)."""

    def __init__(self, config: Any, server_state: Any, app_state: Any = None,
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.app: ScoringApp = config.app
        self.loop = _loop or asyncio.get_event_loop()
        self.state = server_state
        self.idle_limit = float(config.timeout_keep_alive)
        self.max_body = self.app.settings.max_body
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.client: str | None = None
        # The request being read
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.size = 0
        self.header_bytes = 0
        self.refused = False  # answered early (413, 431): ignore the rest of it
        self.length, self.expect = -1, b""  # its Content-Length and Expect
        self.last_url, self.last_target = b"", ("", b"")  # the previous request's URL, parsed
        # The connection
        self.pending: collections.deque[tuple[entry.Request, bool]] = collections.deque()
        # An async run() being awaited, or a streamed answer being sent
        self.busy: asyncio.Task[Any] | None = None
        self.streaming = False
        self.drained: asyncio.Future[None] | None = None  # set when writing may go on
        self.closing = False
        self.writes_paused = False
        self.last_active = 0.0
        self.idle_timer: asyncio.TimerHandle | None = None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # (uvloop's is not a subclass)
        self.state.connections.add(self)
        peer = transport.get_extra_info("peername")
        self.client = str(peer[0]) if isinstance(peer, tuple) and peer else None
        self.last_active = self.loop.time()
        self.idle_timer = self.loop.call_later(self.idle_limit, self._close_if_idle)

    def connection_lost(self, exc: Exception | None) -> None:
        self.state.connections.discard(self)
        if self.idle_timer:
            self.idle_timer.cancel()
        self.pending.clear()
        self.closing = True
        if self.streaming and self.busy is not None:
            self.busy.cancel()  # nobody reads the rest: stop making it
        self._drained()

    def data_received(self, data: bytes) -> None:
        self.last_active = self.loop.time()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # No protocol switch is offered: the request was answered as plain HTTP.
            self.closing = True
            self._close_when_done()
        except httptools.HttpParserError as e:
            if not self.refused:
                log.debug("Malformed request: %s", e)
                self._refuse(400, "Invalid HTTP request received.")

    def pause_writing(self) -> None:
        self.writes_paused = True
        self._pause_reading()

    def resume_writing(self) -> None:
        self.writes_paused = False
        self._drained()
        if self.busy is None and self.transport and not self.closing:
            self.transport.resume_reading()

    def _drained(self) -> None:
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)

    def shutdown(self) -> None:
        """Called by uvicorn on graceful shutdown: finish what was asked, then close."""
        self.closing = True
        self._close_when_done()

    # httptools callbacks

    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = []
        self.body = []
        self.size = self.header_bytes = 0
        self.length, self.expect = -1, b""
        self.refused = False

    def on_url(self, url: bytes) -> None:
        self.url += url
        self.header_bytes += len(url)
        if self.header_bytes > HEADER_BYTES_LIMIT and not self.refused:
            self._refuse(431, HEADERS_TOO_LARGE)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.refused:
            return
        name = name.lower()
        self.headers.append((name, value))
        self.header_bytes += len(name) + len(value) + 4
        if self.header_bytes > HEADER_BYTES_LIMIT:
            self._refuse(431, HEADERS_TOO_LARGE)
        elif name == b"content-length":  # (read here, not in a second pass over the headers)
            self.length = int(value) if value.isdigit() else -1
        elif name == b"expect":
            self.expect = value.lower()

    def on_headers_complete(self) -> None:
        if self.refused:
            return
        if self.length > self.max_body:
            self._refuse(413)
        elif self.expect == b"100-continue" and self.transport:
            self.transport.write(CONTINUE)

    def on_body(self, body: bytes) -> None:
        if self.refused:
            return
        self.size += len(body)
        if self.size > self.max_body:
            self._refuse(413)
            return
        self.body.append(body)

    def on_message_complete(self) -> None:
        if self.refused:
            return
        url = self.url
        if url == self.last_url:  # (a keep-alive client mostly asks for the same URL again)
            path, query = self.last_target
        else:
            path, query = self.last_target = _target(url)
            self.last_url = url
        body = self.body
        request = entry.Request(
            self.parser.get_method().decode("ascii"), path, query, aml.Headers(raw=self.headers),
            body[0] if len(body) == 1 else b"".join(body), self.client)
        if self.busy is not None or self.pending:
            self.pending.append((request, self.parser.should_keep_alive()))
        else:
            self._answer(request, self.parser.should_keep_alive())

    # answering

    def _answer(self, request: entry.Request, keep_alive: bool) -> None:
        try:
            answer = self.app.respond(request)
        except Exception:
            log.exception("The scoring server failed on %s %s", request.method, request.path)
            answer, keep_alive = error_answer(500), False
        if isinstance(answer, tuple):
            self._send(request.method, answer, keep_alive)
            return
        # An async run(): answered when it is done; later requests wait their turn.
        task: asyncio.Task[Answer] = self.loop.create_task(answer)  # type: ignore[arg-type]
        self.busy = task
        self.state.tasks.add(task)
        self._pause_reading()
        task.add_done_callback(lambda done: self._answered_later(done, request, keep_alive))

    def _answered_later(self, task: asyncio.Task[Answer], request: entry.Request,
                        keep_alive: bool) -> None:
        self.state.tasks.discard(task)
        self.busy = None
        if task.cancelled():
            answer, keep_alive = error_answer(503), False
        elif task.exception() is not None:
            log.error("The scoring server failed on %s %s", request.method, request.path,
                      exc_info=task.exception())
            answer, keep_alive = error_answer(500), False
        else:
            answer = task.result()
        self._send(request.method, answer, keep_alive)
        self._next()

    def _next(self) -> None:
        """Answer the requests that waited for the one just finished, then read again."""
        while self.pending and self.busy is None and not self._gone():
            self._answer(*self.pending.popleft())
        if self.busy is None and not self._gone() and not self.writes_paused:
            self.transport.resume_reading()  # type: ignore[union-attr]

    def _send(self, method: str, answer: Answer, keep_alive: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        status, body, headers = answer
        keep_alive = keep_alive and not self.closing and not self.app.draining
        # The head's lines joined once: "name: value" each, then the framing and a blank line.
        lines = [_STATUS_LINES.get(status) or status_line(status),
                 *map(_COLON, self.state.default_headers), *map(_COLON, headers)]
        if type(body) is not bytes:
            self._send_streamed(method, lines, body, keep_alive)  # type: ignore[arg-type]
            return
        lines.append(b"content-length: %d\r\n\r\n" % len(body) if keep_alive else
                     b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body))
        transport.write(b"\r\n".join(lines) + body if method != "HEAD" else
                        b"\r\n".join(lines))
        self.state.total_requests += 1
        if not keep_alive:
            self.closing = True
            transport.close()

    # streamed answers

    def _send_streamed(self, method: str, head: list[bytes], body: streaming.Streamed,
                       keep_alive: bool) -> None:
        """Send the head (its lines, without CRLFs) now and the pieces from a task; requests
        behind it wait their turn."""
        chunked = self.parser.get_http_version() != "1.0"
        keep_alive = keep_alive and chunked  # unframed pieces end when the connection does
        if chunked:
            head.append(b"transfer-encoding: chunked")
        if not keep_alive:
            head.append(b"connection: close")
        head.append(b"\r\n")
        transport = self.transport
        assert transport is not None
        transport.write(b"\r\n".join(head))
        self.state.total_requests += 1
        task: asyncio.Task[Any]
        if method == "HEAD":
            task = self.loop.create_task(body.close())
        else:
            task = self.loop.create_task(self._stream(body, chunked))
        self.busy = task
        self.streaming = True
        self.state.tasks.add(task)
        self._pause_reading()
        task.add_done_callback(lambda done: self._streamed(done, keep_alive))

    async def _stream(self, body: streaming.Streamed, chunked: bool) -> bool:
        """Write each piece as it comes; whether the answer was sent whole."""
        pieces = body.pieces()
        try:
            async for piece in pieces:
                if self._gone():
                    return False
                self.transport.write(  # type: ignore[union-attr]
                    streaming.chunk(piece) if chunked else piece)
                if self.writes_paused:
                    self.drained = self.loop.create_future()
                    await self.drained
        except Exception:
            log.error("Encountered Exception while streaming the answer: %s",
                      traceback.format_exc().rstrip())
            return False
        finally:
            await pieces.aclose()
        if chunked and not self._gone():
            self.transport.write(streaming.LAST_CHUNK)  # type: ignore[union-attr]
        return True

    def _streamed(self, task: asyncio.Task[Any], keep_alive: bool) -> None:
        self.state.tasks.discard(task)
        self.busy = None
        self.streaming = False
        self.last_active = self.loop.time()
        whole = not task.cancelled() and task.exception() is None and task.result() is not False
        if not (whole and keep_alive and not self.closing):
            self.closing = True
            if not self._gone():
                self.transport.close()  # type: ignore[union-attr]
            return
        self._next()

    def _refuse(self, status: int, message: str = "") -> None:
        """Answer now, before the rest of the request is read, and close.

        Behind earlier requests still being answered, nothing is written out of turn: they
        are answered, then the connection closes.
        """
        self.refused = True
        self.closing = True
        if self.busy is None and not self.pending:
            answer = self.app.too_large() if status == 413 else error_answer(status, message)
            self._send("POST", answer, keep_alive=False)

    # connection housekeeping

    def _gone(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    def _pause_reading(self) -> None:
        if not self._gone():
            self.transport.pause_reading()  # type: ignore[union-attr]

    def _close_when_done(self) -> None:
        # (a request still arriving is dropped: the client sees the connection close)
        if not self._gone() and self.busy is None and not self.pending:
            self.transport.close()  # type: ignore[union-attr]

    def _close_if_idle(self) -> None:
        """One timer per connection, re-armed for the rest of the idle time (not per request)."""
        if self._gone():
            return
        idle = self.loop.time() - self.last_active
        if idle >= self.idle_limit and self.busy is None:
            self.transport.close()  # type: ignore[union-attr]
            return
        self.idle_timer = self.loop.call_later(max(self.idle_limit - idle, 1.0),
                                               self._close_if_idle)
