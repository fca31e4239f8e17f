"""The scoring server's ASGI application: ``/``, ``/score``, ``/swagger.json`` and the protocols.

A bare ASGI callable rather than a web framework: ``/score`` and the probe are two comparisons,
the protocols' routes (:mod:`protocol_routes`) one dictionary look-up after them, and every
layer between the HTTP parser (uvicorn + httptools) and ``run()`` costs throughput. Everything
that can be decided once (how ``run()`` is called, fixed headers, CORS origins) is decided at
start-up; a request reads its body, parses its input, calls ``run()`` and serialises the answer.
"""

from __future__ import annotations

import logging
import random
import re
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

try:
    from . import access, aml, entry, protocol, protocol_routes, streaming, swagger
    from .answers import to_json
    from .settings import Settings
except ImportError:  # pragma: no cover - run as a plain script
    import access  # type: ignore[no-redef]
    import aml  # type: ignore[no-redef]
    import entry  # type: ignore[no-redef]
    import protocol  # type: ignore[no-redef]
    import protocol_routes  # type: ignore[no-redef]
    import streaming  # type: ignore[no-redef]
    import swagger  # type: ignore[no-redef]
    from answers import to_json  # type: ignore[no-redef]
    from settings import Settings  # type: ignore[no-redef]

log = logging.getLogger("azmlinfsrv")
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

JSON = b"application/json"
RUN_ERROR = "An unexpected error occurred in scoring script. Check the logs for more info."
INTERNAL_ERROR = "An unexpected internal error occurred. Check the logs for more info."
METHOD_NOT_ALLOWED = "The method is not allowed for the requested URL."
NOT_FOUND = ("The requested URL was not found on the server. If you entered the URL manually "
             "please check your spelling and try again. This server answers GET /, "
             "GET|POST|OPTIONS /score, GET /swagger.json, " + protocol_routes.ROUTES_TEXT + ".")


class TooLarge(Exception):
    """The request body is larger than the configured limit."""


#: An answer's body: bytes, or (a streamed ``AMLResponse``) pieces sent as they come.
Body = bytes | streaming.Streamed
Answer = tuple[int, Body, Headers]


