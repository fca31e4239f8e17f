"""Ports for test servers: each suite keeps to its own range so parallel runs never collide."""

from __future__ import annotations

import socket
from collections.abc import Iterable


def an_unused_port(first: int, last: int, skip: Iterable[int] = ()) -> int:
    """A port in ``first..last`` (inclusive) on 127.0.0.1 that nothing listens on right now."""
    skipped = set(skip)
    for port in range(first, last + 1):
        if port in skipped:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}-{last}")
