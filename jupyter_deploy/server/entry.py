"""The user's ``score.py``: load it, call ``init()`` once, and call ``run()`` the way it expects.

How ``run()`` is called is decided once, at load time, exactly as the peer decides it: with the
raw request (``@rawhttp``), with parsed JSON arguments by name (``@input_schema``), or with the
body as a string (undecorated); plus ``request_headers=`` when ``run()`` declares it. Requests
then only parse their input and call a prepared function.
"""

from __future__ import annotations

import importlib.util
import inspect
import itertools
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType, ModuleType
from typing import Any

try:
    from . import aml, codec, schema
except ImportError:  # pragma: no cover - run as a plain script
    import aml  # type: ignore[no-redef]
    import codec  # type: ignore[no-redef]
    import schema  # type: ignore[no-redef]

LISTING_LIMIT = 200


class ScriptError(Exception):
    """The entry script cannot be loaded or has no usable ``init()``/``run()``."""


class InputError(Exception):
    """The request cannot be turned into ``run()``'s arguments; ``status`` is the answer's."""

    status = 400


class UnsupportedInput(InputError):
    """The body is not of the content type ``run()`` needs."""

    status = 415


class MethodNotAllowed(InputError):
    """``run()`` takes no input through this HTTP method."""

    status = 405


class RunTimeout(BaseException):
    """``run()`` took longer than the scoring timeout."""


@dataclass(slots=True)
class Request:
    """What a scoring request carries, independent of the HTTP stack."""

    method: str
    path: str
    query: bytes
    headers: aml.Headers
    body: bytes
    client: str | None = None


class UserScript:
    """A loaded entry script and the prepared way of calling its ``run()``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.module: ModuleType | None = None
        self.run: Callable[..., Any] = _no_run
        self.mode = "string"
        self.parameters: list[inspect.Parameter] = []
        self.pass_headers = False
        self.is_async = False

    def load(self) -> None:
        """Import the script and decide how ``run()`` is called.

        Raises:
            ScriptError: the script is missing, lacks ``init``/``run``, or ``run`` cannot be called.
        """
        if not os.path.isfile(self.path):
            raise ScriptError(f"entry script {self.path} does not exist")
        folder = os.path.dirname(os.path.abspath(self.path))
        if folder not in sys.path:
            sys.path.append(folder)
        spec = importlib.util.spec_from_file_location("entry_module", self.path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name in ("init", "run"):
            if not callable(getattr(module, name, None)):
                raise ScriptError(f"entry script {self.path} does not define {name}()")
        driver = getattr(module, "driver_module", None)
        self.module = module
        self.run = driver.run if isinstance(driver, ModuleType) and hasattr(driver, "run") \
            else module.run
        self._analyse()

    def init(self) -> None:
        """Call the script's ``init()`` (once per worker)."""
        assert self.module is not None
        self.module.init()

    def _analyse(self) -> None:
        params = list(inspect.signature(self.run).parameters.values())
        allowed = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        if any(p.kind not in allowed for p in params):
            raise ScriptError("run() cannot accept positional-only arguments, *args, or **kwargs.")
        self.pass_headers = any(p.name == "request_headers" for p in params)
        self.parameters = [p for p in params if p.name != "request_headers"]
        if not self.parameters:
            raise ScriptError("run() needs to accept an argument for input data.")
        raw, decorated = aml.wants_raw_request(self.run), schema_decorated(self.run)
        if raw and decorated:
            raise ScriptError("run() cannot be decorated with both @rawhttp and @input_schema")
        self.mode = "raw" if raw else "object" if decorated else "string"
        self.is_async = inspect.iscoroutinefunction(inspect.unwrap(self.run))

    def arguments(self, request: Request) -> dict[str, Any]:
        """``run()``'s keyword arguments for ``request``.

        Raises:
            InputError: bad body (400), wrong content type (415) or method (405).
        """
        first = self.parameters[0].name
        if request.method not in ("GET", "POST", "OPTIONS"):
            raise MethodNotAllowed("Method not allowed")
        if self.mode == "raw":
            kwargs: dict[str, Any] = {first: aml.AMLRequest(
                request.method, request.path, request.query, request.headers, request.body,
                request.client)}
        elif request.method == "GET":
            query = _query_values(request.query)
            kwargs = self._by_name(query) if self.mode == "object" else {first: json.dumps(query)}
        elif request.method != "POST":
            raise MethodNotAllowed("Method not allowed")
        elif self.mode == "object":
            kwargs = self._by_name(_json_object(request))
        else:
            try:
                kwargs = {first: request.body.decode("utf-8")}
            except UnicodeDecodeError as e:
                raise InputError(f"Input cannot be decoded as UTF-8: {e}") from None
        if self.pass_headers:
            kwargs["request_headers"] = dict(request.headers.items())
        return kwargs

    def named(self, values: dict[str, Any]) -> dict[str, Any]:
        """``run()``'s arguments taken from ``values`` by name, defaults filled in.

        Raises:
            InputError: a parameter without a default has no value.
        """
        return self._by_name(values)

    def _by_name(self, body: dict[str, Any]) -> dict[str, Any]:
        values = {}
        for p in self.parameters:
            value = body.get(p.name, p.default)
            if value is inspect.Parameter.empty:
                raise InputError(f"A value is not provided for the {p.name!r} parameter.")
            values[p.name] = value
        return values


