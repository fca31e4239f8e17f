"""A bounded soak: a fixed number of requests at a fixed concurrency, within a time limit,
counting failures and sampling the server's resident memory, so "no request fails and memory
stays flat" is a number.

Requests go out in batches of ``sample_every``; the server's RSS is read once a batch has been
answered in full, so a sample never counts requests still in flight. Memory is judged per
request, over the two equal halves of the soak that follow the warm-up: a leak grows both
halves alike, while the allocator's one-off steps (a new arena, a heap extension) land in one
half only. Loopback servers only.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests
from servers import RunningServer


@dataclass
class SoakResult:
    """How a soak went: totals, failures, and the server's RSS after every batch of requests.

    ``rss_kb[i]`` is the RSS once ``(i + 1) * sample_every`` requests have been answered; the
    first ``warmup`` requests fill caches and pools and are not judged.
    """

    total: int
    failures: int
    seconds: float
    rss_kb: list[int] = field(default_factory=list)
    sample_every: int = 1000
    warmup: int = 0

    @property
    def growth_kb(self) -> int:
        """RSS growth from the end of the warm-up to the last sample."""
        judged = self.rss_kb[self._warm_index():]
        return judged[-1] - judged[0] if judged else 0

    @property
    def halves_kb(self) -> tuple[int, int]:
        """RSS growth over each of the two equal halves of the requests after the warm-up."""
        first = self._warm_index()
        last = len(self.rss_kb) - 1
        if (last - first) < 2 or (last - first) % 2:
            raise ValueError(f"{len(self.rss_kb)} samples with a warm-up of {self.warmup} "
                             "requests do not split into two equal halves")
        middle = (first + last) // 2
        return (self.rss_kb[middle] - self.rss_kb[first],
                self.rss_kb[last] - self.rss_kb[middle])

    @property
    def half_requests(self) -> int:
        """How many requests each half holds."""
        return (self.total - self.warmup) // 2

    @property
    def steady_growth_bytes_per_request(self) -> float:
        """The smaller half's growth per request: what a steady leak costs each request."""
        return min(self.halves_kb) * 1024 / self.half_requests

    def _warm_index(self) -> int:
        """The index of the sample taken when the warm-up ended (0: the first sample)."""
        return max(self.warmup // self.sample_every - 1, 0)


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


def _require_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"a soak only targets a server on this machine, not {url}")


def soak(server: RunningServer, requests_total: int, concurrency: int, body: str,
         sample_every: int = 1000, warmup: int = 2000,
         time_limit: float = 300.0) -> SoakResult:
    """Send ``requests_total`` POSTs of ``body`` to ``/score`` from ``concurrency`` threads.

    Raises:
        ValueError: the server is not on a loopback address, or the counts do not divide.
        TimeoutError: the soak took longer than ``time_limit`` seconds (checked per batch).
    """
    _require_loopback(server.url)
    if requests_total % sample_every or warmup % sample_every:
        raise ValueError("requests_total and warmup must be multiples of sample_every")
    local = threading.local()
    lock = threading.Lock()
    failures = [0]

    def one(_: int) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        try:
            ok = session.post(server.url + "/score", data=body, timeout=30,
                              headers={"Content-Type": "application/json"}).status_code == 200
        except requests.RequestException:
            ok = False
        if not ok:
            with lock:
                failures[0] += 1

    samples: list[int] = []
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for _ in range(requests_total // sample_every):
            list(pool.map(one, range(sample_every)))
            samples.append(rss_kb(server.process.pid))
            elapsed = time.perf_counter() - started
            if elapsed > time_limit:
                raise TimeoutError(f"{len(samples) * sample_every} of {requests_total} requests "
                                   f"took {elapsed:.0f} s, over the {time_limit:.0f} s limit")
    return SoakResult(requests_total, failures[0], time.perf_counter() - started, samples,
                      sample_every, warmup)
