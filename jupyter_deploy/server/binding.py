"""How a protocol's request reaches ``run()``: one set of rules for every route but ``/score``.

The protocol modules parse their wire formats into one of two shapes, and this module turns that
into ``run()``'s keyword arguments, the way the script was written to take them:

* A :class:`Frame` (MLflow's ``dataframe_split``/``dataframe_records``/CSV, records in
  ``instances``/``inputs``, Open Inference Protocol inputs that are a DataFrame's columns) reaches
  a plain ``run(raw_data)`` as the JSON text ``{"data": rows}`` — the body ``/score`` gets — and
  a decorated ``run()``'s first parameter as its type expects it: records (``orient="records"``)
  or ``{"columns", "index", "data"}`` (``orient="split"``) for a pandas parameter, rows for the
  others.
* :class:`~tensors.Tensor` values: a single one becomes ``{"data": value}`` for a plain
  ``run()`` (a decorated one gets it as its first parameter, or the parameter of its name);
  several named ones become ``{name: value, …}`` (a decorated ``run()``'s parameters by name).
  A one-element tensor for a number parameter is that number; a 2-D tensor for a pandas
  parameter is rows of its sample's columns.
* Extra parameters (MLflow's ``params``) go to the parameters of their names (for a plain
  ``run()``, into the JSON object beside ``data``).

A ``@rawhttp`` script reads the HTTP request itself, so nothing can be mapped onto it: those
requests are refused with a 400 that says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

try:
    from . import aml, codec, entry, tensors
    from .signature import Param, Signature
except ImportError:  # pragma: no cover - run as a plain script
    import aml  # type: ignore[no-redef]
    import codec  # type: ignore[no-redef]
    import entry  # type: ignore[no-redef]
    import tensors  # type: ignore[no-redef]
    from signature import Param, Signature  # type: ignore[no-redef]

RAW_HTTP = ("run() is decorated with @rawhttp: it reads the HTTP request itself, so only /score "
            "can call it. Send this request to /score, or decorate run() with @input_schema "
            "instead of @rawhttp.")


@dataclass(frozen=True)
class Frame:
    """A DataFrame's content: column names (may be empty: unnamed) and rows."""

    columns: list[str]
    rows: list[list[Any]]

    def records(self, columns: list[str]) -> list[dict[str, Any]]:
        return [dict(zip(columns, row, strict=False)) for row in self.rows]


Payload = Frame | list[tensors.Tensor]


def frame_from_columns(columns: list[tensors.Tensor]) -> Frame:
    """A DataFrame made of 1-D tensors, one per column (``[n, 1]`` columns are flattened).

    Raises:
        entry.InputError: a column is not 1-D or the columns differ in length.
    """
    values = []
    for t in columns:
        value = t.value
        if len(t.shape) == 2 and t.shape[1] == 1:
            value = [row[0] for row in value]
        elif len(t.shape) != 1:
            raise entry.InputError(f"Input '{t.name}' is a DataFrame column, so its shape must "
                                   f"be [rows] (or [rows, 1]), not {list(t.shape)}.")
        values.append(value)
    if len({len(v) for v in values}) > 1:
        raise entry.InputError("The DataFrame's columns differ in length: "
                               + ", ".join(f"{t.name}={t.shape[0]}" for t in columns) + ".")
    return Frame([t.name for t in columns], [list(row) for row in zip(*values, strict=True)])


