"""A small stand-in for the ``inference_schema`` package, used only when it is not installed.

Entry scripts written for Azure decorate ``run()`` with ``@input_schema``/``@output_schema`` and
the standard, numpy and pandas parameter types. The real package (and its three dependencies)
need not be in every image: :mod:`shims` serves this module under the package's import paths
when the real one is missing, and the real one wins when it is installed. The decorators convert
each named argument from its JSON form to the sample's type and record a swagger schema.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

SCHEMA_ATTR = "__jd_schema__"
ALL_SUPPORTED_VERSIONS = ["2.0", "3.0", "3.1"]


class AbstractParameterType:
    """A parameter type: a sample value, a JSON-to-value conversion and a swagger schema."""

    def __init__(self, sample_input: Any, enforce_column_type: bool = True,
                 enforce_shape: bool = True, **options: Any) -> None:
        self.sample_input = sample_input
        self.enforce_column_type = enforce_column_type
        self.enforce_shape = enforce_shape
        self.options = options

    def deserialize_input(self, input_data: Any) -> Any:
        """Convert the JSON value to the sample's type."""
        return input_data

    def input_to_swagger(self) -> dict[str, Any]:
        """The swagger schema of this parameter, with the sample as its example."""
        sample = _plain(self.sample_input)
        return {**_swagger_of(sample), "example": sample}


class StandardPythonParameterType(AbstractParameterType):
    """A plain Python value (number, string, list, dict), passed as is."""


class NumpyParameterType(AbstractParameterType):
    """A numpy array: lists become an array of the sample's dtype (and shape, past axis 0)."""

    def deserialize_input(self, input_data: Any) -> Any:
        import numpy as np

        sample = self.sample_input
        if sample.dtype.names:  # structured array: rows of tuples
            return np.array([tuple(row) for row in input_data], dtype=sample.dtype)
        array = np.array(input_data, dtype=sample.dtype if self.enforce_column_type else None)
        if self.enforce_shape and array.shape[1:] != sample.shape[1:]:
            raise ValueError(
                f"Invalid input shape {array.shape}: the schema expects (*, "
                f"{', '.join(str(n) for n in sample.shape[1:])})"
            )
        return array

    def input_to_swagger(self) -> dict[str, Any]:
        return {**super().input_to_swagger(), "format": "numpy.ndarray"}


class PandasParameterType(AbstractParameterType):
    """A pandas DataFrame, sent as records (``orient="records"``, the default) or split."""

    def deserialize_input(self, input_data: Any) -> Any:
        import pandas as pd

        orient = self.options.get("orient", "records")
        if orient == "split" and isinstance(input_data, dict):
            frame = pd.DataFrame(**input_data)
        else:
            frame = pd.DataFrame(input_data)
        sample = self.sample_input
        if self.options.get("apply_column_names") and len(frame.columns) == len(sample.columns):
            frame.columns = sample.columns
        if self.enforce_column_type:
            common = [c for c in sample.columns if c in frame.columns]
            frame = frame.astype({c: sample[c].dtype for c in common})
        return frame

    def input_to_swagger(self) -> dict[str, Any]:
        sample = self.sample_input.to_dict(orient="records")
        return {**_swagger_of(_plain(sample)), "example": _plain(sample)}


def input_schema(param_name: str, param_type: AbstractParameterType,
                 convert_to_provided_type: bool = True, optional: bool = False
                 ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare ``param_name``'s type; the argument is converted before ``run()`` sees it."""
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        names = _argument_names(func)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if convert_to_provided_type:
                args, kwargs = _convert(names, param_name, param_type, args, kwargs)
            return func(*args, **kwargs)

        schema = dict(getattr(func, SCHEMA_ATTR, {}))
        schema["input"] = {**schema.get("input", {}), param_name: (param_type, optional)}
        setattr(wrapper, SCHEMA_ATTR, schema)
        return wrapper
    return decorate


def output_schema(output_type: AbstractParameterType
                  ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare the type ``run()`` returns (for the swagger document only)."""
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

        setattr(wrapper, SCHEMA_ATTR, {**getattr(func, SCHEMA_ATTR, {}), "output": output_type})
        return wrapper
    return decorate


def is_schema_decorated(func: Callable[..., Any]) -> bool:
    """Whether ``func`` carries ``@input_schema`` or ``@output_schema``."""
    return bool(getattr(func, SCHEMA_ATTR, None))


def get_input_schema(func: Callable[..., Any]) -> dict[str, Any]:
    """The swagger schema of ``func``'s decorated arguments."""
    declared = getattr(func, SCHEMA_ATTR, {}).get("input", {})
    properties = {name: ptype.input_to_swagger() for name, (ptype, _) in declared.items()}
    required = [name for name, (_, optional) in declared.items() if not optional]
    return {"type": "object", "properties": properties, "required": required,
            "example": {name: p.get("example") for name, p in properties.items()}}


def get_output_schema(func: Callable[..., Any]) -> dict[str, Any]:
    """The swagger schema of ``func``'s declared answer (an empty object if none)."""
    output = getattr(func, SCHEMA_ATTR, {}).get("output")
    return output.input_to_swagger() if output else {"type": "object", "example": {}}


def get_supported_versions(func: Callable[..., Any]) -> list[str]:
    """The swagger versions this stand-in can describe (all of them)."""
    return list(ALL_SUPPORTED_VERSIONS)


def _argument_names(func: Callable[..., Any]) -> list[str]:
    import inspect

    return list(inspect.signature(func).parameters)


def _convert(
    names: list[str], name: str, ptype: AbstractParameterType, args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if name in kwargs:
        kwargs = {**kwargs, name: ptype.deserialize_input(kwargs[name])}
    elif name in names and names.index(name) < len(args):
        index = names.index(name)
        args = (*args[:index], ptype.deserialize_input(args[index]), *args[index + 1:])
    return args, kwargs


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value


def _swagger_of(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer", "format": "int64"}
    if isinstance(value, float):
        return {"type": "number", "format": "double"}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, list):
        return {"type": "array", "items": _swagger_of(value[0]) if value else {}}
    if isinstance(value, dict):
        return {"type": "object",
                "properties": {k: _swagger_of(v) for k, v in value.items()}}
    return {"type": "object"}
