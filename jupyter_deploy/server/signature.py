"""What a ``score.py`` model takes and gives, read once from its schema decorators (or told).

The Open Inference Protocol's model metadata lists each input and output with a name, a
datatype and a shape; the protocols' requests are mapped onto ``run()``'s parameters by the same
facts. Both come from here, decided at start-up:

* ``@input_schema`` / ``@output_schema`` (ours or the real ``inference_schema`` package, read
  through the swagger schema both produce): a pandas parameter is a DataFrame whose columns are
  the inputs (``content_type: "pd"``), a numpy or list parameter one tensor of its sample's
  datatype with a free first dimension, a number or string a one-element tensor, anything else
  (a dict) one BYTES element holding JSON.
* An override for scripts that know better — a generated ``score.py`` for an MLflow folder or an
  ONNX file knows its signature: a module attribute ``MODEL_METADATA`` (a dict) in the entry
  script, else a ``model-metadata.json`` file beside it, with any of ``inputs``, ``outputs``
  (lists of ``{"name", "datatype", "shape"}``), ``platform`` and ``parameters``
  (``{"content_type": "pd"}`` makes the inputs a DataFrame's columns). Given keys replace the
  derived ones.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

try:
    from . import schema, tensors
except ImportError:  # pragma: no cover - run as a plain script
    import schema  # type: ignore[no-redef]
    import tensors  # type: ignore[no-redef]

#: The module attribute and the file a script can describe itself with.
METADATA_ATTR = "MODEL_METADATA"
METADATA_FILE = "model-metadata.json"
#: The name of the one output tensor of a model whose metadata names none.
DEFAULT_OUTPUT = "output-0"
PLATFORM = "jupyter-deploy_score.py"
#: How a parameter takes its value: records (a DataFrame, ``orient="records"``), split (a
#: DataFrame, ``orient="split"``), array (nested lists), scalar, or json (anything else).
KINDS = ("records", "split", "array", "scalar", "json")


class MetadataError(ValueError):
    """The script's own model metadata is not usable (the message says which part)."""


@dataclass(frozen=True)
class Param:
    """One decorated parameter of ``run()``: its kind, datatype, shape and (DataFrames) columns."""

    name: str
    kind: str
    datatype: str = "BYTES"
    shape: tuple[int, ...] = (1,)
    columns: tuple[tuple[str, str], ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]


@dataclass(frozen=True)
class Signature:
    """The model's metadata as the protocols answer it, and its parameters as binding needs."""

    params: dict[str, Param] = field(default_factory=dict)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    platform: str = PLATFORM
    parameters: dict[str, Any] = field(default_factory=dict)
    told_inputs: bool = False

    @property
    def frame_inputs(self) -> bool:
        """Whether inputs named after the metadata's inputs form a DataFrame's columns."""
        return self.parameters.get("content_type") == "pd"

    @property
    def frame_columns(self) -> set[str]:
        """The inputs that are the DataFrame's columns: the pandas parameter's (derived), or
        every input the script's own metadata lists."""
        first = next(iter(self.params.values()), None)
        if self.told_inputs or first is None or first.kind not in ("records", "split"):
            return {str(t["name"]) for t in self.inputs}
        return set(first.column_names)

    @property
    def output_name(self) -> str:
        """The name of a single-tensor answer: the metadata's one output, else the default."""
        return str(self.outputs[0]["name"]) if len(self.outputs) == 1 else DEFAULT_OUTPUT


def read(run: Callable[..., Any], module: Any, folder: str) -> Signature:
    """The signature of ``run()``, with the script's own metadata (attribute or file) on top.

    Raises:
        MetadataError: the attribute or the file is not a dict of the protocol's tensors.
    """
    inputs, output = _schemas(run)
    order = list(inspect.signature(run).parameters)  # run()'s order, not the decorators'
    params = {name: _param(name, *inputs[name]) for name in
              sorted(inputs, key=lambda n: order.index(n) if n in order else len(order))}
    derived = Signature(params, _input_tensors(params.values()), _output_tensors(output),
                        parameters={"content_type": "pd"} if _one_frame(params) else {})
    told = _told(module, folder)
    return Signature(
        params, told.get("inputs", derived.inputs), told.get("outputs", derived.outputs),
        told.get("platform", derived.platform), told.get("parameters", derived.parameters),
        "inputs" in told)


def _schemas(run: Callable[..., Any]) -> tuple[dict[str, tuple[dict[str, Any], Any]],
                                                tuple[dict[str, Any], Any] | None]:
    """(name → (swagger schema, example)) of the inputs, and the output's, from either package."""
    util: Any = schema if schema.is_schema_decorated(run) else \
        sys.modules.get("inference_schema.schema_util")
    if util is None or not util.is_schema_decorated(run):
        return {}, None
    given = util.get_input_schema(run)
    examples = given.get("example") or {}
    inputs = {name: (spec, examples.get(name, spec.get("example")))
              for name, spec in (given.get("properties") or {}).items()}
    out = util.get_output_schema(run)
    declared = out.get("example") not in (None, {})  # neither package has an empty sample
    return inputs, ((out, out.get("example")) if declared else None)


