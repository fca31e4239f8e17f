"""Loopback ports for the servers tests start, never the same port for two runs on one machine.

Fixed ranges per suite collided as soon as two runs (or two suites) met on one machine. Here a
port is drawn at random from :data:`WINDOW` — below Linux's ephemeral range, where the kernel puts
outgoing connections and the ``bind(port 0)`` picks of the code under test — and is handed out
only when nothing listens on it and this process can reserve it: a lock on the port's byte of
:data:`LOCKS`, a file every run on the machine shares. The reservation lasts until the run ends
(the kernel drops a process's locks when it exits, crashed or not), so a port stays this run's
even while the server on it is down between a stop and a start.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import socket
import tempfile
import threading
from pathlib import Path

#: Ports drawn from here: high enough to need no privileges, below the ephemeral range.
WINDOW = range(20000, 32768)
#: One byte per port is locked in this file while a run holds that port.
LOCKS = Path(tempfile.gettempdir()) / "jupyter-deploy-test-ports.lock"

_reserved: set[int] = set()
_guard = threading.Lock()
_lock_file: int | None = None
_draw = random.SystemRandom()


def an_unused_port(*_old_range: int, attempts: int = 200) -> int:
    """A port on 127.0.0.1 that nothing listens on, reserved for this run until it ends.

    Positional arguments (the ``first, last`` range of older callers) are accepted and ignored.

    Raises:
        RuntimeError: no free port was found in ``attempts`` draws.
    """
    with _guard:
        for _ in range(attempts):
            port = _draw.choice(WINDOW)
            if port in _reserved or not _nothing_listens(port) or not _reserve(port):
                continue
            _reserved.add(port)
            return port
    raise RuntimeError(f"no free port in {WINDOW.start}-{WINDOW.stop - 1} after {attempts} draws")


def _nothing_listens(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _reserve(port: int) -> bool:
    """Lock the port's byte in the shared file; False when another live process holds it."""
    global _lock_file
    if _lock_file is None:
        # Never closed: closing any descriptor of the file would drop every lock this process has.
        _lock_file = _open_shared(LOCKS)
    try:
        fcntl.lockf(_lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, port)
    except OSError:
        return False
    return True


def _open_shared(path: Path) -> int:
    """The lock file, writable by every user (another user's file: a file of this user's own)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError:
        return os.open(path.with_name(f"{path.stem}-{os.getuid()}.lock"), os.O_RDWR | os.O_CREAT)
    with contextlib.suppress(OSError):
        os.fchmod(fd, 0o666)  # the umask took some bits away
    return fd