class Binding:
    """The prepared mapping from payloads onto one loaded script's ``run()``."""

    def __init__(self, script: entry.UserScript, signature: Signature) -> None:
        self.script = script
        self.signature = signature
        self.names = [p.name for p in script.parameters]
        self.first = self.names[0] if self.names else "data"

    def arguments(self, payload: Payload, params: dict[str, Any] | None,
                  headers: aml.Headers) -> dict[str, Any]:
        """``run()``'s keyword arguments for ``payload`` and ``params``.

        Raises:
            entry.InputError: a ``@rawhttp`` script, inputs that match no parameter, a
                parameter given twice or missing.
        """
        if self.script.mode == "raw":
            raise entry.InputError(RAW_HTTP)
        payload, beside = self._as_frame(payload)
        params = {**beside, **(params or {})}
        if self.script.mode == "object":
            kwargs = self.script.named(self._by_parameter(payload, params))
        else:
            kwargs = {self.first: self._json_text(payload, params)}
        if self.script.pass_headers:
            kwargs["request_headers"] = dict(headers.items())
        return kwargs

    def _as_frame(self, payload: Payload) -> tuple[Payload, dict[str, Any]]:
        """Tensors named after the metadata's DataFrame columns, as that DataFrame, and the
        other tensors beside it (by name, like ``params``)."""
        if isinstance(payload, Frame) or not self.signature.frame_inputs:
            return payload, {}
        known = self.signature.frame_columns
        columns = [t for t in payload if t.name in known and t.name not in self.names]
        if not columns:
            return payload, {}
        decorated = self.signature.params
        return frame_from_columns(columns), {
            t.name: _tensor_value(decorated.get(t.name), t) for t in payload
            if t not in columns}

    def _json_text(self, payload: Payload, params: dict[str, Any]) -> str:
        if isinstance(payload, Frame):
            body: dict[str, Any] = {"data": payload.rows}
        elif len(payload) == 1:
            body = {"data": _value(payload[0])}
        else:
            body = {t.name: _value(t) for t in payload}
        for name, value in params.items():
            if name in body:
                raise entry.InputError(f"Parameter '{name}' is also an input: rename one.")
            body[name] = value
        try:
            return codec.dumps(body).decode()
        except (TypeError, ValueError) as e:
            raise entry.InputError(f"The inputs cannot be given to run() as JSON: {e}") from None

    def _by_parameter(self, payload: Payload, params: dict[str, Any]) -> dict[str, Any]:
        decorated = self.signature.params
        if isinstance(payload, Frame):
            body = {self.first: _frame_value(decorated.get(self.first), payload)}
        elif all(t.name in self.names for t in payload):
            body = {t.name: _tensor_value(decorated.get(t.name), t) for t in payload}
        elif len(payload) == 1:
            body = {self.first: _tensor_value(decorated.get(self.first), payload[0])}
        else:
            raise entry.InputError(
                f"Inputs {', '.join(t.name for t in payload)} do not match run()'s parameters "
                f"({', '.join(self.names)}): send one input, or one named after each parameter.")
        for name, value in params.items():
            if name not in self.names:
                raise entry.InputError(f"run() has no parameter '{name}': its parameters are "
                                       f"{', '.join(self.names)}.")
            if name in body:
                raise entry.InputError(f"Parameter '{name}' is also an input: send it once.")
            body[name] = value
        return body


def _value(tensor: tensors.Tensor) -> Any:
    """A tensor's value; a BYTES tensor marked ``content_type: json`` is its JSON text, parsed."""
    value = tensor.value
    if tensor.parameters.get("content_type") == tensors.JSON_CONTENT:
        text = value[0] if isinstance(value, list) and len(value) == 1 else value
        try:
            return json.loads(text)
        except (TypeError, ValueError) as e:
            raise entry.InputError(f"Input '{tensor.name}' is marked JSON but is not: {e}") \
                from None
    return value


def _frame_value(param: Param | None, frame: Frame) -> Any:
    kind = param.kind if param else ""
    if kind not in ("records", "split"):
        return frame.rows
    assert param is not None
    columns = frame.columns or (param.column_names if frame.rows and
                                len(param.columns) == len(frame.rows[0]) else [])
    if not columns and frame.rows:
        columns = [str(i) for i in range(len(frame.rows[0]))]
    if kind == "split":
        return {"columns": columns, "index": list(range(len(frame.rows))), "data": frame.rows}
    return frame.records(columns)


def _tensor_value(param: Param | None, tensor: tensors.Tensor) -> Any:
    value = _value(tensor)
    if param is None:
        return value
    if param.kind == "scalar" and isinstance(value, list) and len(value) == 1 \
            and not isinstance(value[0], list):
        return value[0]
    if param.kind in ("records", "split") and len(tensor.shape) == 2 and \
            tensor.shape[1] == len(param.columns):
        return _frame_value(param, Frame(param.column_names, value))
    return value
