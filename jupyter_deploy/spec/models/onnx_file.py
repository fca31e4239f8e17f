"""ONNX files: inputs, outputs, element types and shapes, read from the graph on the host.

The ``onnx`` package reads the graph without running anything; when only ``onnxruntime`` is
installed, a session reads the same facts. Either is imported only here, when an ``.onnx`` file
is deployed without a script. The image serves the file with ONNX Runtime at the host's
version (and the host's numpy), so what answers in the service is what answered in the kernel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.spec.models.description import ModelDescription
from jupyter_deploy.spec.models.requirements import host_pin
from jupyter_deploy.spec.models.tensors import TensorSpec

SUFFIX = ".onnx"
#: ``TensorProto`` element types (and ONNX Runtime's names for them) → the protocol's datatypes.
ELEMENT_TYPES: dict[int, str] = {
    1: "FP32", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32", 7: "INT64",
    8: "BYTES", 9: "BOOL", 10: "FP16", 11: "FP64", 12: "UINT32", 13: "UINT64",
    16: "FP32",  # bfloat16: the protocol server has no BF16; scripts cast to float32
}
RUNTIME_TYPES: dict[str, str] = {
    "float": "FP32", "uint8": "UINT8", "int8": "INT8", "uint16": "UINT16", "int16": "INT16",
    "int32": "INT32", "int64": "INT64", "string": "BYTES", "bool": "BOOL", "float16": "FP16",
    "double": "FP64", "uint32": "UINT32", "uint64": "UINT64", "bfloat16": "FP32",
}
_ELEMENT_NAMES = {1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32",
                  7: "int64", 8: "string", 9: "bool", 10: "float16", 11: "double",
                  12: "uint32", 13: "uint64", 16: "bfloat16"}


def is_onnx_file(path: Path) -> bool:
    """Whether ``path`` is a file named ``*.onnx`` (its bytes are checked by describing it)."""
    return path.is_file() and path.suffix.lower() == SUFFIX


def describe_onnx(path: Path, location: str) -> ModelDescription:
    """Describe the ONNX model in ``path`` (found at ``location`` in the model directory).

    Raises:
        ConfigurationError: the file is not an ONNX model, or neither ``onnx`` nor
            ``onnxruntime`` is installed here to read it.
    """
    try:
        inputs, outputs = _from_onnx(path)
    except ImportError:
        inputs, outputs = _from_runtime(path)
    if not outputs:
        raise _not_onnx(path, "the graph has no outputs")
    return ModelDescription(
        "onnx", path, location, inputs, outputs,
        (host_pin("onnxruntime"), host_pin("numpy")), (), "the ONNX Runtime and numpy here",
        details={"file": path.name})


def _from_onnx(path: Path) -> tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...]]:
    import onnx  # the caller falls back to onnxruntime when this is missing

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as e:  # protobuf's DecodeError and friends: any means "not ONNX"
        raise _not_onnx(path, str(e) or type(e).__name__) from e
    if model.ir_version <= 0 or not model.opset_import:
        raise _not_onnx(path, "it has no IR version or operator set")
    fed = {init.name for init in model.graph.initializer}
    inputs = tuple(_spec(v.name, v.type) for v in model.graph.input if v.name not in fed)
    return inputs, tuple(_spec(v.name, v.type) for v in model.graph.output)


def _spec(name: str, proto: Any) -> TensorSpec:
    if proto.HasField("tensor_type"):
        tensor = proto.tensor_type
        shape = tuple(d.dim_value if d.HasField("dim_value") else -1 for d in tensor.shape.dim)
        return TensorSpec(name, ELEMENT_TYPES.get(tensor.elem_type, "BYTES"), shape)
    return TensorSpec(name, "BYTES", (-1,), _type_text(proto))


def _type_text(proto: Any) -> str:
    """ONNX Runtime's spelling of a type: ``seq(map(int64,tensor(float)))``."""
    if proto.HasField("tensor_type"):
        return f"tensor({_ELEMENT_NAMES.get(proto.tensor_type.elem_type, 'unknown')})"
    if proto.HasField("sequence_type"):
        return f"seq({_type_text(proto.sequence_type.elem_type)})"
    if proto.HasField("map_type"):
        key = _ELEMENT_NAMES.get(proto.map_type.key_type, "unknown")
        return f"map({key},{_type_text(proto.map_type.value_type)})"
    if proto.HasField("optional_type"):
        return f"optional({_type_text(proto.optional_type.elem_type)})"
    return "unknown"


def _from_runtime(path: Path) -> tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...]]:
    try:
        import onnxruntime
    except ImportError as e:
        raise ConfigurationError(
            f"reading the inputs and outputs of {path} needs the onnx package (or onnxruntime) "
            "in this Python: `pip install onnx` (or `pip install 'jupyter_deploy[models]'`), "
            "or deploy it with your own score.py (entry_script=…).") from e
    try:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as e:  # ONNX Runtime raises its own Fail/InvalidProtobuf types
        raise _not_onnx(path, str(e).strip().splitlines()[-1] if str(e).strip() else "") from e

    def spec(arg: Any) -> TensorSpec:
        shape = tuple(d if isinstance(d, int) else -1 for d in (arg.shape or ()))
        if arg.type.startswith("tensor("):
            return TensorSpec(arg.name, RUNTIME_TYPES.get(arg.type[7:-1], "BYTES"), shape)
        return TensorSpec(arg.name, "BYTES", (-1,), arg.type)

    return (tuple(spec(a) for a in session.get_inputs()),
            tuple(spec(a) for a in session.get_outputs()))


def _not_onnx(path: Path, reason: str) -> ConfigurationError:
    return ConfigurationError(
        f"{path} is not an ONNX model ({reason}): check that the file was exported to ONNX "
        "(torch.onnx.export, skl2onnx, tf2onnx…) and copied whole, or deploy it with your own "
        "score.py (entry_script=…).")
