"""init() raises: the server must not start, and must say why."""


def init():
    raise FileNotFoundError("model.pkl is not in AZUREML_MODEL_DIR")


def run(raw_data):
    return raw_data
