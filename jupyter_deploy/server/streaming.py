"""Streamed answers: ``AMLResponse(generator, 200)`` sent chunk by chunk as the generator yields.

Token-by-token text generation answers before it has finished: the peer (Flask on gunicorn)
sends every item of a response iterable as one HTTP/1.1 chunk, ``str`` items encoded as UTF-8
and ``bytes`` as they are, with ``Transfer-Encoding: chunked`` and no ``Content-Length``. A
:class:`Streamed` body carries such an iterable from ``run()`` to the connection, which frames
and writes each piece as soon as it exists (:func:`chunk`).

A sync generator is advanced on the worker's event loop, one item per turn of the loop: like
``run()`` itself, it never runs beside other requests' code in another thread (a model's
thread-local state stays where ``run()`` left it), and other requests are answered between its
items. Async generators are awaited, so they give the loop away while they wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncGenerator
from typing import Any


class Streamed:
    """An answer body made of the pieces of an iterable (sync or async), sent as they come."""

    __slots__ = ("source",)

    def __init__(self, source: Any) -> None:
        self.source = source

    async def pieces(self) -> AsyncGenerator[bytes, None]:
        """The body's non-empty pieces as bytes; the source is closed when this ends, however.

        Raises:
            TypeError: an item is neither text nor bytes (the peer's gunicorn refuses it too).
        """
        try:
            if hasattr(self.source, "__aiter__"):
                async for item in self.source:
                    piece = encode(item)
                    if piece:
                        yield piece
            else:
                for item in self.source:
                    piece = encode(item)
                    if piece:
                        yield piece
                    await asyncio.sleep(0)  # let other requests in between two items
        finally:
            await self.close()

    async def close(self) -> None:
        """Close the source (its ``finally`` blocks run) when it is a generator."""
        closer = getattr(self.source, "aclose", None) or getattr(self.source, "close", None)
        if closer is not None:
            with contextlib.suppress(Exception):
                result = closer()
                if inspect.isawaitable(result):
                    await result


def encode(item: Any) -> bytes:
    """One item of a streamed answer as bytes: text as UTF-8, bytes-like as it is.

    Raises:
        TypeError: ``item`` is neither.
    """
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return item.encode("utf-8")
    if isinstance(item, bytearray | memoryview):
        return bytes(item)
    raise TypeError(f"a streamed answer's items must be str or bytes, not {type(item).__name__}")


def chunk(piece: bytes) -> bytes:
    """``piece`` framed as one HTTP/1.1 chunk (never empty: an empty chunk ends the body)."""
    return b"%x\r\n%b\r\n" % (len(piece), piece)


#: The chunk that ends a chunked body (no trailers).
LAST_CHUNK = b"0\r\n\r\n"


def is_stream(message: Any) -> bool:
    """Whether an ``AMLResponse`` message is to be streamed: an iterable that is not a sequence.

    As with Werkzeug: text and bytes are one body, lists and tuples are joined into one body
    (with a length), and any other iterable — a generator, an async generator — is streamed.
    """
    if isinstance(message, str | bytes | bytearray | memoryview | list | tuple):
        return False
    return hasattr(message, "__iter__") or hasattr(message, "__aiter__")
