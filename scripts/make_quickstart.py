"""Write notebooks/quickstart.ipynb from the cells below (keeps the notebook reviewable as code).

Run ``python3 scripts/make_quickstart.py`` after editing a cell; the notebook is committed.
The service is called ``quickstart`` unless ``QUICKSTART_SERVICE`` names another one in the
kernel's environment (``make demo SERVICE=…`` and the notebook tests set it).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

CELLS: list[tuple[str, str]] = [
    ("markdown", """# Quickstart: a model from this notebook to a scored container

This notebook trains a tiny scikit-learn model, writes its entry script (`score.py` with
`init()` and `run()`), deploys it as a local web service in Docker and scores two rows — the
same sample the Azure ML packaging guide uses. Everything runs on this machine: no cloud
account, and the image build needs no network (wheels are downloaded on the host first).

Set-up (once per machine): `make setup`, or `jupyter-deploy setup`.

The service is called `quickstart`, or what the `QUICKSTART_SERVICE` environment variable says.
A container of that name which jupyter_deploy did not make is never replaced: the deploy stops
with a message saying so."""),
    ("code", """import pickle
from pathlib import Path

import numpy as np
import sklearn
from sklearn.linear_model import Ridge

# Given ten features and a known linear target
rng = np.random.default_rng(0)
X = rng.random((200, 10))
y = X @ np.arange(1, 11) + rng.normal(0, 0.01, 200)

model = Ridge(alpha=0.1).fit(X, y)
Path("quickstart-model").mkdir(exist_ok=True)
with open("quickstart-model/model.pkl", "wb") as f:
    pickle.dump(model, f)
print("trained with scikit-learn", sklearn.__version__)"""),
    ("code", """%%writefile score.py
import json
import os
import pickle

import numpy as np


def init():
    # Called once when the container starts: load the model from AZUREML_MODEL_DIR.
    global model
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"), "rb") as f:
        model = pickle.load(f)


def run(raw_data):
    # Called for every request with the raw JSON body.
    data = np.array(json.loads(raw_data)["data"])
    return model.predict(data).tolist()"""),
    ("code", """import os

import jupyter_deploy as jd

name = os.environ.get("QUICKSTART_SERVICE", "quickstart")
# The image gets exactly the scikit-learn this notebook trained with (pinned).
env = jd.Environment(name="quickstart", pip=[f"scikit-learn=={sklearn.__version__}"])
service = jd.deploy(
    name,
    entry_script="score.py",
    models=["quickstart-model/model.pkl"],
    environment=env,
    log=print,
)
print("scoring URI:", service.scoring_uri)"""),
    ("code", """sample = {"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
                   [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]]}
result = service.score(sample)
print("scores:", result.value)
print(f"latency: {result.seconds * 1000:.1f} ms")"""),
    ("code", """import pandas as pd

# The same two rows scored in this kernel, for comparison.
in_process = model.predict(np.array(sample["data"]))
print("in-process:", in_process.tolist())
pd.DataFrame({"container": result.value, "in-process": in_process})"""),
    ("markdown", """The service keeps running (`docker ps` lists it, published on 127.0.0.1 only).
Remove it with `service.remove()`, or `jupyter-deploy rm quickstart` (its name, if you gave
it another)."""),
]


def build() -> nbformat.NotebookNode:
    """The notebook object."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    for index, (kind, source) in enumerate(CELLS):
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(make(source, id=f"cell-{index}"))  # stable ids: no noise in diffs
    return nb


if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "notebooks" / "quickstart.ipynb"
    nbformat.write(build(), target)
    print(f"wrote {target}")