class ScoringApp:
    """The application around one loaded :class:`entry.UserScript`.

    :meth:`respond` is the one path every request takes, whatever carries it: the scoring
    server's own HTTP protocol (:mod:`connection`) calls it directly, and :meth:`__call__`
    adapts it to ASGI for any other server (and for the unit tests).
    """

    def __init__(self, script: entry.UserScript, settings: Settings) -> None:
        self.script = script
        self.settings = settings
        self.fixed: Headers = []
        if settings.server_version:
            self.fixed.append((b"x-ms-server-version", settings.server_version.encode()))
        self.origins = set(settings.cors_origins)
        # Seeded here, in the worker (after any fork), so workers never hand out the same ids.
        self.ids = RequestIds()
        self.protocols = protocol_routes.ProtocolRoutes(script, settings)
        #: The peer's per-request INFO line (None: the logger is above INFO).
        self.access = access.AccessLog.for_server()
        #: POST /score of a plain ``run(data)`` (sync, the body as a string) takes the short
        #: path (:meth:`_score_plain`); a server with keys turns it off (see ``auth.py``).
        self.plain = script.mode == "string" and not script.pass_headers and \
            not script.is_async and bool(script.parameters)
        #: ... and so does the Open Inference Protocol's infer of one tensor of numbers.
        self.infer_path = self.protocols.oip.infer_path
        #: Set on SIGTERM when the server drains: the health route answers 503 and every answer
        #: closes its connection, while requests are still served.
        self.draining = False
        entry.install_time_limit()

    def respond(self, request: entry.Request) -> Answer | Awaitable[Answer]:
        """The answer (status, body, headers without content-length) to a complete request.

        An awaitable only when the script's ``run()`` is ``async def`` and is to be called.
        """
        started = _now()
        ids = request_ids(request.headers.raw, self.ids.new)
        if isinstance(ids, str):
            return self._done(request, started, _error(431, ids), [])
        if self.plain and request.method == "POST":
            if request.path == protocol.SCORE_PATH:
                answer = self._score_plain(request, started, ids)
                if answer is not None:
                    return answer
            elif request.path == self.infer_path:
                found = self.protocols.oip.infer_plain(request)
                if found is not None:
                    return self._done(request, started, found, ids)
        routed = self._route(request)
        if isinstance(routed, tuple):
            return self._done(request, started, routed, ids)
        return self._done_later(request, started, routed, ids)

    def _score_plain(self, request: entry.Request, started: float, ids: Headers
                     ) -> Answer | None:
        """``POST /score`` to a plain ``run(data)``: what :meth:`_score`, :meth:`_ran` and
        :meth:`_done` do, in one frame instead of eight (None: the body is not UTF-8).

        Every frame and object between the socket and ``run()`` costs twice here: once to run,
        and again because a model's ``run()`` pushes them out of the CPU's caches in between, so
        each request meets them cold. This is the request most servers get.
        """
        try:
            kwargs = {self.script.parameters[0].name: request.body.decode("utf-8")}
        except UnicodeDecodeError:
            return None  # (the general path answers 400)
        try:
            value, elapsed = entry.call_timed(self.script.run, kwargs, self.settings.timeout_ms)
        except entry.RunTimeout:
            return self._done(request, started, self._timed_out(), ids)
        except Exception as e:
            return self._done(request, started, _run_failed(e), ids)
        if type(value) not in _PLAIN:
            return self._done(request, started, self._ran(value, elapsed), ids)
        try:
            body = to_json(value)
        except (TypeError, ValueError):
            return self._done(request, started, self._ran(value, elapsed), ids)
        if self.access is not None:
            self.access.request("POST", request.path, request.query, 200, started, len(body))
        headers = [_JSON_TYPE, _NOT_FAILED, (RUN_TIME, b"%.3f" % elapsed), *ids, *self.fixed]
        if self.origins:
            headers += self._cors(request.headers)
        return 200, body, headers

    def too_large(self) -> Answer:
        """The answer to a body over the limit (the transport stops reading it)."""
        status, body, extra = _error(413, (
            f"Request body is larger than {self.settings.max_body} bytes "
            f"(raise {protocol.ENV_MAX_BODY} to accept it)."))
        return status, body, [*extra, *self.fixed]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        try:
            body = await read_body(receive, self.settings.max_body) \
                if scope["path"] == protocol.SCORE_PATH or scope["method"] == "POST" else b""
        except TooLarge:
            await respond(send, *self.too_large())
            return
        answer = self.respond(entry.Request(
            scope["method"], scope["path"], scope.get("query_string", b""),
            aml.Headers(raw=scope["headers"]), body, _client(scope)))
        await respond(send, *(answer if isinstance(answer, tuple) else await answer))

    def _done(self, request: entry.Request, started: float, routed: Answer,
              ids: Headers) -> Answer:
        status, body, extra = routed
        if self.access is not None and self._logged(request):
            self.access.request(request.method, request.path, request.query, status, started,
                                len(body) if isinstance(body, bytes) else None)
        if self.origins:
            return status, body, [*extra, *ids, *self.fixed, *self._cors(request.headers)]
        return status, body, [*extra, *ids, *self.fixed]

    def _logged(self, request: entry.Request) -> bool:
        """Whether the request gets an access line: as on the peer, a request its ``/score`` or
        ``/swagger.json`` route took (not the health probe, nor a 404 or a method no route
        takes); here also the protocols' routes but their health probes."""
        path, method = request.path, request.method
        if path == protocol.SCORE_PATH:
            return method in _SCORE_METHODS
        if path == protocol.SWAGGER_PATH:
            return method in ("GET", "HEAD")
        return self.protocols.logged(path)

    async def _done_later(self, request: entry.Request, started: float,
                          pending: Awaitable[Answer], ids: Headers) -> Answer:
        return self._done(request, started, await pending, ids)

    def _route(self, request: entry.Request) -> Answer | Awaitable[Answer]:
        path, method = request.path, request.method
        if path == protocol.SCORE_PATH:
            return self._score(request)
        if path in (protocol.HEALTH_PATH, protocol.SWAGGER_PATH) and method in ("GET", "HEAD"):
            if path == protocol.HEALTH_PATH:
                status, body = (503, protocol.DRAINING_BODY) if self.draining else \
                    (200, protocol.HEALTHY_BODY)
                return status, body.encode(), [(b"content-type", b"text/html; charset=utf-8")]
            return self._swagger(request)
        if path in (protocol.HEALTH_PATH, protocol.SWAGGER_PATH):
            return _error(405, METHOD_NOT_ALLOWED)
        found = self.protocols.route(request)
        if found is not None:
            return found
        return 404, to_json(protocol.error_body(NOT_FOUND)), [(b"content-type", JSON)]

    def _score(self, request: entry.Request) -> Answer | Awaitable[Answer]:
        try:
            kwargs = self.script.arguments(request)
        except entry.MethodNotAllowed as e:
            if request.method == "OPTIONS":
                return 200, b"", [(b"content-type", b"text/html; charset=utf-8")]
            return _error(e.status, METHOD_NOT_ALLOWED)
        except entry.InputError as e:
            return _error(e.status, str(e))
        if self.script.is_async:
            return self._score_async(kwargs)
        try:
            value, elapsed = entry.call_timed(self.script.run, kwargs, self.settings.timeout_ms)
        except entry.RunTimeout:
            return self._timed_out()
        except Exception as e:
            return _run_failed(e)
        return self._ran(value, elapsed)

    def _timed_out(self) -> Answer:
        log.error("Encountered Exception: run() timed out after %d ms (%s) in:\n%s",
                  self.settings.timeout_ms, protocol.ENV_TIMEOUT_MS,
                  traceback.format_exc().rstrip())
        return _error(500, f"Scoring timeout after {self.settings.timeout_ms} ms", True)

    async def _score_async(self, kwargs: dict[str, Any]) -> Answer:
        started = time.perf_counter()
        try:
            value = await self.script.run(**kwargs)
        except Exception as e:
            return _run_failed(e)
        return self._ran(value, (time.perf_counter() - started) * 1000)

    def _ran(self, value: Any, elapsed_ms: float) -> Answer:
        if _is_response(value):
            if self.access is not None:
                self.access.info("run() output is HTTP Response")  # (the peer's line)
            status, body, extra = _own_response(value)
        else:
            status, body, extra = _json_answer(value)
        extra.append((RUN_TIME, b"%.3f" % elapsed_ms))
        return status, body, extra

    def _swagger(self, request: entry.Request) -> Answer:
        query = aml.Args(request.query.decode("latin-1"))
        try:
            doc = swagger.document(self.settings.app_root, self.script.run, query.get("version"))
        except swagger.SwaggerError as e:
            return _error(404, str(e))
        return 200, to_json(doc), [(b"content-type", JSON)]

    def _cors(self, headers: aml.Headers) -> Headers:
        origin = headers.get("origin")
        if not self.origins or not origin or not (origin in self.origins or "*" in self.origins):
            return []
        found = [(b"access-control-allow-origin", origin.encode()), (b"vary", b"Origin")]
        if "access-control-request-method" in headers:
            found.append((b"access-control-allow-methods", b"GET, POST"))
            asked = headers.get("access-control-request-headers")
            if asked:
                found.append((b"access-control-allow-headers", asked.encode()))
        return found


