"""The seeds' sample request and a Ridge-model ``score.py``, shared by the engine suites."""

from __future__ import annotations

from pathlib import Path

#: The two rows the seed documents send to ``/score`` (two results come back).
SAMPLE = {"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]]}

#: Loads ``model.pkl`` from ``AZUREML_MODEL_DIR``; answers scale by ``SCALE`` (tests edit it).
RIDGE_SCORE_PY = '''
import json, os, pickle
import numpy as np

def init():
    global model
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"), "rb") as f:
        model = pickle.load(f)

def run(raw_data):
    rows = np.array(json.loads(raw_data)["data"])
    return (model.predict(rows) * SCALE).tolist()

SCALE = 1
'''

#: The seeds' style: a joblib model, loaded from ``AZUREML_MODEL_DIR`` in ``init()``.
JOBLIB_SCORE_PY = '''import json
import os

import joblib
import numpy as np


def init():
    global model
    model = joblib.load(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model.pkl"))


def run(raw_data):
    return model.predict(np.array(json.loads(raw_data)["data"])).tolist()
'''


def write_score_py(folder: Path, returns: str, init: str = "pass", imports: str = "") -> Path:
    """Write ``folder/score.py`` whose ``run(raw)`` returns the expression ``returns``."""
    path = folder / "score.py"
    path.write_text(f"{imports}\n\ndef init():\n    {init}\n\n"
                    f"def run(raw):\n    return {returns}\n")
    return path
