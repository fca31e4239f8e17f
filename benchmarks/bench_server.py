"""Scoring server benchmark: ours against Azure ML's inference server, in one run, as ratios.

    python benchmarks/bench_server.py [--seconds 5] [--rounds 3] [--two-workers]
                                      [--no-container] [--no-phases] [--soak]

On the same ``score.py`` (a 10-feature Ridge model, the seeds' two-row sample) and the same
bounded load (``wrk -t2 -c8`` for a fixed time on 127.0.0.1), it measures the peer on the host,
ours on the host, the in-process ``run()`` rate, and ours in a container through its published
port, then prints each ratio next to its goal (one worker each, both servers' default), plus
each server's own CPU time per request, which depends least on what else the machine does.
To show where a request's time goes, it also reports the mean time inside ``run()`` under load
(from our server's run-time header) and, for the container, ``run()``'s in-process rate inside
the image, whose Python is not the host's.
The servers are loaded in turn, round after round, and the medians reported, so background
load on a shared machine hits every server alike. Beside them runs ``bare_server.py``, the
least a Python server can do per request on the same event loop: the ceiling of ours/run().
Then ours runs once more with its phase clock (``JD_PHASE_CLOCK``, see the server's
``phases.py``) to show where a request's CPU time goes: parse, dispatch, ``run()``, encode,
write, and the rest (event loop, socket reads, kernel). ``--soak`` sends 10,000 requests at
concurrency 32 to ours and reports failures and the server's memory along the way. Only one
server is under load at a time; with ``--two-workers`` the two-worker servers are loaded in the
same rounds as the one-worker ones. Absolute numbers depend on the machine; the ratios are the
result. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "compat"))

sys.path.insert(0, str(ROOT / "tests"))

from ports import an_unused_port  # noqa: E402
from servers import serving  # noqa: E402
from soak import soak  # noqa: E402

SCRIPT = ROOT / "tests" / "compat" / "scripts" / "ridge.py"
BARE = Path(__file__).with_name("bare_server.py")
SAMPLE = {"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]]}
LABEL = {"jupyter_deploy.benchmark": "bench_server"}
WRK_SCRIPT = f"""
wrk.method = "POST"
wrk.body = '{json.dumps(SAMPLE)}'
wrk.headers["Content-Type"] = "application/json"
"""


#: Sums our server's run-time header over all wrk threads (a separate run: Lua costs wrk time).
RUN_TIME_SCRIPT = WRK_SCRIPT + """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) sum = 0; n = 0 end
function response(status, headers, body)
  local t = tonumber(headers["x-ms-run-fn-exec-ms"])
  if t then sum = sum + t; n = n + 1 end
end
function done(summary, latency, requests)
  local s, c = 0, 0
  for _, t in ipairs(threads) do s = s + t:get("sum"); c = c + t:get("n") end
  io.write(string.format("run-us %.1f\\n", s / c * 1000))
end
"""


def wrk(url: str, seconds: int, script: str = WRK_SCRIPT) -> dict[str, float]:
    """Requests per second and p50/p99 latency (ms) of ``wrk -t2 -c8`` against ``url``."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    out = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", "-s", lua.name,
                          url], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    run_us = re.search(r"run-us ([\d.]+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore
            "p50": _latency(out, "50%"), "p99": _latency(out, "99%"),
            "errors": float(errors.group(1)) if errors else 0.0,
            **({"run_us": float(run_us.group(1))} if run_us else {})}


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
    rate, cpu_us = _run_loop(module.run, json.dumps(SAMPLE), seconds)
    RUN_CPU_US.append(cpu_us)
    return rate


def _run_loop(run: Any, body: str, seconds: float) -> tuple[float, float]:
    """(calls per second, CPU µs per call) of ``run(body)`` in a tight loop."""
    calls, started, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        for _ in range(100):
            run(body)
        calls += 100
    return calls / (time.perf_counter() - started), (time.process_time() - cpu) * 1e6 / calls


