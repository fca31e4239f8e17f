"""Open Inference Protocol tensors: JSON (and Triton's binary extension) to Python values, and back.

A codec and nothing else, kept apart from the routes (as KServe keeps its v2 data model apart from
its handlers): :func:`decode_inputs` turns a request's ``inputs`` into :class:`Tensor` values —
nested lists in their ``shape``, every element checked against its ``datatype`` — and
:func:`encode` turns whatever ``run()`` answered into output tensors. Standard library only (the
server package carries no numpy): binary tensors are read and written with :mod:`struct`.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

try:
    from . import codec
except ImportError:  # pragma: no cover - run as a plain script
    import codec  # type: ignore[no-redef]

#: The protocol's datatypes and the :mod:`struct` code of one element (BYTES has none).
STRUCT_CODES = {"BOOL": "?", "INT8": "b", "INT16": "h", "INT32": "i", "INT64": "q",
                "UINT8": "B", "UINT16": "H", "UINT32": "I", "UINT64": "Q",
                "FP16": "e", "FP32": "f", "FP64": "d", "BYTES": ""}
_INT_RANGES = {name: (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
               for name, bits in (("INT8", 8), ("INT16", 16), ("INT32", 32), ("INT64", 64))}
_INT_RANGES.update({f"U{name}": (0, 2 ** bits - 1)
                    for name, bits in (("INT8", 8), ("INT16", 16), ("INT32", 32), ("INT64", 64))})
#: numpy dtype names as ``str(array.dtype)`` spells them, to the protocol's datatypes.
NUMPY_TYPES = {"bool": "BOOL", "int8": "INT8", "int16": "INT16", "int32": "INT32",
               "int64": "INT64", "uint8": "UINT8", "uint16": "UINT16", "uint32": "UINT32",
               "uint64": "UINT64", "float16": "FP16", "float32": "FP32", "float64": "FP64"}
#: What an output that is not a rectangular array of one type is sent as: its JSON text.
JSON_CONTENT = "json"


class TensorError(ValueError):
    """A tensor the request cannot carry; the message names it and says what is wrong."""


@dataclass(slots=True)
class Tensor:
    """A named value: a nested list in its ``shape`` (a scalar for shape ``[]``)."""

    name: str
    value: Any
    datatype: str = ""
    shape: tuple[int, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)


def decode_inputs(request: dict[str, Any], binary: bytes = b"") -> list[Tensor]:
    """The request's ``inputs`` as tensors; ``binary`` is what followed the JSON header.

    Raises:
        TensorError: a missing field, an unknown datatype, a shape that does not match the
            data, or an element of the wrong type.
    """
    inputs = request.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise TensorError("The request needs 'inputs': a list of {name, shape, datatype, data}.")
    offset, tensors = 0, []
    for raw in inputs:
        tensor, used = _decode_one(raw, binary, offset)
        offset += used
        tensors.append(tensor)
    if offset != len(binary):
        raise TensorError(f"The request carries {len(binary) - offset} bytes of binary data "
                          "that no input's binary_data_size accounts for.")
    return tensors


def _decode_one(raw: Any, binary: bytes, offset: int) -> tuple[Tensor, int]:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise TensorError("Every input needs a 'name', a 'shape', a 'datatype' and 'data'.")
    name, datatype, shape = raw["name"], raw.get("datatype"), raw.get("shape")
    if datatype not in STRUCT_CODES:
        raise TensorError(f"Input '{name}' has datatype {datatype!r}: use one of "
                          f"{', '.join(STRUCT_CODES)}.")
    if type(shape) is not list or not set(map(type, shape)) <= {int} or min(shape, default=0) < 0:
        raise TensorError(f"Input '{name}' needs a 'shape': a list of sizes (whole numbers, "
                          f"none negative), not {shape!r}.")
    parameters = raw.get("parameters") or {}
    size = parameters.get("binary_data_size") if isinstance(parameters, dict) else None
    count = math.prod(shape)
    if size is not None:
        flat = _from_binary(name, datatype, binary[offset:offset + size], size, count)
        used = size
    elif "data" in raw:
        flat, used = _flat(raw["data"]), 0
        _check(name, datatype, flat)
    else:
        raise TensorError(f"Input '{name}' has no 'data' (nor a binary_data_size).")
    if len(flat) != count:
        raise TensorError(f"Input '{name}' has shape {shape} ({count} elements) but "
                          f"{len(flat)} data elements: make them agree.")
    return Tensor(name, reshape(flat, shape), datatype, tuple(shape), dict(parameters)), used


def _flat(data: Any) -> list[Any]:
    """``data``'s elements in row-major order (the list itself when it is already flat)."""
    if type(data) is list and list not in set(map(type, data)):
        return data
    return list(_flatten(data))


