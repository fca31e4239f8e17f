"""The text of the scoring scripts generated for self-describing models, one template per kind.

Plain Python a user can read, edit and keep: the server's own conventions (``init()`` once,
``run(data)`` per request, ``AZUREML_MODEL_DIR``), the schema decorators the server supports
(so ``/swagger.json`` shows the model's sample), and nothing of jupyter_deploy's beyond the one
optional hook that lets the parity check use the kernel's own estimator. ``$names`` are filled
in by :mod:`jupyter_deploy.build.entry_scripts`.
"""

from __future__ import annotations

from string import Template

HEADER = Template('''\
"""$title

$how

Edit it as you like: jupyter_deploy writes this file again only while it is unchanged, and
`service.reload()` puts an edited copy into the running service without a rebuild.
Requirements (from $source):
$requirements
"""
''')

IMPORTS_SCHEMA = '''\
try:  # the schema decorators: the service has them (as has the inference-schema package)
    from inference_schema.parameter_types.standard_py_parameter_type import (
        StandardPythonParameterType,
    )
    from inference_schema.schema_decorators import input_schema, output_schema
except ImportError:  # in a notebook (a parity check): jupyter_deploy's copy of them
    from jupyter_deploy.server.schema import (
        StandardPythonParameterType,
        input_schema,
        output_schema,
    )
'''

TO_JSON = '''

def to_json(value):
    """numpy arrays and scalars, pandas tables and ZipMap's dicts as plain JSON values."""
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # a DataFrame
        return to_json(value.to_dict(orient="records"))
    if hasattr(value, "tolist"):  # an array, a Series or a numpy scalar
        return value.tolist()
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    return value
'''

TABLE_INPUT = '''

def model_input(data):
    """``data`` as the table the model takes: rows in the order of COLUMNS, or records (dicts)
    by column name."""
    if isinstance(data, list) and data and not isinstance(data[0], (list, dict)):
        data = [data]  # one row
    frame = pd.DataFrame(data)
    if isinstance(frame.columns, pd.RangeIndex):
        if len(frame.columns) != len(COLUMNS):
            raise ValueError(f"each row needs {len(COLUMNS)} values ({', '.join(COLUMNS)}), "
                             f"got {len(frame.columns)}")
        frame.columns = list(COLUMNS)
    missing = [name for name in COLUMNS if name not in frame.columns]
    if missing:
        raise ValueError(f"columns missing: {', '.join(missing)}")
    return frame[list(COLUMNS)]$astype
'''

TENSOR_INPUT = '''

def model_input(data):
    """``data`` as the array (or the dict of arrays, by input name) the model takes."""
    if isinstance(data, dict):
        missing = [name for name in INPUT_TYPES if name not in data]
        if missing:
            raise ValueError(f"inputs missing: {', '.join(missing)} (the model takes "
                             f"{', '.join(INPUT_TYPES)})")
        return {name: np.asarray(data[name], dtype=dtype) for name, dtype in INPUT_TYPES.items()}
    if len(INPUT_TYPES) != 1:
        raise ValueError("the model takes several inputs: send a dict of "
                         f"{', '.join(INPUT_TYPES)}")
    [dtype] = INPUT_TYPES.values()
    return np.asarray(data, dtype=dtype)
'''

ROWS_INPUT = '''

def model_input(data):
    """``data`` as the rows of features the estimator takes (a single row may come alone)."""
    rows = np.asarray(data)
    return rows.reshape(1, -1) if rows.ndim == 1 else rows
'''

PASS_INPUT = '''

def model_input(data):
    """``data`` as the model takes it: lists of rows as a table, anything else as it is."""
    if isinstance(data, list) and data and isinstance(data[0], (list, dict)):
        return pd.DataFrame(data)
    return data
'''

MLFLOW = Template('''$header
import os

import mlflow.pyfunc
${numpy_import}import pandas as pd
$schema_imports
#: The MLflow model folder, relative to the folder the service puts the model in.
MODEL_FOLDER = $location
#: What the model takes and gives (the Open Inference Protocol's model metadata).
MODEL_METADATA = $metadata
$input_constants
model = None


def init():
    """Load the model with mlflow.pyfunc, once, when the service starts."""
    global model
    model = mlflow.pyfunc.load_model(os.path.join(os.environ["AZUREML_MODEL_DIR"],
                                                  MODEL_FOLDER))


$decorators
def run(data):
    """Predict with the model's python_function flavour; ``data`` is the request's "data"."""
    return to_json(model.predict(model_input(data)))
$model_input$to_json''')

ONNX = Template('''$header
import os

import numpy as np
import onnxruntime
$schema_imports
#: The ONNX file, relative to the folder the service puts the model in.
MODEL_FILE = $location
#: The graph's inputs and outputs (the Open Inference Protocol's model metadata).
MODEL_METADATA = $metadata
$input_constants
session = None


def init():
    """Open an ONNX Runtime session on the model, once, when the service starts."""
    global session
    path = os.path.join(os.environ["AZUREML_MODEL_DIR"], MODEL_FILE)
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])


$decorators
def run(data):
    """Run the graph: ``data`` is rows for its single input, or a dict of inputs by name.

    Returns every output by name; map outputs (a converter's ZipMap) as lists of dicts.
    """
    names = [output.name for output in session.get_outputs()]
    results = session.run(names, model_input(data))
    return {name: to_json(value) for name, value in zip(names, results)}
$model_input$to_json''')

ONNX_FEEDS = '''

def model_input(data):
    """The session's feeds: rows cast to the single input's type, or a dict by input name."""
    if isinstance(data, dict):
        missing = [name for name in INPUT_TYPES if name not in data]
        if missing:
            raise ValueError(f"inputs missing: {', '.join(missing)} (the model takes "
                             f"{', '.join(INPUT_TYPES)})")
        return {name: np.asarray(data[name], dtype=dtype) for name, dtype in INPUT_TYPES.items()}
    if len(INPUT_TYPES) != 1:
        raise ValueError("the model takes several inputs: send a dict of "
                         f"{', '.join(INPUT_TYPES)}")
    [(name, dtype)] = INPUT_TYPES.items()
    return {name: np.asarray(data, dtype=dtype)}
'''

ESTIMATOR = Template('''$header
import os

import joblib
$array_import$schema_imports
#: The saved estimator, relative to the folder the service puts the model in.
MODEL_FILE = $location
#: What the estimator takes and gives (the Open Inference Protocol's model metadata).
MODEL_METADATA = $metadata
$input_constants
model = None


def init():
    """Load the saved estimator, once, when the service starts."""
    global model
    model = in_kernel()
    if model is None:
        model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], MODEL_FILE))


$decorators
def run(data):
    """Predict with the estimator's $method(); ``data`` is the request's "data"."""
    return to_json(model.$method(model_input(data)))


def in_kernel():
    """The very estimator that was deployed, when this script runs in the notebook that
    deployed it (jupyter_deploy's parity check compares the service with that object); None
    everywhere else, in the service included."""
    try:
        from jupyter_deploy.spec.models import deployed_object
    except ImportError:
        return None
    return deployed_object(__file__)
$model_input$to_json''')