def image_run_rate(deployment: Any, seconds: float) -> float:
    """The in-process ``run()`` rate inside the deployed image, with the image's own Python.

    The image's interpreter is not the host's (here Debian's, built with PGO and LTO, against a
    plain pyenv build), so the container's throughput is also set against this rate.
    """
    import inspect

    code = "\n".join([
        "import importlib.util, json, os, time", "from typing import Any",
        inspect.getsource(_run_loop),
        f"spec = importlib.util.spec_from_file_location('s', '/var/azureml-app/{SCRIPT.name}')",
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); m.init()",
        f"print(_run_loop(m.run, {json.dumps(SAMPLE)!r}, {seconds})[0])"])
    result = deployment.container.exec_run(["/opt/jupyter-deploy/venv/bin/python", "-c", code])
    if result.exit_code:
        raise RuntimeError(result.output.decode(errors="replace"))
    return float(result.output.decode().split()[-1])


#: CPU µs per in-process run() call, one entry per measurement.
RUN_CPU_US: list[float] = []


@dataclass
class Target:
    """One server under load: where to send it, and which process to charge CPU time to."""

    name: str
    url: str
    pid: int | None = None
    runs: list[dict[str, float]] = field(default_factory=list)
    #: Mean µs inside run() per request, from the server's own header (ours only).
    run_us: float | None = None
    #: The container's deployment (containers only), and run()'s in-process rate in its image.
    deployment: Any = None
    image_run_rate: float | None = None

    def measure(self, seconds: int) -> None:
        cpu = cpu_seconds(self.pid) if self.pid else 0.0
        result = wrk(self.url, seconds)
        if self.pid:
            result["cpu_us"] = (cpu_seconds(self.pid) - cpu) * 1e6 / max(
                result["rps"] * seconds, 1)
        self.runs.append(result)

    def median(self) -> dict[str, float]:
        found = {key: statistics.median(run[key] for run in self.runs) for key in self.runs[0]}
        if self.run_us:
            found["run_us"] = self.run_us
        if self.image_run_rate:
            found["image_run_rate"] = self.image_run_rate
        return found


