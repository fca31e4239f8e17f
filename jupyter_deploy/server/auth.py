"""Bearer keys (``JD_AUTH_KEY_FILES``): what endpoints on a cluster ask of their clients.

On a cluster the scoring port is reachable by more than the user who deployed it, so the
cluster targets mount a primary and a secondary key as secret files and name them in
``JD_AUTH_KEY_FILES``. Every request then needs ``Authorization: Bearer <key>`` with the content
of one of those files, except the health probes (``GET /``, and the protocols'
``/v2/health/live``, ``/v2/health/ready``, ``/ping`` and ``/health``) and the API description
(``GET /swagger.json``), which probes and clients read without a key. Two keys let a client
move to a new key while the old one still works.

The files are checked again at most once a second (a ``stat`` each), and re-read when one
changed, so updating the secret rotates the keys without a restart. A file that is missing or
empty at start stops the server (fail closed); one that goes away later takes its key with it.
Keys are compared in constant time and never logged, echoed or handed to ``run()``.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable

try:
    from . import aml, entry, protocol
    from .app import Answer, ScoringApp, error_answer
    from .protocol_routes import OPEN_PATHS
    from .settings import Settings
except ImportError:  # pragma: no cover - run as a plain script
    import aml  # type: ignore[no-redef]
    import entry  # type: ignore[no-redef]
    import protocol  # type: ignore[no-redef]
    from app import Answer, ScoringApp, error_answer  # type: ignore[no-redef]
    from protocol_routes import OPEN_PATHS  # type: ignore[no-redef]
    from settings import Settings  # type: ignore[no-redef]

log = logging.getLogger("azmlinfsrv")

#: Requests answered without a key: the health probes (ours and the protocols') and the API
#: description.
OPEN = {(method, path) for method in ("GET", "HEAD")
        for path in (protocol.HEALTH_PATH, protocol.SWAGGER_PATH, *OPEN_PATHS)}
#: Seconds between two looks at the key files.
CHECK_INTERVAL = 1.0
UNAUTHORIZED = ("This endpoint needs a key: send the header 'Authorization: Bearer <key>' "
                "with one of its keys.")
_WHITESPACE = b" \t\r\n"


class KeyFileError(Exception):
    """A key file is missing, unreadable or empty at start (the message names the file)."""


class KeyFiles:
    """The keys in a set of files, kept current by :meth:`refresh`."""

    def __init__(self, paths: Iterable[str], clock: Callable[[], float] = time.monotonic) -> None:
        self.paths = tuple(paths)
        self.clock = clock
        self.keys: dict[str, bytes] = {}
        self.stamps: dict[str, tuple[int, ...]] = {}
        self.next_check = 0.0

    def load(self) -> None:
        """Read every file, strictly (at start).

        Raises:
            KeyFileError: a file is missing, unreadable or holds only whitespace.
        """
        for path in self.paths:
            try:
                stamp = _stamp(path)
                key = _read(path)
            except OSError as e:
                raise KeyFileError(
                    f"Bearer key file {path} cannot be read ({e.strerror or e}): "
                    f"{protocol.ENV_AUTH_KEY_FILES} names it. Mount it, or change the variable; "
                    "refusing to start without it.") from e
            if not key:
                raise KeyFileError(
                    f"Bearer key file {path} is empty: {protocol.ENV_AUTH_KEY_FILES} names it. "
                    "Put a key in it; refusing to start without it.")
            self.keys[path], self.stamps[path] = key, stamp
        self.next_check = self.clock() + CHECK_INTERVAL

    def refresh(self) -> None:
        """Re-read the files that changed, at most once per :data:`CHECK_INTERVAL`."""
        now = self.clock()
        if now < self.next_check:
            return
        self.next_check = now + CHECK_INTERVAL
        for path in self.paths:
            try:
                stamp = _stamp(path)
                if stamp == self.stamps.get(path):
                    continue
                key = _read(path)
            except OSError:
                stamp, key = (), b""
            self.stamps[path] = stamp
            if key:
                log.info("Bearer key file %s changed: its key was read again", path)
                self.keys[path] = key
            elif self.keys.pop(path, None) is not None:
                log.warning("Bearer key file %s is gone or empty: its key no longer works", path)

    def allows(self, authorization: bytes | None) -> bool:
        """Whether an ``Authorization`` header value carries one of the keys."""
        self.refresh()
        scheme, _, token = (authorization or b"").partition(b" ")
        if scheme.lower() != b"bearer":
            return False
        offered = token.strip(_WHITESPACE)
        found = False
        for key in self.keys.values():  # every key, whichever matches: no timing hint
            found |= hmac.compare_digest(offered, key)
        return found


def _stamp(path: str) -> tuple[int, ...]:
    """What changes when a file is rewritten or replaced (a Kubernetes secret swaps a link)."""
    st = os.stat(path)
    return (st.st_mtime_ns, st.st_ino, st.st_dev, st.st_size)


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read().strip(_WHITESPACE)


class GuardedApp(ScoringApp):
    """The scoring app behind bearer keys: everything but :data:`OPEN` needs one.

    A separate class, so a server without keys runs :class:`ScoringApp` as it is, with no check
    on its path at all.
    """

    def __init__(self, script: entry.UserScript, settings: Settings, keys: KeyFiles) -> None:
        super().__init__(script, settings)
        self.keys = keys
        self.plain = False  # every request through _route, where the key is checked

    def _route(self, request: entry.Request) -> Answer | Awaitable[Answer]:
        if (request.method, request.path) in OPEN:
            return super()._route(request)
        # The key is the server's business: run() never sees it (and cannot echo or log it).
        offered, others = None, []
        for name, value in request.headers.raw:  # bytes as received: nothing decoded
            if name == b"authorization":
                offered = offered or value
            else:
                others.append((name, value))
        if not self.keys.allows(offered):
            log.debug("%s %s: no valid bearer key", request.method, request.path)
            status, body, headers = error_answer(401, UNAUTHORIZED)
            return status, body, [*headers, (b"www-authenticate", b"Bearer")]
        request.headers = aml.Headers(raw=others)
        return super()._route(request)