def _param(name: str, spec: dict[str, Any], example: Any) -> Param:
    form = str(spec.get("format", ""))
    items = spec.get("items") or {}
    if form.endswith(":split") or set(spec.get("properties") or {}) >= {"columns", "data"}:
        data = (spec.get("properties") or {}).get("data", {})
        kind = _datatype(((data.get("items") or {}).get("items")) or {})
        columns = (example or {}).get("columns") or []
        return Param(name, "split", columns=tuple((str(c), kind) for c in columns))
    if spec.get("type") == "array" and items.get("type") == "object":
        properties = items.get("properties") or {}
        return Param(name, "records", columns=tuple(
            (str(c), _datatype(p)) for c, p in properties.items()))
    if spec.get("type") == "array":
        shape, leaf = [-1], items
        while leaf.get("type") == "array":
            sample = _first(example, len(shape))
            shape.append(len(sample) if isinstance(sample, list) else -1)
            leaf = leaf.get("items") or {}
        datatype = _datatype(leaf)
        return Param(name, "array" if datatype else "json", datatype or "BYTES", tuple(shape))
    datatype = _datatype(spec)
    return Param(name, "scalar", datatype) if datatype else Param(name, "json")


def _first(example: Any, depth: int) -> Any:
    for _ in range(depth):
        if not isinstance(example, list) or not example:
            return None
        example = example[0]
    return example


_FORMATS = {"float": "FP32", "double": "FP64", "int8": "INT8", "int16": "INT16",
            "int32": "INT32", "int64": "INT64", "uint8": "UINT8", "uint16": "UINT16",
            "uint32": "UINT32", "uint64": "UINT64"}
_TYPES = {"number": "FP64", "integer": "INT64", "boolean": "BOOL", "string": "BYTES"}


def _datatype(spec: dict[str, Any]) -> str:
    """The protocol datatype of a swagger leaf, or "" for objects and mixed lists."""
    kind = spec.get("type")
    if kind not in _TYPES:
        return ""
    return _FORMATS.get(str(spec.get("format")), _TYPES[kind]) if kind != "string" else "BYTES"


def _one_frame(params: dict[str, Param]) -> bool:
    return len(params) >= 1 and next(iter(params.values())).kind in ("records", "split")


def _input_tensors(params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for p in params:
        if p.kind in ("records", "split"):
            found += [{"name": c, "datatype": d or "BYTES", "shape": [-1]} for c, d in p.columns]
        elif p.kind == "json":
            found.append({"name": p.name, "datatype": "BYTES", "shape": [1],
                          "parameters": {"content_type": tensors.JSON_CONTENT}})
        else:
            found.append({"name": p.name, "datatype": p.datatype, "shape": list(p.shape)})
    return found


def _output_tensors(output: tuple[dict[str, Any], Any] | None) -> list[dict[str, Any]]:
    if output is None:
        return []
    param = _param(DEFAULT_OUTPUT, *output)
    if param.kind in ("records", "split"):
        return [{"name": c, "datatype": d or "BYTES", "shape": [-1]} for c, d in param.columns]
    if param.kind == "scalar":
        return [{"name": DEFAULT_OUTPUT, "datatype": param.datatype, "shape": []}]
    return _input_tensors([param])


def _told(module: Any, folder: str) -> dict[str, Any]:
    """The script's own metadata: its ``MODEL_METADATA``, else ``model-metadata.json``."""
    told = getattr(module, METADATA_ATTR, None)
    where = f"{METADATA_ATTR} in the entry script"
    path = os.path.join(folder, METADATA_FILE)
    if told is None and os.path.isfile(path):
        where = path
        try:
            with open(path, encoding="utf-8") as f:
                told = json.load(f)
        except (OSError, ValueError) as e:
            raise MetadataError(f"{path} cannot be read as JSON ({e}): fix or remove it.") from e
    if told is None:
        return {}
    return _checked(told, where)


def _checked(told: Any, where: str) -> dict[str, Any]:
    if not isinstance(told, dict):
        raise MetadataError(f"{where} must be a dict with 'inputs' and/or 'outputs'.")
    unknown = set(told) - {"inputs", "outputs", "platform", "parameters"}
    if unknown:
        raise MetadataError(f"{where} has unknown keys {sorted(unknown)}: use inputs, outputs, "
                            "platform and parameters.")
    for key in ("inputs", "outputs"):
        for tensor in told.get(key, []):
            ok = isinstance(tensor, dict) and isinstance(tensor.get("name"), str) \
                and tensor.get("datatype") in tensors.STRUCT_CODES \
                and isinstance(tensor.get("shape"), list) \
                and all(type(n) is int and n >= -1 for n in tensor["shape"])
            if not ok:
                raise MetadataError(
                    f"{where}: {key} entry {tensor!r} needs a name, a datatype (one of "
                    f"{', '.join(tensors.STRUCT_CODES)}) and a shape (sizes, -1 for any).")
    if not isinstance(told.get("parameters", {}), dict):
        raise MetadataError(f"{where}: parameters must be a dict.")
    return dict(told)
