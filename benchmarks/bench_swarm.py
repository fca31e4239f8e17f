"""Swarm target benchmark: the load balancer's cost and what a second replica buys, as ratios.

    python benchmarks/bench_swarm.py [--seconds 5] [--rounds 3]

One image (a ``score.py`` with no dependencies, so the server's own cost is the largest share a
request can have — the load balancer's share is at its worst) runs three ways at once:

* ``direct``    — a local container, scored through its published port (no load balancer);
* ``swarm x1``  — a swarm service with one replica, through its HAProxy on 127.0.0.1;
* ``swarm x2``  — the same with two replicas.

Each is loaded in turn with ``wrk -t2 -c8`` for a fixed time, round after round, and the medians
are compared: ``swarm x1 / direct`` (goal >= 0.85) is the load balancer's cost, ``swarm x2 / swarm
x1`` is scaling on this machine (2 cores shared by wrk, HAProxy and the replicas: note it, it is
not a goal). Swarm mode is turned on for the run when it is off, and off again afterwards.
Everything made carries the benchmark's label and is removed at the end. Nothing asserts on time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_server import wrk  # noqa: E402

import jupyter_deploy as jd  # noqa: E402
from jupyter_deploy.engine import swarm  # noqa: E402
from jupyter_deploy.engine.client import docker_client  # noqa: E402
from jupyter_deploy.spec.cluster import ClusterConfig  # noqa: E402
from jupyter_deploy.targets.swarm import SwarmTarget  # noqa: E402

LABEL = {"jupyter_deploy.benchmark": "bench_swarm"}
SCORE_PY = """
import json

def init():
    pass

def run(raw):
    rows = json.loads(raw)["data"]
    return [sum(r) for r in rows]
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    was_active = swarm.swarm_info().active
    if not was_active:
        swarm.init_swarm(print)
    services = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "score.py"
            script.write_text(SCORE_PY)
            # Each replica takes as many requests at once as the direct container does.
            config = ClusterConfig(replicas=1, auth_enabled=False,
                                   max_concurrent_requests_per_container=64)
            direct = jd.deploy("bench-direct", script, labels=LABEL)
            one = jd.deploy("bench-swarm1", script, labels=LABEL, target=SwarmTarget(),
                            deployment_config=config)
            two = jd.deploy("bench-swarm2", script, labels=LABEL, target=SwarmTarget(),
                            deployment_config=ClusterConfig(
                                replicas=2, auth_enabled=False,
                                max_concurrent_requests_per_container=64))
            services = [direct, one, two]
            targets = {"direct": direct.scoring_uri, "swarm x1": one.scoring_uri,
                       "swarm x2": two.scoring_uri}
            results = rounds(targets, args.rounds, args.seconds)
        report(results)
    finally:
        for service in services:
            service.remove()
        if not was_active:
            docker_client().swarm.leave(force=True)


def rounds(targets: dict[str, str], count: int, seconds: int) -> dict[str, dict[str, float]]:
    """Median rps and p99 of each target over ``count`` interleaved rounds."""
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
    for url in targets.values():
        wrk(url, 1)  # warm-up
    for _ in range(count):
        for name, url in targets.items():
            samples[name].append(wrk(url, seconds))
    return {name: {key: statistics.median(s[key] for s in runs)
                   for key in ("rps", "p99", "errors")} for name, runs in samples.items()}


def report(results: dict[str, dict[str, float]]) -> None:
    """Print each target, then the two ratios."""
    for name, r in results.items():
        print(f"{name:<10} {r['rps']:8.0f} req/s   p99 {r['p99']:6.2f} ms   "
              f"errors {r['errors']:.0f}")
    lb = results["swarm x1"]["rps"] / results["direct"]["rps"]
    scale = results["swarm x2"]["rps"] / results["swarm x1"]["rps"]
    print(f"load balancer: swarm x1 / direct   {lb:5.2f}   goal >= 0.85   "
          f"{'met' if lb >= 0.85 else 'NOT MET'}")
    print(f"scaling:       swarm x2 / swarm x1 {scale:5.2f}   (2 cores shared by wrk, HAProxy "
          "and the replicas)")


if __name__ == "__main__":
    main()
