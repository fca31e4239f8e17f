"""An SDK v1 entry script, unchanged: finds its model with Model.get_model_path()."""
import json

from azureml.core.model import Model


def init():
    global weights
    with open(Model.get_model_path("weights")) as f:
        weights = json.load(f)


def run(raw_data):
    rows = json.loads(raw_data)["data"]
    return [sum(w * x for w, x in zip(weights, row, strict=True)) for row in rows]
