"""What a self-describing model says about itself, in one frozen value.

An MLflow folder, an ONNX file and a fitted estimator each know how they are loaded, what they
take and give, and what they need installed. :class:`ModelDescription` holds exactly that, read
on the host without Docker, so that three consumers share one source: the generated scoring
script (how to load and call it), the environment (the requirements) and the protocol layer
(:meth:`ModelDescription.metadata`, the Open Inference Protocol's model metadata, which the
generated script carries into the image as ``MODEL_METADATA``, where the server reads it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from jupyter_deploy.spec.models.tensors import TensorSpec

Kind = Literal["mlflow", "onnx", "estimator"]
#: How the protocol's ``platform`` field names each kind of model.
PLATFORMS: dict[str, str] = {"mlflow": "mlflow", "onnx": "onnxruntime_onnx",
                             "estimator": "sklearn"}


@dataclass(frozen=True)
class ModelDescription:
    """A model that needs no hand-written ``score.py``.

    Attributes:
        kind: ``mlflow``, ``onnx`` or ``estimator``.
        path: The model's folder (MLflow) or file (ONNX, a saved estimator) on the host.
        location: Where it is relative to ``AZUREML_MODEL_DIR`` in the image (``.`` when the
            model's files are the model directory itself).
        inputs: What it takes (columns or tensors), in order; empty when it does not say.
        outputs: What it gives; empty when it does not say.
        requirements: pip requirements the image needs to load and call it.
        conda: conda specs from an MLflow ``conda.yaml`` when that is all the model has.
        requirements_source: Where the requirements were read (a file, or "this kernel").
        input_example: A JSON-ready sample request value (rows, records, a dict of tensors).
        example_kind: ``dataframe`` (``{"columns", "data"}``), ``ndarray``, ``json`` or ``""``.
        details: Format facts the script needs (flavour, loader, feature names…).
    """

    kind: Kind
    path: Path
    location: str
    inputs: tuple[TensorSpec, ...] = ()
    outputs: tuple[TensorSpec, ...] = ()
    requirements: tuple[str, ...] = ()
    conda: tuple[str, ...] = ()
    requirements_source: str = ""
    input_example: Any = None
    example_kind: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))
        for name in ("inputs", "outputs", "requirements", "conda"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    @property
    def platform(self) -> str:
        """The protocol's ``platform`` (``mlflow``, ``onnxruntime_onnx``, ``sklearn``)."""
        return PLATFORMS[self.kind]

    @property
    def has_columns(self) -> bool:
        """Whether the model takes a table (named columns) rather than tensors."""
        return bool(self.inputs) and all(s.structure == "column" for s in self.inputs)

    def metadata(self) -> dict[str, Any]:
        """The Open Inference Protocol's model metadata, less the name and versions the
        server adds (``platform``, ``inputs``, ``outputs``; ``parameters.content_type`` is
        ``pd`` when the inputs are a table's columns). The generated script carries it as
        ``MODEL_METADATA``, where the protocols read it."""
        data: dict[str, Any] = {"platform": self.platform,
                                "inputs": [s.to_metadata() for s in self.inputs],
                                "outputs": [s.to_metadata() for s in self.outputs]}
        if self.has_columns:
            data["parameters"] = {"content_type": "pd"}
        return data