def cpu_seconds(pid: int) -> float:
    """User+system CPU seconds of ``pid`` and its child processes (gunicorn/uvicorn workers)."""
    ticks = 0
    for proc in [pid, *_children(pid)]:
        with open(f"/proc/{proc}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found + [g for c in found for g in _children(c)]


def interleaved(targets: list[Target], rounds: int, seconds: int,
                run_rates: list[float] | None = None) -> None:
    """Load each target in turn, ``rounds`` times, so background load hits all alike."""
    for target in targets:
        wrk(target.url, 1)  # warm-up
    for _ in range(rounds):
        for target in targets:
            target.measure(seconds)
        if run_rates is not None:
            run_rates.append(in_process_rate(min(seconds, 3)))


@contextlib.contextmanager
def container_target(workers: int = 1) -> Iterator[Target]:
    """Ours in a container (scikit-learn at the host's version) through its published port."""
    import sklearn

    import jupyter_deploy as jd

    env = jd.Environment(name="bench", pip=(f"scikit-learn=={sklearn.__version__}",),
                         env_vars={"WORKER_COUNT": str(workers)})
    service = jd.deploy(f"jd-bench-server-{workers}", SCRIPT, environment=env, labels=LABEL)
    try:
        yield Target(f"container x{workers}", service.scoring_uri, deployment=service)
    finally:
        service.remove(image=True)


@contextlib.contextmanager
def bare_target() -> Iterator[Target]:
    """``bare_server.py`` on the same script: the ceiling (ready when it answers a POST)."""
    import requests

    port = an_unused_port()
    process = subprocess.Popen([sys.executable, str(BARE), str(SCRIPT), str(port)],
                               stdout=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/score"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"bare_server.py exited with {process.returncode}")
            with contextlib.suppress(requests.RequestException):
                if requests.post(url, data=json.dumps(SAMPLE), timeout=1).ok:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("bare_server.py did not answer in 60 s")
            time.sleep(0.1)
        yield Target("bare x1", url, process.pid)
    finally:
        process.terminate()
        process.wait(10)


PHASES = ("parse", "dispatch", "run", "encode", "write")


def phase_breakdown(seconds: int, rounds: int) -> dict[str, float]:
    """CPU µs per request in each phase of ours x1 under the same load (median of ``rounds``),
    from its phase clock, and the rest of its CPU time (event loop, socket reads, kernel)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "phases.json"
        with serving("ours", SCRIPT, env={"JD_PHASE_CLOCK": str(path)}) as server:
            url, pid = server.url + "/score", server.process.pid
            wrk(url, 1)  # warm-up
            runs = []
            for _ in range(rounds):
                time.sleep(1.2)  # the clock writes its sums once a second
                before, cpu = json.loads(path.read_text()), cpu_seconds(pid)
                wrk(url, seconds)
                cpu = cpu_seconds(pid) - cpu
                time.sleep(1.2)
                after = json.loads(path.read_text())
                count = max(after["requests"] - before["requests"], 1)
                found = {k: (after[k] - before[k]) * 1e6 / count for k in after if k != "requests"}
                found["rest"] = cpu * 1e6 / count - sum(found.values())
                found["cpu"] = cpu * 1e6 / count
                runs.append(found)
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def report_phases(phases: dict[str, float]) -> None:
    print("\nWhere a request's CPU time goes in ours x1 (phase clock, µs per request):")
    names = [*PHASES, "rest"]
    print("  " + "".join(f"{name:>10}" for name in names) + f"{'total':>10}")
    print("  " + "".join(f"{phases[name]:>10.1f}" for name in names) +
          f"{phases['cpu'] - phases['clock']:>10.1f}")
    print(f"  outside run(): {phases['cpu'] - phases['clock'] - phases['run']:.1f} µs (rest: "
          "event loop, socket reads and the kernel's part of the write; the clock's own "
          f"{phases['clock']:.1f} µs taken out)")


def report(results: dict[str, dict[str, float]], run_rate: float) -> None:
    print(f"\n{'server':<14}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
          f"{'CPU µs/req':>12}")
    for name, r in results.items():
        cpu = f"{r['cpu_us']:>12.0f}" if "cpu_us" in r else ""
        print(f"{name:<14}{r['rps']:>9.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}{r['errors']:>8.0f}"
              f"{cpu}")
    print(f"{'run() only':<14}{run_rate:>9.0f}{'':>34}{1e6 / run_rate:>12.0f}")
    ours, peer = results["ours x1"], results["peer x1"]
    checks = [("throughput ours/peer", ours["rps"] / peer["rps"], ">=", 3.0),
              ("p99 ours/peer", ours["p99"] / peer["p99"], "<=", 0.5),
              ("throughput ours/run()", ours["rps"] / run_rate, ">=", 0.7)]
    if "container x1" in results:
        checks.append(("container/host", results["container x1"]["rps"] / ours["rps"], ">=",
                       0.9))
    if "ours x2" in results:
        checks.append(("2 workers/1 worker", results["ours x2"]["rps"] / ours["rps"], ">=",
                       1.7))
    print("\nGoals (one worker each, the default of both servers):")
    for name, ratio, op, goal in checks:
        met = ratio >= goal if op == ">=" else ratio <= goal
        print(f"  {name:<24}{ratio:>7.2f}   goal {op} {goal:<5} {'met' if met else 'NOT MET'}")
    print("Also:")
    if "bare x1" in results:
        # The ceiling: the least a Python server on this event loop can do per request.
        print(f"  {'bare server/run()':<24}{results['bare x1']['rps'] / run_rate:>7.2f}   "
              f"(ours/bare {ours['rps'] / results['bare x1']['rps']:.2f}; what no server "
              "closes: socket, kernel, event loop, the client on the same cores)")
    print(f"  {'server CPU/req peer/ours':<24}{peer['cpu_us'] / ours['cpu_us']:>7.2f}")
    if RUN_CPU_US:
        # The share of the server's CPU spent in run(): the throughput ratio to the in-process
        # rate that the server reaches whenever it has a core to itself (wrk shares them here).
        share = statistics.median(RUN_CPU_US) / ours["cpu_us"]
        print(f"  {'run() CPU/server CPU':<24}{share:>7.2f}   (ours/run() on a free core)")
    if "run_us" in ours:
        # Where a request's time goes: run() under load (the script's own header) against the
        # same run() in a tight loop, and what is left for HTTP, JSON and the event loop.
        print(f"  {'run() in ours under load':<24}{ours['run_us']:>7.0f} µs   (tight loop: "
              f"{1e6 / run_rate:.0f} µs; outside run(): {1e6 / ours['rps'] - ours['run_us']:.0f}"
              " µs per request)")
    if "image_run_rate" in results.get("container x1", {}):
        box = results["container x1"]
        print(f"  {'container: ours/run()':<24}{box['rps'] / box['image_run_rate']:>7.2f}   "
              f"(run() in the image's own Python: {box['image_run_rate']:.0f}/s)")
    if "ours x2" in results:
        two, peer_two = results["ours x2"], results["peer x2"]
        print(f"  {'2 workers: ours/peer':<24}{two['rps'] / peer_two['rps']:>7.2f}")
        print(f"  {'2 workers: p99 ours/peer':<24}{two['p99'] / peer_two['p99']:>7.2f}")
        print(f"  {'2 workers: ours/run()':<24}{two['rps'] / run_rate:>7.2f}")
    if "container x2" in results:
        ratio = results["container x2"]["rps"] / results["ours x2"]["rps"]
        print(f"  {'2 workers: container/host':<24}{ratio:>7.2f}")


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
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs per server")
    parser.add_argument("--no-container", action="store_true")
    parser.add_argument("--two-workers", action="store_true",
                        help="also measure both servers with two workers")
    parser.add_argument("--no-phases", action="store_true",
                        help="skip the per-phase breakdown of ours (its phase clock)")
    parser.add_argument("--soak", action="store_true", help="also run the 10,000-request soak")
    args = parser.parse_args()
    targets: list[Target] = []
    run_rates: list[float] = []
    # Every server is up for the whole run and loaded in turn in the same rounds (one at a
    # time), so two workers are set against one under the same background load.
    counts = (1, 2) if args.two_workers else (1,)
    with contextlib.ExitStack() as stack:
        for workers in counts:
            for kind in ("peer", "ours"):
                server = stack.enter_context(serving(kind, SCRIPT, workers=workers))
                targets.append(Target(f"{kind} x{workers}", server.url + "/score",
                                      server.process.pid))
            if workers == 1:
                targets.append(stack.enter_context(bare_target()))
            if not args.no_container:
                targets.append(stack.enter_context(container_target(workers=workers)))
        interleaved(targets, args.rounds, args.seconds, run_rates)
        ours = next(t for t in targets if t.name == "ours x1")
        ours.run_us = wrk(ours.url, min(args.seconds, 3), RUN_TIME_SCRIPT)["run_us"]
        for target in targets:
            if target.deployment is not None and target.name == "container x1":
                target.image_run_rate = image_run_rate(target.deployment, min(args.seconds, 3))
    phases = None if args.no_phases else phase_breakdown(min(args.seconds, 3), args.rounds)
    report({t.name: t.median() for t in targets}, statistics.median(run_rates))
    if phases:
        report_phases(phases)
    if args.soak:
        run_soak()


if __name__ == "__main__":
    main()