def schema_decorated(func: Callable[..., Any]) -> bool:
    """Whether ``run()`` carries schema decorators (ours, or the real package's)."""
    if schema.is_schema_decorated(func):
        return True
    util = sys.modules.get("inference_schema.schema_util")
    check = getattr(util, "is_schema_decorated", None)
    return bool(check and check is not schema.is_schema_decorated and check(func))


def _json_object(request: Request) -> dict[str, Any]:
    if not aml.AMLRequest("POST", "", b"", request.headers, b"").is_json:
        raise UnsupportedInput("Expects Content-Type to be application/json")
    try:
        body = codec.loads(request.body)
    except ValueError as e:
        if request.body:
            raise InputError(f"POST body could not be decoded as JSON: {e}") from None
        raise InputError("POST body is empty. Expecting a JSON dictionary.") from None
    if not isinstance(body, dict):
        raise InputError("POST body should be a JSON dictionary.")
    return body


def _query_values(query: bytes) -> dict[str, Any]:
    args = aml.Args(query.decode("latin-1"))
    parsed: dict[str, Any] = {}
    for key in args:
        values = [_maybe_json(v) for v in args.getlist(key)]
        parsed[key] = values[0] if len(values) == 1 else values
    return parsed


def _maybe_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _no_run(*_: Any, **__: Any) -> Any:
    raise ScriptError("the entry script is not loaded")


class RunClock:
    """``SCORING_TIMEOUT_MS`` for a sync ``run()``, without a system call per request.

    The peer arms an interval timer before each ``run()`` and disarms it after: two system
    calls per request, as many as the socket read and write together. Here the timer stays
    armed across requests. Each call only notes when it started; when SIGALRM comes, the
    handler raises :class:`RunTimeout` if the ``run()`` in progress is past its limit, re-arms
    the timer for the rest of that run's time if one is in progress but not yet due, and
    otherwise leaves the timer off until the next call arms it. Under steady traffic the timer
    fires about once per limit (once an hour by default); the limit is exact to the kernel
    timer, as the peer's is.
    """

    def __init__(self) -> None:
        self.started = 0.0  # perf_counter() when the run() in progress started; 0: none
        self.limit = 0.0  # its limit, in seconds
        self.due = 0.0  # when the armed timer fires (perf_counter time); 0: not armed

    def arm(self, started: float, limit: float) -> None:
        """Note a ``run()`` starting now; arm the timer unless it is due within the limit.

        A due time already past means the timer fired or was cancelled (pytest-timeout does):
        it is armed again.
        """
        self.started, self.limit = started, limit
        if not started < self.due <= started + limit:
            self.due = started + limit
            signal.setitimer(signal.ITIMER_REAL, limit)

    def on_alarm(self, signum: int, frame: FrameType | None) -> None:
        started = self.started
        if not started:
            self.due = 0.0
            return
        left = started + self.limit - time.perf_counter()
        if left <= 0:
            self.due = 0.0
            raise RunTimeout
        self.due = started + self.limit
        signal.setitimer(signal.ITIMER_REAL, left)


_CLOCK = RunClock()
_MAIN_THREAD = threading.main_thread().ident


def install_time_limit() -> None:
    """Make SIGALRM interrupt ``run()`` (once, at start-up, from the main thread)."""
    if threading.get_ident() == _MAIN_THREAD:
        signal.signal(signal.SIGALRM, _CLOCK.on_alarm)


def call_timed(func: Callable[..., Any], kwargs: dict[str, Any], timeout_ms: int
               ) -> tuple[Any, float]:
    """Call ``func(**kwargs)``; return its value and the milliseconds spent.

    In the main thread (the server's event loop) ``func`` is interrupted with
    :class:`RunTimeout` after ``timeout_ms`` (see :class:`RunClock` and
    :func:`install_time_limit`), as the peer does; elsewhere there is no limit.

    Raises:
        RunTimeout: ``func`` ran past the limit.
    """
    started = time.perf_counter()
    if threading.get_ident() != _MAIN_THREAD:
        return func(**kwargs), (time.perf_counter() - started) * 1000
    _CLOCK.arm(started, timeout_ms / 1000)
    try:
        value = func(**kwargs)
    finally:
        _CLOCK.started = 0.0
    return value, (time.perf_counter() - started) * 1000


def folder_listing(path: str) -> list[str]:
    """An indented listing of ``path`` (at most :data:`LISTING_LIMIT` lines), as the peer logs."""
    lines = list(itertools.islice(_walk(os.path.normpath(path), 0), LISTING_LIMIT + 1))
    if len(lines) > LISTING_LIMIT:
        lines[-1] = f"Output truncated. First {LISTING_LIMIT} lines shown."
    return lines


def _walk(path: str, depth: int) -> Iterator[str]:
    name = os.path.basename(path.rstrip(os.sep)) or path
    if os.path.isdir(path):
        yield f"{'    ' * depth}{name}{os.sep}"
        for child in sorted(os.listdir(path)):
            yield from _walk(os.path.join(path, child), depth + 1)
    else:
        yield f"{'    ' * depth}{name}"