def _flatten(data: Any) -> Iterator[Any]:
    if not isinstance(data, list):
        yield data
        return
    for item in data:
        if isinstance(item, list):
            yield from _flatten(item)
        else:
            yield item


def _check(name: str, datatype: str, flat: list[Any]) -> None:
    """Every element is of ``datatype`` (and, for integers, in its range)."""
    kinds = set(map(type, flat))  # one pass in C: most requests stop here
    if kinds <= _ALLOWED[datatype] and (datatype not in _INT_RANGES or not flat or
                                        (_INT_RANGES[datatype][0] <= min(flat) and
                                        max(flat) <= _INT_RANGES[datatype][1])):
        return
    if datatype == "BYTES":
        bad = next((x for x in flat if not isinstance(x, str)), _NONE)
    elif datatype == "BOOL":
        bad = next((x for x in flat if x is not True and x is not False), _NONE)
    elif datatype.startswith("FP"):
        bad = next((x for x in flat if type(x) is not float and type(x) is not int), _NONE)
    else:
        low, high = _INT_RANGES[datatype]
        bad = next((x for x in flat if type(x) is not int or not low <= x <= high), _NONE)
    if bad is not _NONE:
        raise TensorError(f"Input '{name}' is {datatype} but holds {json.dumps(bad)}: send "
                          f"{_EXPECTED.get(datatype[:2], 'whole numbers in its range')}, or "
                          "change its datatype.")


_NONE = object()
_ALLOWED: dict[str, set[type]] = {
    name: {str} if name == "BYTES" else {bool} if name == "BOOL" else
    {float, int} if name.startswith("FP") else {int} for name in STRUCT_CODES}
_EXPECTED = {"BY": "strings", "BO": "true/false", "FP": "numbers"}


def _from_binary(name: str, datatype: str, data: bytes, size: Any, count: int) -> list[Any]:
    if type(size) is not int or size < 0 or len(data) != size:
        raise TensorError(f"Input '{name}' says binary_data_size {size!r} but the body holds "
                          f"{len(data)} more bytes.")
    if datatype == "BYTES":
        return _bytes_elements(name, data)
    width = struct.calcsize(STRUCT_CODES[datatype])
    if size != count * width:
        raise TensorError(f"Input '{name}' has shape for {count} {datatype} elements "
                          f"({count * width} bytes) but binary_data_size {size}.")
    return list(struct.unpack(f"<{count}{STRUCT_CODES[datatype]}", data))


def _bytes_elements(name: str, data: bytes) -> list[Any]:
    """BYTES elements: each a 4-byte little-endian length and that many bytes (text if UTF-8)."""
    elements: list[Any] = []
    at = 0
    while at < len(data):
        if at + 4 > len(data):
            raise TensorError(f"Input '{name}': BYTES data ends inside a length prefix.")
        (length,) = struct.unpack_from("<I", data, at)
        chunk = data[at + 4:at + 4 + length]
        if len(chunk) != length:
            raise TensorError(f"Input '{name}': a BYTES element is longer than the data.")
        try:
            elements.append(chunk.decode("utf-8"))
        except UnicodeDecodeError:
            elements.append(chunk)
        at += 4 + length
    return elements