def _run_failed(error: Exception) -> Answer:
    log.error("Encountered Exception: %s", traceback.format_exc().rstrip())
    return _error(500, f"{RUN_ERROR} ({type(error).__name__}: {str(error)[:300]})", True)


RUN_TIME = protocol.RUN_TIME_HEADER.encode()
RUN_FAILED = protocol.RUN_FAILED_HEADER.encode()
_SCORE_METHODS = ("GET", "POST", "OPTIONS")
_JSON_TYPE = (b"content-type", JSON)
_NOT_FAILED = (RUN_FAILED, b"False")
_now = time.perf_counter
#: What run() returns most of the time: never a response object, so no checks for one.
_PLAIN = frozenset({list, dict, str, float, int, tuple, bool, type(None)})


def _is_response(value: Any) -> bool:
    return type(value) not in _PLAIN and (
        isinstance(value, aml.AMLResponse) or _looks_like_response(value))


def _json_answer(value: Any) -> Answer:
    try:
        body = to_json(value)
    except (TypeError, ValueError):
        log.error("run()'s answer cannot be serialised:\n%s", traceback.format_exc().rstrip())
        return _error(500, INTERNAL_ERROR)
    return 200, body, [_JSON_TYPE, _NOT_FAILED]


def _own_response(value: Any) -> Answer:
    """``run()``'s own response (``AMLResponse``), checked before any of it reaches the wire."""
    try:
        status = int(value.status_code)
        headers = [(k.encode("latin-1"), str(v).encode("latin-1"))
                   for k, v in _response_headers(value)
                   if k.lower() not in ("content-length", "transfer-encoding", "connection")]
        if not 100 <= status <= 599:
            raise ValueError(f"status {status} is not an HTTP status")
        bad = [k for k, v in headers if not _TOKEN.fullmatch(k) or _UNSAFE.search(v)]
        if bad:
            raise ValueError(f"header {bad[0]!r} has a name or value HTTP cannot carry")
        body = _streamed(value) or bytes(value.get_data())
    except (TypeError, ValueError, UnicodeEncodeError):
        log.error("run()'s response cannot be sent:\n%s", traceback.format_exc().rstrip())
        return _error(500, INTERNAL_ERROR)
    failed = status >= 500 or bool(getattr(value, "run_function_failed", False))
    headers.append((protocol.RUN_FAILED_HEADER.encode(), str(failed).encode()))
    return status, body, headers


_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_UNSAFE = re.compile(rb"[\x00\r\n]")


def _streamed(value: Any) -> streaming.Streamed | None:
    """The body of a response to stream: ours with a generator, or Werkzeug's ``is_streamed``."""
    if not getattr(value, "is_streamed", False):
        return None
    source = value.stream if isinstance(value, aml.AMLResponse) else \
        getattr(value, "response", None)
    return None if source is None else streaming.Streamed(source)


