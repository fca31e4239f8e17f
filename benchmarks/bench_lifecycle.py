"""How long the notebook loop takes: cold deploy (new path and pip's), update after an edit, reload.

Runs on the real engine, in one run, and prints the ratios the issues set as goals:

- a cold deploy (wheels on the host, no layer cache) with the image build's installer and
  builder under test (uv through a BuildKit bind mount, by default) ÷ the same with the old path
  (pip, the classic builder and its two-stage Dockerfile): goal <= 0.4; with the new cold deploy
  broken down by phase (host-side preparation, each build step, container start, readiness);
- ``update()`` after a score.py-only edit within 15% of a cold deploy, and ``reload()``
  answering with the new code within 3 seconds.

The two cold deploys run in each round, in alternating order and each after a ``sync``, so a
busy machine or the other's disk writes slow both alike; ``update()`` and ``reload()`` also run
after one (a user edits for a while after a deploy: the image's hundreds of megabytes have
reached the disk by then, and their write-back does not slow the next step). Not a test:
numbers vary by machine, ratios much less.

    python benchmarks/bench_lifecycle.py [--rounds 3] [--installer uv|pip] [--builder ...]
"""

from __future__ import annotations

import argparse
import os
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
from jupyter_deploy.build.installer import Installer
from jupyter_deploy.engine.buildkit import BuildKitImage
from jupyter_deploy.engine.client import docker_client
from jupyter_deploy.services.building import (
    ENVIRONMENT_REPOSITORY,
    Builder,
    default_builder,
    prune_environment,
)
from jupyter_deploy.services.deployment import build_package, run_image
from jupyter_deploy.spec.package import ModelFiles, PackageSpec

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
#: The old path every ratio is taken against: pip in the classic builder's two-stage build.
OLD: tuple[Installer, Builder] = ("pip", "classic")
Phases = dict[str, float]


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


class Clock:
    """A build log that remembers when each line came, to split a deploy into phases."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.lines: list[tuple[float, str]] = []

    def __call__(self, line: str) -> None:
        self.lines.append((time.perf_counter() - self.start, line))

    def at(self, prefix: str) -> float:
        """When the first line starting with ``prefix`` came."""
        return next(t for t, line in self.lines if line.startswith(prefix))


def cold_deploy(spec: PackageSpec, installer: Installer, builder: Builder
                ) -> tuple[jd.Deployment, Phases]:
    """Build with no layer cache and start the service; the seconds each phase took."""
    clock = Clock()
    built = build_package(spec, clock, LABELS, nocache=True, installer=installer,
                          builder=builder)
    built_at = time.perf_counter() - clock.start
    service = run_image(spec.name, built.tag, labels=LABELS, package=spec, wait=False)
    started = time.perf_counter() - clock.start
    service.wait_until_ready()
    healthy = time.perf_counter() - clock.start
    phases = _phases(clock, built, built_at)
    phases.update({"container create + start": started - built_at,
                   "server start + init() until healthy": healthy - started,
                   "total": healthy,
                   "image size (MB)": docker_client().images.get(built.tag).attrs["Size"] / 1e6})
    return service, phases


def _phases(clock: Clock, built: object, built_at: float) -> Phases:
    """The build's phases, from when its log lines came (BuildKit builds the environment's
    image first, then the service's on it; the classic builder is one block)."""
    first = clock.at("Building ")
    phases = {"prepare (base, wheels, context, hash)": first}
    if not isinstance(built, BuildKitImage):
        return {**phases, "build (classic builder)": built_at - first}
    service = clock.at("Building jupyter-deploy/")
    if service > first:  # the environment was built (a cold deploy)
        install, export = clock.at("Step 2/"), clock.at("exporting to image")
        phases.update({"environment: send + unpack the wheels": install - first,
                       "environment: install (venv, wheels, bytecode, strip)": export - install,
                       "environment: export its image": service - export})
    copies = sum(s.seconds for s in built.steps if any(m in s.name for m in ("COPY ", "WORKDIR ")))
    phases.update({"service: server, models, app layers": copies,
                   "service: the rest (context, requests, export)": built_at - service - copies})
    return phases


