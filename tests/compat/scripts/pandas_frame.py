"""run() builds a DataFrame from the body and returns plain lists computed with pandas."""
import json

import pandas as pd


def init():
    pass


def run(raw_data):
    frame = pd.DataFrame(json.loads(raw_data)["data"])
    return {"columns": [str(c) for c in frame.columns], "means": frame.mean(axis=1).tolist()}
