"""Named, typed, shaped values: a model's inputs and outputs in one vocabulary for every format.

MLflow signatures speak numpy dtypes and column types (``double``, ``long``), ONNX graphs speak
``TensorProto`` element types, estimators speak numpy. The Open Inference Protocol's datatype
names (``FP32``, ``INT64``, ``BYTES``…) are the common tongue here, because the protocol work
reads these very values to answer its model-metadata requests; the numpy name of each is kept
beside it for the generated scoring scripts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: numpy dtype name → Open Inference Protocol datatype.
NUMPY_TO_OIP: dict[str, str] = {
    "bool": "BOOL", "uint8": "UINT8", "uint16": "UINT16", "uint32": "UINT32",
    "uint64": "UINT64", "int8": "INT8", "int16": "INT16", "int32": "INT32", "int64": "INT64",
    "float16": "FP16", "float32": "FP32", "float64": "FP64", "object": "BYTES", "str": "BYTES",
    "bytes": "BYTES",
}
#: Open Inference Protocol datatype → the numpy dtype a script casts to.
OIP_TO_NUMPY: dict[str, str] = {
    "BOOL": "bool", "UINT8": "uint8", "UINT16": "uint16", "UINT32": "uint32", "UINT64": "uint64",
    "INT8": "int8", "INT16": "int16", "INT32": "int32", "INT64": "int64", "FP16": "float16",
    "FP32": "float32", "FP64": "float64", "BYTES": "object",
}
#: The zero of the datatypes whose zero is not the number 0.
ZEROS: dict[str, Any] = {"BOOL": False, "BYTES": ""}
#: Structures a value can have besides a plain tensor.
TENSOR, COLUMN = "tensor", "column"


@dataclass(frozen=True)
class TensorSpec:
    """One input or output of a model.

    Attributes:
        name: Its name (a column's, a graph input's, ``input-0`` when the model gives none).
        datatype: The Open Inference Protocol datatype (``FP32``, ``INT64``, ``BYTES``…).
        shape: The shape, ``-1`` for any size along an axis.
        structure: ``tensor``; ``column`` for one column of a table (shape ``[-1]``); or the
            model's own type text for anything else (``seq(map(int64,tensor(float)))`` for a
            scikit-learn converter's ZipMap), which is sent as JSON.
    """

    name: str
    datatype: str
    shape: tuple[int, ...] = (-1,)
    structure: str = TENSOR

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(n) for n in self.shape))

    @property
    def numpy_dtype(self) -> str:
        """The numpy dtype a value of this input is cast to."""
        return OIP_TO_NUMPY.get(self.datatype, "object")

    @property
    def is_tensor(self) -> bool:
        """Whether it is a plain tensor (or one column), not a map or a sequence."""
        return self.structure in (TENSOR, COLUMN)

    def to_metadata(self) -> dict[str, Any]:
        """The Open Inference Protocol's ``{"name", "datatype", "shape"}`` for it."""
        data: dict[str, Any] = {"name": self.name, "datatype": self.datatype,
                                "shape": list(self.shape)}
        if not self.is_tensor:
            data["parameters"] = {"content_type": "json", "structure": self.structure}
        return data

    def zeros(self, rows: int = 1) -> Any:
        """A JSON-ready sample of zeros (empty strings, false) in this shape, ``rows`` for -1."""
        if not self.is_tensor:
            return []
        value: Any = ZEROS.get(self.datatype, 0.0 if self.datatype.startswith("FP") else 0)
        for size in reversed(self.shape or (1,)):
            value = [value] * (rows if size < 0 else size)
        return value


def oip_datatype(numpy_name: str) -> str:
    """The protocol's datatype for a numpy dtype name (``BYTES`` for strings and objects)."""
    name = numpy_name.lower().removeprefix("numpy.")
    if name.startswith(("<u", "<s", "|s", "str", "unicode")):
        return "BYTES"
    return NUMPY_TO_OIP.get(name, "BYTES")