def one_round(folder: Path, round_no: int, path: tuple[Installer, Builder]
              ) -> tuple[Phases, Phases, float, float]:
    """Both cold deploys (their order alternating by round), then update and reload on the new."""
    script = folder / "score.py"
    script.write_text(SCORE_PY.format(scale=1))
    env = jd.Environment(name="bench", pip=(f"scikit-learn=={sklearn.__version__}",))
    spec = PackageSpec("bench-lifecycle", script, env, (ModelFiles.of(folder / "model.pkl"),))
    measured: dict[str, Phases] = {}
    for which in (("old", "new") if round_no % 2 == 0 else ("new", "old")):
        os.sync()  # the previous build's writes are not left to slow this one down
        service, measured[which] = cold_deploy(spec, *(OLD if which == "old" else path))
        if which == "new":
            update_s, reload_s = update_and_reload(service, script, round_no)
        service.remove(image=True)
    return measured["new"], measured["old"], update_s, reload_s


def update_and_reload(service: jd.Deployment, script: Path, round_no: int) -> tuple[float, float]:
    """Seconds for ``update()`` after a score.py edit, and for ``reload()`` after another."""
    script.write_text(SCORE_PY.format(scale=2 + round_no))
    os.sync()  # as a user's edit would, the cold deploy's writes reach the disk first
    update_s = timed(service.update)
    assert service.score(SAMPLE).value[0] != 0
    script.write_text(SCORE_PY.format(scale=100 + round_no))
    before = service.score(SAMPLE).value[0]
    os.sync()
    reload_s = timed(service.reload)
    assert service.score(SAMPLE).value[0] != before, "reload did not take effect"
    return update_s, reload_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--installer", choices=("uv", "pip"), default="uv",
                        help="the image build's installer under test (pip: the old one)")
    parser.add_argument("--builder", choices=("buildkit", "classic"), default=None,
                        help="the engine's builder under test (default: BuildKit if it has it)")
    args = parser.parse_args()
    for leftover in jd.DeploymentCollection().list():  # an interrupted run's service
        if leftover.name == "bench-lifecycle":
            leftover.remove(image=True)
    path: tuple[Installer, Builder] = (args.installer, args.builder or default_builder())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        X = np.random.default_rng(0).random((100, 10))
        (folder / "model.pkl").write_bytes(pickle.dumps(Ridge().fit(X, X @ np.arange(10))))
        client = docker_client()
        environments = {t for i in client.images.list(ENVIRONMENT_REPOSITORY) for t in i.tags}
        try:
            rounds = [one_round(folder, i, path) for i in range(args.rounds)]
        finally:  # the images update() replaced, and the environment images made here
            for image in client.images.list(filters={"label": "jupyter_deploy.bench=lifecycle"}):
                client.images.remove(image.id, force=True)
            for image in client.images.list(ENVIRONMENT_REPOSITORY):
                for tag in set(image.tags) - environments:
                    prune_environment(tag)
    new = {k: statistics.median(r[0][k] for r in rounds) for k in rounds[0][0]}
    old = {k: statistics.median(r[1][k] for r in rounds) for k in rounds[0][1]}
    update = statistics.median(r[2] for r in rounds)
    reload = statistics.median(r[3] for r in rounds)
    cold, ratio = new["total"], new["total"] / old["total"]
    print(f"median of {args.rounds} rounds; path under test: {path[0]} + {path[1]} builder, "
          f"old path: {OLD[0]} + {OLD[1]} builder")
    print("each round, cold deploy new / old: " + ", ".join(
        f"{r[0]['total']:.1f} / {r[1]['total']:.1f} s" for r in rounds)
        + "; update(): " + ", ".join(f"{r[2]:.2f} s" for r in rounds))
    print(f"cold deploy, old path                {old['total']:6.2f} s "
          f"(image {old['image size (MB)']:.0f} MB)")
    print(f"cold deploy, path under test         {cold:6.2f} s "
          f"(image {new['image size (MB)']:.0f} MB)")
    per_round = statistics.median(r[0]["total"] / r[1]["total"] for r in rounds)
    print(f"  ratio new / old                    {ratio:6.2f}    (goal <= 0.4: "
          f"{'met' if ratio <= 0.4 else 'NOT met'}; median of the rounds' own ratios "
          f"{per_round:.2f})")
    print("  phases of the cold deploy under test:")
    for name, seconds in new.items():
        if name not in ("total", "image size (MB)"):
            print(f"    {name:<48} {seconds:6.2f} s")
    print(f"update() after a score.py edit       {update:6.2f} s  = {update / cold:5.1%} of cold"
          f"  (goal <= 15%: {'met' if update / cold <= 0.15 else 'NOT met'}; "
          f"{update / old['total']:.1%} of the old cold deploy)")
    print(f"reload() until new code answers      {reload:6.2f} s  = {reload / cold:5.1%} of cold"
          f"  (goal <= 3 s: {'met' if reload <= 3 else 'NOT met'})")


if __name__ == "__main__":
    main()
