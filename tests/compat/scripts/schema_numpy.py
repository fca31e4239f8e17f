"""@input_schema with a numpy parameter type: run() gets an ndarray of the sample's dtype."""
import numpy as np
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.parameter_types.standard_py_parameter_type import (
    StandardPythonParameterType,
)
from inference_schema.schema_decorators import input_schema, output_schema


def init():
    pass


@input_schema("data", NumpyParameterType(np.array([[1.0] * 10])))
@input_schema("scale", StandardPythonParameterType(1.0), optional=True)
@output_schema(NumpyParameterType(np.array([1.0])))
def run(data, scale=1.0):
    assert isinstance(data, np.ndarray), type(data)
    return (data.sum(axis=1) * scale).tolist()
