"""How fast the sidebar's registry views are: 1,200 repositories, and 200 tags with details.

Starts a throwaway Distribution registry on 127.0.0.1 (port 5100-5199), fills it through its own
HTTP API (blob mounts + manifests: every tag its own config blob, so nothing is shared between
tags' details), then times, best and median of several runs:

- listing all 1,200+ repositories (``RegistryClient.repositories``, default pages and pages of 100);
- 200 tags with manifest details (``Catalog.tags``, a fresh catalog each run so nothing is cached),
  with the bounded concurrency and with one fetch at a time for comparison.

Prints seconds and each measurement's ratio to its goal (< 1 means within the goal).
Run: ``python benchmarks/bench_registry.py [--repositories 1200] [--tags 200] [--runs 5]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))

from registry_helpers import fill_registry, running_registry

from jupyter_deploy.registry import catalog as catalog_module
from jupyter_deploy.registry.catalog import Catalog
from jupyter_deploy.registry.client import RegistryClient
from jupyter_deploy.spec.environment import RegistryCredentials

GOAL_REPOSITORIES = 2.0
GOAL_TAGS = 3.0


def timed(runs: int, action: Callable[[], object]) -> tuple[float, float]:
    """Best and median seconds of ``runs`` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)


def report(name: str, best: float, median: float, goal: float) -> None:
    print(f"{name:<46} best {best:6.3f} s  median {median:6.3f} s  "
          f"median/goal {median / goal:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repositories", type=int, default=1200)
    parser.add_argument("--tags", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    names = [f"bench/repo-{i:05d}" for i in range(args.repositories)]
    tags = [f"v{i}" for i in range(args.tags)]
    with tempfile.TemporaryDirectory(prefix="jd-bench-registry-") as tmp, \
            running_registry(Path(tmp)) as registry:
        address = registry.address
        started = time.perf_counter()
        fill_registry(RegistryClient(address), names, ["latest"])
        fill_registry(RegistryClient(address), ["bench/many-tags"], tags)
        print(f"filled {args.repositories} repositories + {args.tags} tags through the HTTP API "
              f"in {time.perf_counter() - started:.1f} s")

        def list_all(page_size: int) -> None:
            found = RegistryClient(address).repositories(page_size=page_size)
            assert len(found) == args.repositories + 1, len(found)

        def tag_rows() -> None:
            rows = Catalog([RegistryCredentials(address)]).tags(address, "bench/many-tags")
            assert len(rows) == args.tags

        report(f"{args.repositories + 1} repositories (default pages)",
               *timed(args.runs, lambda: list_all(1000)), GOAL_REPOSITORIES)
        report(f"{args.repositories + 1} repositories (pages of 100)",
               *timed(args.runs, lambda: list_all(100)), GOAL_REPOSITORIES)
        report(f"{args.tags} tags with details (8 concurrent)",
               *timed(args.runs, tag_rows), GOAL_TAGS)
        bound = catalog_module.MAX_CONCURRENT_FETCHES
        catalog_module.MAX_CONCURRENT_FETCHES = 1
        try:
            report(f"{args.tags} tags with details (one at a time)",
                   *timed(args.runs, tag_rows), GOAL_TAGS)
        finally:
            catalog_module.MAX_CONCURRENT_FETCHES = bound


if __name__ == "__main__":
    main()