def _looks_like_response(value: Any) -> bool:
    return hasattr(value, "status_code") and hasattr(value, "get_data") and \
        hasattr(value, "headers")


def _response_headers(value: Any) -> list[tuple[str, str]]:
    headers = value.headers
    items = headers if isinstance(headers, list) else list(headers.items())
    return [(k, v) for k, v in items if k.lower() != protocol.RUN_FAILED_HEADER]


def error_answer(status: int, message: str = INTERNAL_ERROR) -> Answer:
    """An error answer made outside any script call (malformed request, a fault of ours)."""
    return _error(status, message)


def _error(status: int, message: str, run_failed: bool = False) -> Answer:
    return status, to_json(protocol.error_body(message)), [
        (b"content-type", JSON), (protocol.RUN_FAILED_HEADER.encode(), str(run_failed).encode())]


_ID_HEADERS = {protocol.REQUEST_ID.encode(): 0, protocol.LEGACY_REQUEST_ID.encode(): 1,
               protocol.CLIENT_REQUEST_ID.encode(): 2, b"traceid": 3}


class RequestIds:
    """Version-4 UUIDs for requests that bring no ``x-request-id``, for a fraction of a µs.

    ``uuid.uuid4()`` reads the kernel's random source and builds a ``UUID`` object for every
    request. Ids only need to be unique: here the first 80 bits (74 of them random) are drawn
    once per worker, and the last 48 count up from a random start, so two workers (or two
    restarts) share an id with a chance of about 2^-74 per pair of workers.
    """

    def __init__(self) -> None:
        bits = random.SystemRandom().getrandbits  # seeded here, in the worker, after any fork
        head = f"{bits(80) & _HEAD_CLEAR | _HEAD_SET:020x}"
        self._head = f"{head[:8]}-{head[8:12]}-{head[12:16]}-{head[16:]}-".encode()
        self._count = bits(48)

    def new(self) -> bytes:
        self._count = (self._count + 1) & _TAIL_MASK
        return b"%s%012x" % (self._head, self._count)


# The version (4) and variant (RFC 4122) bits, in the first 80 bits of a random UUID.
_HEAD_CLEAR = ~((0xF000 << 16) | 0xC000)
_HEAD_SET = (0x4000 << 16) | 0x8000
_TAIL_MASK = (1 << 48) - 1


def request_ids(raw: Iterable[tuple[bytes, bytes]], new_id: Callable[[], bytes]) -> Headers | str:
    """The request-id headers to answer with, or the 431 message when one is too long.

    The peer's rules: ``x-request-id`` is echoed or generated; ``x-ms-client-request-id`` is
    echoed, and ``x-ms-request-id`` (deprecated) defaults to the client id, then the request id.
    """
    for name, _ in raw:
        if name in _ID_HEADERS:
            return _given_ids(raw, new_id)
    request_id = new_id()  # (most requests bring none)
    return [(b"x-request-id", request_id), (b"x-ms-request-id", request_id)]


def _given_ids(raw: Iterable[tuple[bytes, bytes]], new_id: Callable[[], bytes]) -> Headers | str:
    found: list[bytes] = [b"", b"", b"", b""]
    for name, value in raw:
        index = _ID_HEADERS.get(name)
        if index is not None and not found[index]:
            found[index] = value
    request_id, legacy, client, trace = found
    request_id = request_id or new_id()
    if len(request_id) > protocol.HEADER_LIMIT:
        return f"x-request-id must not exceed {protocol.HEADER_LIMIT} characters"
    if legacy:
        client = client or legacy
    else:
        legacy = client or request_id
    if len(legacy) > protocol.HEADER_LIMIT or len(client) > protocol.HEADER_LIMIT:
        return (f"x-ms-request-id and x-ms-client-request-id must not exceed "
                f"{protocol.HEADER_LIMIT} characters")
    ids = [(b"x-request-id", request_id), (b"x-ms-request-id", legacy)]
    if client:
        ids.append((b"x-ms-client-request-id", client))
    if trace:
        ids.append((b"traceid", trace))
    return ids


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body.

    Raises:
        TooLarge: more than ``limit`` bytes.
    """
    message = await receive()
    body = message.get("body", b"")
    if len(body) > limit:
        raise TooLarge
    if not message.get("more_body"):
        return bytes(body)
    chunks = [body]
    size = len(body)
    while message.get("more_body"):
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def respond(send: Send, status: int, body: Body, headers: Headers) -> None:
    """Send one answer: complete, or streamed piece by piece (the ASGI server frames it)."""
    if isinstance(body, streaming.Streamed):
        await send({"type": "http.response.start", "status": status, "headers": headers})
        try:
            async for piece in body.pieces():
                await send({"type": "http.response.body", "body": piece, "more_body": True})
        except Exception:
            log.error("Encountered Exception while streaming the answer: %s",
                      traceback.format_exc().rstrip())
            raise
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _client(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None
