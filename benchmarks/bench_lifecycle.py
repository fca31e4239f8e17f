"""How long the notebook loop takes: cold deploy, update after a score.py edit, reload.

Runs all three on the real engine in one run and prints the ratios the issue sets as goals:
``update()`` after a score.py-only edit within 15% of a cold deploy, and ``reload()`` answering
with the new code within 3 seconds. Not a test: numbers vary by machine, ratios much less.

    python benchmarks/bench_lifecycle.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import sklearn
from sklearn.linear_model import Ridge

import jupyter_deploy as jd
from jupyter_deploy.services.deployment import build_package, run_image
from jupyter_deploy.spec.package import PackageSpec

SAMPLE = {"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]]}
SCORE_PY = '''import json, os, pickle
import numpy as np

def init():
    global model
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"), "rb") as f:
        model = pickle.load(f)

def run(raw):
    return (model.predict(np.array(json.loads(raw)["data"])) * {scale}).tolist()
'''
LABELS = {"jupyter_deploy.bench": "lifecycle"}


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def one_round(folder: Path, round_no: int) -> tuple[float, float, float]:
    script = folder / "score.py"
    script.write_text(SCORE_PY.format(scale=1))
    env = jd.Environment(name="bench", pip=[f"scikit-learn=={sklearn.__version__}"])
    spec = PackageSpec("bench-lifecycle", script, env, (folder / "model.pkl",))
    # Cold: every layer rebuilt (the wheels are already on the host, as after any first build).
    holder: dict[str, jd.Deployment] = {}

    def cold() -> None:
        built = build_package(spec, labels=LABELS, nocache=True)
        holder["s"] = run_image("bench-lifecycle", built.tag, labels=LABELS, package=spec)

    cold_s = timed(cold)
    service = holder["s"]
    script.write_text(SCORE_PY.format(scale=2 + round_no))
    update_s = timed(service.update)
    assert service.score(SAMPLE).value[0] != 0
    script.write_text(SCORE_PY.format(scale=100 + round_no))
    before = service.score(SAMPLE).value[0]
    reload_s = timed(service.reload)
    assert service.score(SAMPLE).value[0] != before, "reload did not take effect"
    service.remove(image=True)
    return cold_s, update_s, reload_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        X = np.random.default_rng(0).random((100, 10))
        (folder / "model.pkl").write_bytes(pickle.dumps(Ridge().fit(X, X @ np.arange(10))))
        rounds = [one_round(folder, i) for i in range(args.rounds)]
    cold, update, reload = (statistics.median(r[i] for r in rounds) for i in range(3))
    print(f"cold deploy (no build cache)      {cold:6.2f} s")
    print(f"update() after a score.py edit    {update:6.2f} s  = {update / cold:5.1%} of cold"
          f"  (goal <= 15%: {'met' if update / cold <= 0.15 else 'NOT met'})")
    print(f"reload() until new code answers   {reload:6.2f} s  = {reload / cold:5.1%} of cold"
          f"  (goal <= 3 s: {'met' if reload <= 3 else 'NOT met'})")


if __name__ == "__main__":
    main()