def numbers_in_shape(raw: Any) -> Any:
    """The value of ``raw``, one input of numbers in JSON (rows of features, the usual request),
    in its shape; None when it is anything else, for :func:`decode_inputs` to decide (which is
    also where numbers beyond 64 bits go).

    What :func:`decode_inputs` would make of such an input, checked in a few passes in C: a name,
    a numeric datatype, a shape of one or two sizes, flat ``data`` of that many elements of the
    datatype's kinds (integers in its range), no parameters.
    """
    if type(raw) is not dict or raw.keys() != _PLAIN_KEYS:
        return None
    data, shape, datatype = raw["data"], raw["shape"], raw["datatype"]
    allowed = _PLAIN_KINDS.get(datatype)
    if allowed is None or type(data) is not list or type(shape) is not list or \
            type(raw["name"]) is not str or not set(map(type, data)) <= allowed:
        return None
    if len(shape) == 1:
        if shape[0] != len(data) or type(shape[0]) is not int:
            return None
    elif len(shape) != 2 or type(shape[0]) is not int or type(shape[1]) is not int or \
            shape[0] < 0 or shape[1] <= 0 or shape[0] * shape[1] != len(data):
        return None
    if data:
        # integers in the datatype's range; numbers beyond 64 bits, which a reader may have
        # turned from integers into floats, to decode_inputs
        low, high = _INT_RANGES.get(datatype, _FLOAT_EXACT)
        if not low <= min(data) <= max(data) <= high:
            return None
    return reshape(data, shape)


_PLAIN_KEYS = {"name", "shape", "datatype", "data"}
_FLOAT_EXACT = (-(2 ** 63), 2 ** 63 - 1)
_PLAIN_KINDS: dict[str, set[type]] = {
    name: {int} if name in ("INT32", "INT64") else {float, int}
    for name in ("INT32", "INT64", "FP32", "FP64")}


