"""Scoring server benchmark: ours against Azure ML's inference server, in one run, as ratios.

    python benchmarks/bench_server.py [--seconds 10] [--no-container] [--soak]

On the same ``score.py`` (a 10-feature Ridge model, the seeds' two-row sample) and the same
bounded load (``wrk -t2 -c8`` for a fixed time on 127.0.0.1), it measures the peer on the host,
ours on the host, the in-process ``run()`` rate, and ours in a container through its published
port, then prints each ratio next to its goal. ``--soak`` sends 10,000 requests at concurrency
32 to ours and reports failures and the server's memory along the way. Servers run one at a
time, so they never compete for the CPU. Absolute numbers depend on the machine; the ratios are
the result. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "compat"))

from servers import serving  # noqa: E402
from soak import soak  # noqa: E402

SCRIPT = ROOT / "tests" / "compat" / "scripts" / "ridge.py"
SAMPLE = {"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]]}
LABEL = {"jupyter_deploy.benchmark": "bench_server"}
WRK_SCRIPT = f"""
wrk.method = "POST"
wrk.body = '{json.dumps(SAMPLE)}'
wrk.headers["Content-Type"] = "application/json"
"""


def wrk(url: str, seconds: int) -> dict[str, float]:
    """Requests per second and p50/p99 latency (ms) of ``wrk -t2 -c8`` against ``url``."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(WRK_SCRIPT)
    out = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", "-s", lua.name,
                          url], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore
            "p50": _latency(out, "50%"), "p99": _latency(out, "99%"),
            "errors": float(errors.group(1)) if errors else 0.0}


def _latency(out: str, label: str) -> float:
    value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def in_process_rate(seconds: float) -> float:
    """Calls per second of the script's ``run()`` on the sample, in this process."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_score", SCRIPT)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    module.init()
    body = json.dumps(SAMPLE)
    calls, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(100):
            module.run(body)
        calls += 100
    return calls / (time.perf_counter() - started)


def measure_host(kind: str, seconds: int) -> dict[str, float]:
    with serving(kind, SCRIPT) as server:
        wrk(server.url + "/score", 2)  # warm-up
        return wrk(server.url + "/score", seconds)


def measure_container(seconds: int) -> dict[str, float]:
    """Ours in a container (scikit-learn at the host's version) through its published port."""
    import sklearn

    import jupyter_deploy as jd

    env = jd.Environment(name="bench", pip=[f"scikit-learn=={sklearn.__version__}"])
    service = jd.deploy("jd-bench-server", SCRIPT, environment=env, labels=LABEL)
    try:
        wrk(service.scoring_uri, 2)
        return wrk(service.scoring_uri, seconds)
    finally:
        service.remove(image=True)


def report(results: dict[str, dict[str, float]], run_rate: float) -> None:
    print(f"\n{'server':<12}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for name, r in results.items():
        print(f"{name:<12}{r['rps']:>10.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}{r['errors']:>8.0f}")
    print(f"{'run() only':<12}{run_rate:>10.0f}")
    ours, peer = results["ours"], results["peer"]
    checks = [("throughput ours/peer", ours["rps"] / peer["rps"], ">=", 3.0),
              ("p99 ours/peer", ours["p99"] / peer["p99"], "<=", 0.5),
              ("throughput ours/run()", ours["rps"] / run_rate, ">=", 0.6)]
    if "container" in results:
        checks.append(("container/host", results["container"]["rps"] / ours["rps"], ">=", 0.8))
    print()
    for name, ratio, op, goal in checks:
        met = ratio >= goal if op == ">=" else ratio <= goal
        print(f"{name:<24}{ratio:>7.2f}   goal {op} {goal:<5} {'met' if met else 'NOT MET'}")


def run_soak() -> None:
    with serving("ours", SCRIPT) as server:
        result = soak(server, requests_total=10_000, concurrency=32, body=json.dumps(SAMPLE))
    print(f"\nsoak: {result.total} requests at concurrency 32, {result.failures} failed, "
          f"{result.seconds:.1f} s")
    print("server RSS (MB) every 1,000 requests: " +
          " ".join(f"{kb / 1024:.1f}" for kb in result.rss_kb))
    print(f"RSS growth after warm-up: {result.growth_kb / 1024:.2f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--no-container", action="store_true")
    parser.add_argument("--soak", action="store_true", help="also run the 10,000-request soak")
    args = parser.parse_args()
    results = {"peer": measure_host("peer", args.seconds),
               "ours": measure_host("ours", args.seconds)}
    run_rate = in_process_rate(args.seconds / 2)
    if not args.no_container:
        results["container"] = measure_container(args.seconds)
    report(results, run_rate)
    if args.soak:
        run_soak()


if __name__ == "__main__":
    main()
