"""Models that describe themselves, so that they deploy without a hand-written ``score.py``.

:func:`describe` recognises an MLflow model folder (an ``MLmodel`` file) or an ONNX file, given
as a path or as a workspace's registered model (whose folder holds the file or folder), and
reads what it says without Docker. :func:`save_estimator` does the same for a fitted estimator
object of the kernel, after saving it. The generated scripts are written by
:mod:`jupyter_deploy.build.entry_scripts`.
"""

from __future__ import annotations

from pathlib import Path

from jupyter_deploy.spec.models.description import ModelDescription
from jupyter_deploy.spec.models.estimator import (
    check_estimator,
    deployed_object,
    remember_deployed,
    save_estimator,
)
from jupyter_deploy.spec.models.mlflow_folder import describe_mlflow, is_mlflow_folder
from jupyter_deploy.spec.models.onnx_file import describe_onnx, is_onnx_file
from jupyter_deploy.spec.models.tensors import TensorSpec

#: What is ignored when looking for the one model inside a folder.
_NOISE = {"__pycache__", ".ipynb_checkpoints", ".git", ".DS_Store"}

__all__ = [
    "ModelDescription",
    "TensorSpec",
    "check_estimator",
    "deployed_object",
    "describe",
    "remember_deployed",
    "save_estimator",
    "self_describing",
]


def describe(path: str | Path) -> ModelDescription | None:
    """The description of the model at ``path``, or None when it does not describe itself.

    ``path`` is what is copied into the image as the model directory: an MLflow folder, an
    ``.onnx`` file, or a folder holding exactly one of them (a registered model's version).

    Raises:
        ConfigurationError: it looks like an MLflow or ONNX model but is not a valid one.
    """
    found = _locate(Path(path))
    if found is None:
        return None
    model, location = found
    if model.is_dir():
        return describe_mlflow(model, location)
    return describe_onnx(model, location)


def self_describing(path: str | Path) -> bool:
    """Whether ``path`` holds an MLflow folder or an ONNX file (without reading it whole)."""
    return _locate(Path(path)) is not None


def _locate(path: Path) -> tuple[Path, str] | None:
    """The model inside ``path`` and its place relative to ``path`` (``.`` for itself)."""
    if is_onnx_file(path):
        return path, path.name
    if not path.is_dir():
        return None
    if is_mlflow_folder(path):
        return path, "."
    entries = [p for p in path.iterdir() if p.name not in _NOISE]
    if len(entries) == 1 and (is_mlflow_folder(entries[0]) or is_onnx_file(entries[0])):
        return entries[0], entries[0].name
    onnx_files = [p for p in entries if is_onnx_file(p)]
    if len(onnx_files) == 1 and not any(is_mlflow_folder(p) for p in entries):
        return onnx_files[0], onnx_files[0].name
    return None
