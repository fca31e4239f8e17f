"""@input_schema with a standard Python parameter type (imported from the usual Azure paths)."""
from inference_schema.parameter_types.standard_py_parameter_type import (
    StandardPythonParameterType,
)
from inference_schema.schema_decorators import input_schema, output_schema


def init():
    pass


@input_schema("data", StandardPythonParameterType([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]))
@output_schema(StandardPythonParameterType([55]))
def run(data):
    return [sum(row) for row in data]
