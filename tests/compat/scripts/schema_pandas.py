"""@input_schema with a pandas parameter type: run() gets a DataFrame."""
import pandas as pd
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.schema_decorators import input_schema


def init():
    pass


@input_schema("data", PandasParameterType(pd.DataFrame({"a": [1.0], "b": [2.0]})))
def run(data):
    assert isinstance(data, pd.DataFrame), type(data)
    return (data["a"] + data["b"]).tolist()
