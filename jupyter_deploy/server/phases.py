"""The phase clock: where a request's time goes inside one worker, for the benchmark.

``JD_PHASE_CLOCK=/some/file`` turns it on. The worker's connections are then of a timed
subclass of :class:`~connection.ScoringProtocol`, ``run()`` and the JSON encoder are timed
through wrappers, and the running sums (seconds, and the number of requests) are written to the
file as JSON once a second; ``benchmarks/bench_server.py`` reads it before and after a load run.
The phases: *parse* (httptools and its callbacks, bytes to request), *dispatch* (our Python
between the request and ``run()`` and after it: ids, routing, arguments, headers), *run()*,
*encode* (the answer's JSON) and *write* (the answer's head and the socket write). What the
worker's CPU spends beyond their sum is the event loop, the socket reads and the kernel.

The clock is the thread's CPU time, not the wall clock: on a machine whose cores the load
generator shares, a wall clock charges the time the worker waits preempted to whichever phase
it was in (mostly the socket write that wakes the client). Reading that clock is a system call
of its own (about 0.5 µs here); its cost is measured at start and taken out of every phase, and
:meth:`PhaseClock.totals` reports it apart (*clock*). Off (the variable unset), the server's
path is the plain one: no wrapper, no check.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from typing import Any

try:
    from . import answers
    from . import app as app_module
    from .app import ScoringApp
    from .connection import ScoringProtocol
except ImportError:  # pragma: no cover - run as a plain script
    import answers  # type: ignore[no-redef]
    import app as app_module  # type: ignore[no-redef]
    from app import ScoringApp  # type: ignore[no-redef]
    from connection import ScoringProtocol  # type: ignore[no-redef]

ENV = "JD_PHASE_CLOCK"
PHASES = ("parse", "dispatch", "run", "encode", "write")
_now = time.thread_time


class PhaseClock:
    """Running sums of the seconds spent per phase, written to ``path`` once a second."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.requests = 0
        # Seconds per timed interval, and how many intervals: data_received (whole),
        # on_message_complete (whole: dispatch + run + encode + write), run(), encode, write.
        self.fed = self.answered = self.ran = self.encoded = self.written = 0.0
        self.fed_n = self.answered_n = self.ran_n = self.encoded_n = self.written_n = 0
        self.call = calibrate()
        self.writing = False

    def totals(self) -> dict[str, float]:
        """CPU seconds per phase so far, the clock's own, and the number of requests.

        Each interval read includes one clock call's cost; an interval inside another adds two
        to the outer one. Taken out here, so the phases are the server's own work.
        """
        c = self.call
        inner = self.ran_n + self.encoded_n + self.written_n
        return {
            "requests": self.requests,
            "parse": self.fed - self.answered - c * (self.fed_n + self.answered_n),
            "dispatch": self.answered - self.ran - self.encoded - self.written
                        - c * (self.answered_n + inner),
            "run": self.ran - c * self.ran_n,
            "encode": self.encoded - c * self.encoded_n,
            "write": self.written - c * self.written_n,
            "clock": 2 * c * (self.fed_n + self.answered_n + inner),
        }

    def dump(self) -> None:
        partial = f"{self.path}.partial"
        with open(partial, "w", encoding="utf-8") as f:
            json.dump(self.totals(), f)
        os.replace(partial, self.path)

    def start_writing(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self.writing:
            self.writing = True
            self._tick(loop)

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        self.dump()
        loop.call_later(1.0, self._tick, loop)

    def timed(self, func: Callable[..., Any], total: str) -> Callable[..., Any]:
        """``func`` with its time added to the sum named ``total`` (and its count)."""
        count = f"{total}_n"

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = _now()
            try:
                return func(*args, **kwargs)
            finally:
                setattr(self, total, getattr(self, total) + _now() - started)
                setattr(self, count, getattr(self, count) + 1)
        return wrapper


def calibrate(samples: int = 2000) -> float:
    """The median cost of one clock read, in seconds."""
    gaps = []
    for _ in range(samples):
        started = _now()
        gaps.append(_now() - started)
    gaps.sort()
    return gaps[samples // 2]


def install(app: ScoringApp, path: str) -> type[ScoringProtocol]:
    """Time ``app``'s ``run()`` and the JSON encoder; the connection class that times the rest."""
    clock = PhaseClock(path)
    if not app.script.is_async:
        app.script.run = clock.timed(app.script.run, "ran")
    encode = clock.timed(answers.to_json, "encoded")
    app_module.to_json = encode
    answers.to_json = encode

    class TimedProtocol(ScoringProtocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            clock.start_writing(self.loop)

        def data_received(self, data: bytes) -> None:
            started = _now()
            super().data_received(data)
            clock.fed += _now() - started
            clock.fed_n += 1

        def on_message_complete(self) -> None:
            started = _now()
            super().on_message_complete()
            clock.answered += _now() - started
            clock.answered_n += 1
            clock.requests += 1

        def _send(self, *args: Any) -> None:
            started = _now()
            super()._send(*args)
            clock.written += _now() - started
            clock.written_n += 1

    return TimedProtocol
