"""run() returns numpy values as they come out of a model (no .tolist())."""
import json

import numpy as np


def init():
    pass


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"], dtype=float)
    return {"sums": data.sum(axis=1), "max": data.max()}