def reshape(flat: list[Any], shape: Sequence[int]) -> Any:
    """``flat`` (row-major) as nested lists of ``shape``; shape ``[]`` is the one element."""
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return flat
    if len(shape) == 2:  # the usual rows of features: one slice per row
        width = shape[1]
        return [flat[i:i + width] for i in range(0, shape[0] * width, width)] if width else \
            [[] for _ in range(shape[0])]
    step = math.prod(shape[1:])
    return [reshape(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def split_request(body: bytes, header_length: str | None) -> tuple[dict[str, Any], bytes]:
    """The JSON request and the binary data after it (``Inference-Header-Content-Length``).

    Raises:
        TensorError: the header length or the JSON is not usable.
    """
    cut = len(body)
    if header_length is not None:
        if not header_length.isdigit() or int(header_length) > len(body):
            raise TensorError(f"Inference-Header-Content-Length {header_length!r} does not fit "
                              f"a body of {len(body)} bytes.")
        cut = int(header_length)
    try:
        request = codec.loads(body[:cut].decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise TensorError(f"The request is not JSON: {e}") from None
    if not isinstance(request, dict):
        raise TensorError("The request must be a JSON object with 'inputs'.")
    return request, body[cut:]


# Outputs


def encode(name: str, value: Any) -> dict[str, Any]:
    """One output tensor (``name``, ``datatype``, ``shape``, flat ``data``) for ``value``.

    numpy arrays keep their dtype; nested lists of one kind become BOOL, INT64, FP64 or BYTES in
    their shape; anything else (ragged lists, records, None) one BYTES element holding its JSON
    text, marked ``parameters.content_type = "json"``.
    """
    dtype = getattr(value, "dtype", None) if type(value) is not list else None
    if dtype is not None and hasattr(value, "shape") and hasattr(value, "tolist"):
        datatype = NUMPY_TYPES.get(str(dtype))
        if datatype is not None:
            shape = list(value.shape)
            flat = value.reshape(-1).tolist() if shape else [value.tolist()]
            return {"name": name, "datatype": datatype, "shape": shape, "data": flat}
        value = value.tolist()
    elif type(value) is not list and hasattr(value, "tolist"):  # a Series, a numpy scalar
        value = value.tolist()
    found = _rectangular(value)
    if found is None:
        return {"name": name, "datatype": "BYTES", "shape": [1],
                "data": [json.dumps(value, default=_plain)],
                "parameters": {"content_type": JSON_CONTENT}}
    shape, flat, datatype = found
    return {"name": name, "datatype": datatype, "shape": shape, "data": flat}


def flat_kind(value: Any) -> tuple[list[int], str] | None:
    """(shape, datatype) of ``value`` when it is a flat list of one kind (the usual answer),
    found in one pass in C; else None."""
    if type(value) is list:
        types = set(map(type, value))
        if len(types) == 1:
            kind = _KINDS.get(types.pop())
            if kind is not None:
                return [len(value)], kind
    return None


def _rectangular(value: Any) -> tuple[list[int], list[Any], str] | None:
    """(shape, flat elements, datatype) when ``value`` is an array of one kind, else None."""
    found = flat_kind(value)
    if found is not None:
        return found[0], value, found[1]
    shape: list[int] = []
    probe = value
    while isinstance(probe, list | tuple):
        shape.append(len(probe))
        if not probe:
            break
        probe = probe[0]
    flat = list(_flatten_exact(value, shape, 0)) if shape else [value]
    if flat and flat[-1] is _RAGGED:
        return None
    kinds = {_KINDS.get(type(x), "") for x in flat}
    if "" in kinds or (len(kinds) > 1 and kinds != {"INT64", "FP64"}):
        return None
    datatype = "FP64" if "FP64" in kinds or not kinds else str(kinds.pop())
    if datatype == "FP64":
        flat = [float(x) for x in flat]
    return shape, flat, datatype


_RAGGED = object()
_KINDS = {bool: "BOOL", int: "INT64", float: "FP64", str: "BYTES"}


def _flatten_exact(value: Any, shape: list[int], depth: int) -> Iterator[Any]:
    """The elements of ``value`` in row-major order, :data:`_RAGGED` last if not of ``shape``."""
    if depth == len(shape):
        if isinstance(value, list | tuple):
            yield _RAGGED
        else:
            yield value
        return
    if not isinstance(value, list | tuple) or len(value) != shape[depth]:
        yield _RAGGED
        return
    for item in value:
        for element in _flatten_exact(item, shape, depth + 1):
            if element is _RAGGED:
                yield _RAGGED
                return
            yield element


def _plain(value: Any) -> Any:
    for attr in ("tolist", "item", "isoformat"):
        if hasattr(value, attr):
            return getattr(value, attr)()
    return str(value)


def to_binary(output: dict[str, Any]) -> bytes:
    """``output``'s data as Triton's binary extension lays it out (little-endian, row-major)."""
    datatype, data = output["datatype"], output["data"]
    if datatype == "BYTES":
        parts: list[bytes] = []
        for item in data:
            raw = item if isinstance(item, bytes) else str(item).encode("utf-8")
            parts += (struct.pack("<I", len(raw)), raw)
        return b"".join(parts)
    return struct.pack(f"<{len(data)}{STRUCT_CODES[datatype]}", *data)


def decode_output(output: dict[str, Any], binary: bytes = b"") -> Any:
    """An output tensor back to the value it was made from (the client's side of :func:`encode`).

    Raises:
        TensorError: the tensor does not hold what its datatype and shape say.
    """
    name, datatype, shape = output.get("name", "?"), output.get("datatype"), output.get("shape")
    if datatype not in STRUCT_CODES or not isinstance(shape, list):
        raise TensorError(f"Output '{name}' has no usable datatype and shape.")
    size = (output.get("parameters") or {}).get("binary_data_size")
    flat = _from_binary(name, datatype, binary, size, math.prod(shape)) if size is not None \
        else list(_flatten(output.get("data", [])))
    if (output.get("parameters") or {}).get("content_type") == JSON_CONTENT and len(flat) == 1:
        return json.loads(flat[0])
    if len(flat) != math.prod(shape):
        raise TensorError(f"Output '{name}' has shape {shape} but {len(flat)} elements.")
    return reshape(flat, shape)
