"""``AMLRequest``, ``AMLResponse`` and ``@rawhttp``: what a raw-HTTP ``score.py`` works with.

The peer hands ``@rawhttp`` entry scripts a Flask request and accepts a Flask response. These
classes keep the parts of those interfaces scoring scripts use (``method``, ``headers``,
``args``, ``get_data()``, ``get_json()``, ``json``, ``full_path`` …; a body, a status and
headers), without Flask, so the in-image server stays small. :mod:`shims` serves them under the
Azure module paths (``azureml.contrib.services.aml_request`` …).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl

try:
    from . import streaming
except ImportError:  # pragma: no cover - run as a plain script
    import streaming  # type: ignore[no-redef]

F = TypeVar("F", bound=Callable[..., Any])

#: Set once any function is decorated with ``@rawhttp`` (the peer's module-level switch).
_rawHttpRequested = False
RAWHTTP_ATTR = "__jd_rawhttp__"


def rawhttp(func: F) -> F:
    """Mark ``run()`` as wanting the raw request (an :class:`AMLRequest`) instead of its body."""
    global _rawHttpRequested
    _rawHttpRequested = True
    with contextlib.suppress(AttributeError):  # builtins and slotted callables
        setattr(func, RAWHTTP_ATTR, True)
    return func


def wants_raw_request(func: Callable[..., Any]) -> bool:
    """Whether ``func`` (or any function, as the peer does) was decorated with ``@rawhttp``."""
    return bool(getattr(func, RAWHTTP_ATTR, False) or _rawHttpRequested)


class Headers:
    """Read-only request headers that behave like Werkzeug's, which ``score.py`` files expect.

    Lookups ignore case and give the first value; iterating yields ``(Name, value)`` pairs in
    the order they came, names title-cased the way Werkzeug derives them from the WSGI environ
    (``x-ms-request-id`` → ``X-Ms-Request-Id``), so ``for name, value in request.headers`` and
    ``dict(request.headers)`` work as on Azure ML's server. Built from the ASGI scope's byte
    pairs and decoded only when first read: most requests never look at their headers as text.
    """

    def __init__(self, pairs: Iterable[tuple[str, str]] = (),
                 raw: Iterable[tuple[bytes, bytes]] | None = None) -> None:
        self._raw = raw
        self._pairs: list[tuple[str, str]] | None = None if raw is not None else list(pairs)
        self._lookup: dict[str, str] | None = None

    @property
    def _items(self) -> list[tuple[str, str]]:
        if self._pairs is None:
            self._pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self._raw or ()]
        return self._pairs

    @property
    def _map(self) -> dict[str, str]:
        if self._lookup is None:
            self._lookup = {k.lower(): v for k, v in reversed(self._items)}
        return self._lookup

    def __getitem__(self, key: str) -> str:
        return self._map[key.lower()]

    def get(self, key: str, default: Any = None) -> Any:
        """The first value of ``key`` (any case), or ``default``."""
        return self._map.get(key.lower(), default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._map

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.items())

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[tuple[str, str]]:
        """``(Name, value)`` pairs, as received, names title-cased."""
        return [(name.title(), value) for name, value in self._items]

    def keys(self) -> list[str]:
        """The names, title-cased, once each (what ``dict(headers)`` reads)."""
        return list(dict.fromkeys(name.title() for name, _ in self._items))

    def values(self) -> list[str]:
        """The values, in the order they came."""
        return [value for _, value in self._items]

    @property
    def raw(self) -> Iterable[tuple[bytes, bytes]]:
        """The headers as received: byte pairs, lower-case names."""
        if self._raw is None:
            self._raw = [(k.lower().encode("latin-1"), v.encode("latin-1"))
                         for k, v in self._pairs or ()]
        return self._raw

    def getlist(self, key: str) -> list[str]:
        """Every value of ``key``."""
        return [v for k, v in self._items if k.lower() == key.lower()]


class Args(dict[str, str]):
    """Query parameters: first value by key, every value through :meth:`getlist`."""

    def __init__(self, query: str) -> None:
        self._pairs = parse_qsl(query, keep_blank_values=True)
        super().__init__()
        for key, value in self._pairs:
            self.setdefault(key, value)

    def getlist(self, key: str) -> list[str]:
        """Every value of ``key``, in order."""
        return [v for k, v in self._pairs if k == key]


class AMLRequest:
    """One HTTP request, as ``@rawhttp`` entry scripts receive it."""

    def __init__(self, method: str, path: str, query_string: bytes, headers: Headers,
                 body: bytes, remote_addr: str | None = None) -> None:
        self.method = method
        self.path = path
        self.query_string = query_string
        self.headers = headers
        self.data = body
        self.remote_addr = remote_addr
        self.args = Args(query_string.decode("latin-1"))

    @property
    def full_path(self) -> str:
        """Path and query, as Werkzeug spells it (``/score?`` when there is no query)."""
        return f"{self.path}?{self.query_string.decode('latin-1')}"

    @property
    def url(self) -> str:
        """The request URL as the client addressed it."""
        host = self.headers.get("host", "localhost")
        query = f"?{self.query_string.decode('latin-1')}" if self.query_string else ""
        return f"http://{host}{self.path}{query}"

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header, or ``""``."""
        return self.headers.get("content-type", "")

    @property
    def mimetype(self) -> str:
        """The media type without parameters, lower case."""
        return self.content_type.split(";", 1)[0].strip().lower()

    @property
    def is_json(self) -> bool:
        """Whether the body claims to be JSON (``application/json`` or ``…+json``)."""
        kind = self.mimetype
        return kind == "application/json" or (kind.startswith("application/") and
                                              kind.endswith("+json"))

    def get_data(self, as_text: bool = False, **_: Any) -> bytes | str:
        """The body, as bytes or (``as_text``) as text."""
        return self.data.decode("utf-8", errors="replace") if as_text else self.data

    def get_json(self, force: bool = False, silent: bool = False, **_: Any) -> Any:
        """The body parsed as JSON (None when it is not JSON and ``silent`` is set)."""
        if not (force or self.is_json):
            return None
        try:
            return json.loads(self.data)
        except ValueError:
            if silent:
                return None
            raise

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or None when the content type is not JSON."""
        return self.get_json()


class AMLResponse:
    """An answer ``run()`` returns as is: a body, a status code and headers.

    The message is the body as Werkzeug takes it: text (sent as UTF-8), bytes, a list or tuple
    of those (joined), or any other iterable — a generator or an async generator — whose items
    are streamed as they come (:attr:`stream`, sent chunked).
    """

    def __init__(self, message: Any, status_code: int,
                 response_headers: Mapping[str, str] | None = None,
                 json_str: bool = False, run_function_failed: bool = False) -> None:
        self.status_code = int(status_code)
        self.headers: list[tuple[str, str]] = []
        #: The iterable to stream, or None when the body is :attr:`body`.
        self.stream: Any = None
        body = b""
        if message is None or json_str:
            body = json.dumps({} if message is None else message).encode()
            self.headers.append(("content-type", "application/json"))
        else:
            if streaming.is_stream(message):
                self.stream = message
            elif isinstance(message, list | tuple):
                body = b"".join(streaming.encode(item) for item in message)
            else:
                body = message.encode() if isinstance(message, str) else bytes(message)
            if not any(k.lower() == "content-type" for k in response_headers or {}):
                self.headers.append(("content-type", "text/html; charset=utf-8"))
        self.body = body
        self.run_function_failed = run_function_failed
        for header, value in (response_headers or {}).items():
            for part in str(value).split(","):
                self.headers.append((header.lower(), part.strip()))

    @property
    def is_streamed(self) -> bool:
        """Whether the body is sent as it is made (Werkzeug's name)."""
        return self.stream is not None

    @property
    def data(self) -> bytes:
        """The body bytes (Werkzeug's name); reading it consumes a sync stream."""
        if self.stream is not None:
            if hasattr(self.stream, "__aiter__"):
                raise TypeError("an async generator's body can only be streamed")
            self.body = b"".join(streaming.encode(item) for item in self.stream)
            self.stream = None
        return self.body

    def get_data(self, as_text: bool = False) -> bytes | str:
        """The body, as bytes or text."""
        return self.data.decode("utf-8", errors="replace") if as_text else self.data
