"""Cold and warm build of a model package: does editing only score.py reuse the dependencies?

Writes the build context of a scikit-learn package, builds it with no cache (cold), edits only
``score.py`` and builds again (warm), then reports both times, their ratio and how many steps the
engine took from its cache. Also times two whole ``package_image`` calls (build + push) after
further edits: the first pushes every layer, the second only the changed ones. Not a test:
times vary by machine, ratios much less.

    python benchmarks/bench_package_cache.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from joblib import dump
from sklearn.linear_model import Ridge

from jupyter_deploy.build.context import write_build_context
from jupyter_deploy.engine import images
from jupyter_deploy.engine.client import docker_client
from jupyter_deploy.services.packages import package_image
from jupyter_deploy.services.workspace import Workspace
from jupyter_deploy.spec.environment import Environment
from jupyter_deploy.spec.package import ModelFiles, PackageSpec

LABELS = {"jupyter_deploy.bench": "package-cache"}
SCORE_PY = '''import json, os
import joblib
import numpy as np

def init():
    global model
    model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"))

def run(raw):
    return model.predict(np.array(json.loads(raw)["data"])).tolist()
'''


def build(spec: PackageSpec, folder: Path, nocache: bool) -> images.BuiltImage:
    context = write_build_context(spec, folder)
    tag = f"jupyter-deploy/bench-package:{context.digest}"
    return images.build(str(context.path), tag, labels=LABELS, nocache=nocache)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        features = np.arange(100, dtype=float).reshape(10, 10)
        dump(Ridge().fit(features, features.sum(axis=1)), root / "model.pkl")
        (root / "score.py").write_text(SCORE_PY)
        env = Environment(name="bench", pip=("scikit-learn==1.9.1", "joblib==1.6.0"))
        spec = PackageSpec("bench", root / "score.py", env, (ModelFiles(root / "model.pkl", "m"),))
        cold = build(spec, root / "ctx", nocache=True)
        (root / "score.py").write_text(SCORE_PY + "# edited\n")
        warm = build(spec, root / "ctx", nocache=False)
        registry = Workspace(root / "ws").registry
        timings = []
        for edit in ("# edited twice\n", "# edited three times\n"):
            (root / "score.py").write_text(SCORE_PY + edit)
            started = time.monotonic()
            package = package_image(spec, registry, labels=LABELS)
            timings.append(time.monotonic() - started)
        print(f"cold build (no cache):          {cold.seconds:6.1f} s")
        print(f"warm build after score.py edit: {warm.seconds:6.1f} s "
              f"({warm.cached_steps} steps 'Using cache')")
        print(f"warm/cold ratio:                {warm.seconds / cold.seconds:6.3f}")
        print(f"package_image (build + push), first push of the layers: {timings[0]:6.1f} s")
        print(f"package_image after one more score.py edit:            {timings[1]:6.1f} s "
              f"-> {package.location}")
    client = docker_client()
    for image in client.images.list(filters={"label": "jupyter_deploy.bench=package-cache"}):
        client.images.remove(image.id, force=True)


if __name__ == "__main__":
    main()
