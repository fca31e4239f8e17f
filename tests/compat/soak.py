"""A bounded soak: a fixed number of requests at a fixed concurrency, counting failures and
sampling the server's resident memory, so "no request fails and memory stays flat" is a number.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests
from servers import RunningServer


@dataclass
class SoakResult:
    """How a soak went: totals, failures, and the server's RSS every ``sample_every`` requests."""

    total: int
    failures: int
    seconds: float
    rss_kb: list[int] = field(default_factory=list)

    @property
    def growth_kb(self) -> int:
        """RSS growth from the first sample after warm-up (the second) to the last."""
        samples = self.rss_kb[1:] or self.rss_kb
        return samples[-1] - samples[0] if samples else 0


def rss_kb(pid: int) -> int:
    """Resident memory of ``pid`` and its children (workers), in kB, from /proc."""
    total = 0
    for status in [Path(f"/proc/{pid}/status"), *_children(pid)]:
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def _children(pid: int) -> list[Path]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found += [Path(f"/proc/{c}/status") for c in children]
    return found


def soak(server: RunningServer, requests_total: int, concurrency: int, body: str,
         sample_every: int = 1000) -> SoakResult:
    """Send ``requests_total`` POSTs of ``body`` to ``/score`` from ``concurrency`` threads."""
    local = threading.local()
    lock = threading.Lock()
    state = {"done": 0, "failures": 0}
    samples: list[int] = []

    def one(_: int) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        try:
            ok = session.post(server.url + "/score", data=body, timeout=60,
                              headers={"Content-Type": "application/json"}).status_code == 200
        except requests.RequestException:
            ok = False
        with lock:
            state["done"] += 1
            state["failures"] += 0 if ok else 1
            if state["done"] % sample_every == 0:
                samples.append(rss_kb(server.process.pid))

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(requests_total)))
    return SoakResult(requests_total, state["failures"], time.perf_counter() - started, samples)
