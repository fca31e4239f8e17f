"""The protocol routes against MLflow's own scoring server, in one run, as ratios.

    python benchmarks/bench_protocols.py [--seconds 5] [--rounds 3]

One scikit-learn model (the seeds' 10-feature Ridge, fitted here) and the seeds' two rows:
MLflow serves it from a folder saved by ``mlflow.sklearn.save_model`` with
``mlflow models serve --env-manager local`` (one worker), ours serves the same fitted model
through a plain ``score.py`` (``jupyter-deploy serve``, one worker). ``wrk -t2 -c8`` posts the
same ``{"inputs": rows}`` body to both ``/invocations`` (MLflow's fastest path: a tensor
signature, no DataFrame), and to ours also ``/score`` (``{"data": rows}``) and the Open Inference
Protocol's ``infer``: the same integer rows as one INT64 tensor (the goal's comparison), and as
FP64 (reported beside it: float text costs more to parse and print at every step). Every
route's answer is checked equal before any load. The routes are loaded in turn, round after
round, and the medians reported, with each server's CPU time per request (what depends least
on the machine's other load). Full MLflow lives
in ``build/mlflow-venv`` (made on first use from the package index, a few minutes; its pins
must not meet ours). Absolute numbers depend on the machine; the ratios are the result.
Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import importlib.metadata
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Iterator
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "compat"))
sys.path.insert(0, str(ROOT / "tests"))

from bench_server import cpu_seconds, wrk  # noqa: E402
from ports import an_unused_port  # noqa: E402
from servers import serving  # noqa: E402

SCRIPT = ROOT / "tests" / "compat" / "scripts" / "ridge.py"
ROWS = [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]]
MLFLOW_VENV = ROOT / "build" / "mlflow-venv"
COMPLETE = MLFLOW_VENV / ".complete"
BODIES = {
    "/invocations": {"inputs": ROWS},
    "/score": {"data": ROWS},
    "infer": {"inputs": [{"name": "rows", "shape": [2, 10], "datatype": "INT64",
                          "data": [x for row in ROWS for x in row]}]},
    "infer FP64": {"inputs": [{"name": "rows", "shape": [2, 10], "datatype": "FP64",
                               "data": [float(x) for row in ROWS for x in row]}]},
}
SAVE_MODEL = """
import sys, joblib, numpy as np, mlflow.sklearn
from mlflow.models import infer_signature
model = joblib.load(sys.argv[1])
rows = np.array({rows}, dtype=float)
mlflow.sklearn.save_model(model, sys.argv[2], signature=infer_signature(rows, model.predict(rows)))
"""


def mlflow_venv() -> Path:
    """``build/mlflow-venv`` with full MLflow and the host's scikit-learn, made once (locked)."""
    command = MLFLOW_VENV / "bin" / "mlflow"
    if COMPLETE.exists():
        return command
    MLFLOW_VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(MLFLOW_VENV.with_name("mlflow-venv.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if COMPLETE.exists():
            return command
        print(f"making {MLFLOW_VENV} (full MLflow, once) …", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(MLFLOW_VENV)
        subprocess.run([str(MLFLOW_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", _pin("mlflow", "mlflow-skinny"),
                        _pin("scikit-learn"), _pin("joblib"), "pandas"], check=True)
        COMPLETE.touch()
    return command


def _pin(name: str, host_name: str | None = None) -> str:
    """``name`` at the host's version of ``host_name`` (so the model and clients match)."""
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        return f"{name}=={importlib.metadata.version(host_name or name)}"
    return name


def save_models(folder: Path) -> tuple[Path, Path]:
    """The fitted Ridge as ``model.pkl`` (ours) and as an MLflow model folder (MLflow's)."""
    import joblib
    import numpy as np
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 10))
    ours = folder / "ours"
    ours.mkdir()
    joblib.dump(Ridge(alpha=1.0).fit(x, x @ np.arange(1, 11) + 3), ours / "model.pkl")
    theirs = folder / "mlflow-model"
    subprocess.run([str(MLFLOW_VENV / "bin" / "python"), "-c", SAVE_MODEL.format(rows=ROWS),
                    str(ours / "model.pkl"), str(theirs)], check=True, capture_output=True)
    return ours, theirs


@contextlib.contextmanager
def mlflow_serving(model: Path) -> Iterator[tuple[str, int]]:
    """``mlflow models serve --env-manager local`` with one worker, in its own process group."""
    port = an_unused_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.NamedTemporaryFile("w+", prefix="mlflow-serve-", suffix=".log") as log:
        process = subprocess.Popen(
            [str(mlflow_venv()), "models", "serve", "-m", str(model), "--env-manager", "local",
             "-h", "127.0.0.1", "-p", str(port), "-w", "1"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PATH": f"{MLFLOW_VENV / 'bin'}:{os.environ['PATH']}"})
        try:
            deadline = time.monotonic() + 120
            while True:
                with contextlib.suppress(requests.RequestException):
                    if requests.get(url + "/ping", timeout=1).status_code == 200:
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("MLflow's server did not start:\n"
                                       f"{Path(log.name).read_text()}")
                time.sleep(0.2)
            yield url, process.pid
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            process.wait(20)


def lua(body: object) -> str:
    return (f"wrk.method = 'POST'\nwrk.body = '{json.dumps(body)}'\n"
            "wrk.headers['Content-Type'] = 'application/json'\n")


def check_answers(urls: dict[str, str]) -> list[float]:
    """Every route's answer to the rows, which must agree (within 1e-9); the /score answer."""
    from jupyter_deploy.server.oip import decode_answer

    found = {}
    for name, url in urls.items():
        answer = requests.post(url, json=BODIES[_route(name)], timeout=30)
        answer.raise_for_status()
        value = answer.json()
        found[name] = value["predictions"] if "predictions" in value else \
            decode_answer(answer.content) if " v2 " in name else value
    reference = found["ours /score"]
    for name, value in found.items():
        if any(abs(a - b) > 1e-9 * max(1.0, abs(b)) for a, b in zip(value, reference,
                                                                      strict=True)):
            raise RuntimeError(f"{name} answers {value}, /score {reference}")
    return reference


def _route(name: str) -> str:
    return name.split(" v2 ")[-1] if " v2 " in name else name.split()[-1]


def measure(urls: dict[str, str], pids: dict[str, int], rounds: int, seconds: int
            ) -> dict[str, dict[str, float]]:
    """Median wrk results per route, with the serving process's CPU µs per request."""
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in urls}
    scripts = {name: lua(BODIES[_route(name)]) for name in urls}
    for name, url in urls.items():
        wrk(url, 1, scripts[name])  # warm-up
    for _ in range(rounds):
        for name, url in urls.items():
            pid = pids[name.split()[0]]
            cpu = cpu_seconds(pid)
            result = wrk(url, seconds, scripts[name])
            result["cpu_us"] = (cpu_seconds(pid) - cpu) * 1e6 / max(result["rps"] * seconds, 1)
            runs[name].append(result)
            time.sleep(1)  # let a server finish what it queued before the next one is loaded
    return {name: {key: statistics.median(r[key] for r in found) for key in found[0]}
            for name, found in runs.items()}


def report(results: dict[str, dict[str, float]]) -> None:
    print(f"\n{'route':<22}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
          f"{'CPU µs/req':>12}")
    for name, r in results.items():
        print(f"{name:<22}{r['rps']:>9.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}{r['errors']:>8.0f}"
              f"{r['cpu_us']:>12.0f}")
    ours, theirs = results["ours /invocations"], results["mlflow /invocations"]
    score, infer = results["ours /score"], results["ours v2 infer"]
    checks = [("/invocations: ours/MLflow req/s", ours["rps"] / theirs["rps"], ">=", 5.0),
              ("/invocations: ours/MLflow p99", ours["p99"] / theirs["p99"], "<=", 0.2),
              ("v2 infer/ours /score req/s", infer["rps"] / score["rps"], ">=", 0.9)]
    print("\nGoals (one worker each):")
    for name, ratio, op, goal in checks:
        met = ratio >= goal if op == ">=" else ratio <= goal
        print(f"  {name:<34}{ratio:>7.2f}   goal {op} {goal:<4} {'met' if met else 'NOT MET'}")
    print("Also (server CPU per request: what depends least on the machine's other load):")
    print(f"  {'ours /invocations / ours /score':<34}{ours['rps'] / score['rps']:>7.2f}")
    print(f"  {'CPU/req MLflow / ours /invocations':<34}"
          f"{theirs['cpu_us'] / ours['cpu_us']:>7.2f}")
    print(f"  {'CPU/req ours /score / v2 infer':<34}{score['cpu_us'] / infer['cpu_us']:>7.2f}"
          "   (the throughput ratio on a free core)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs per route")
    args = parser.parse_args()
    mlflow_venv()
    with tempfile.TemporaryDirectory(prefix="jd-bench-protocols-") as tmp:
        ours_dir, mlflow_model = save_models(Path(tmp))
        with serving("ours", SCRIPT, model_dir=ours_dir) as ours, \
                mlflow_serving(mlflow_model) as (theirs, mlflow_pid):
            urls = {"mlflow /invocations": theirs + "/invocations",
                    "ours /invocations": ours.url + "/invocations",
                    "ours /score": ours.url + "/score",
                    "ours v2 infer": f"{ours.url}/v2/models/{SCRIPT.stem}/infer",
                    "ours v2 infer FP64": f"{ours.url}/v2/models/{SCRIPT.stem}/infer"}
            check_answers(urls)
            pids = {"mlflow": mlflow_pid, "ours": ours.process.pid}
            report(measure(urls, pids, args.rounds, args.seconds))


if __name__ == "__main__":
    main()
