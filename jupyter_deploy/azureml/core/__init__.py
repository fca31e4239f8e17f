"""``azureml.core``: the names the seeds import from the package itself."""

from __future__ import annotations

from .conda_dependencies import CondaDependencies
from .container_registry import ContainerRegistry
from .environment import Environment
from .model import InferenceConfig, Model
from .webservice import LocalWebservice, Webservice
from .workspace import Workspace

__all__ = [
    "CondaDependencies",
    "ContainerRegistry",
    "Environment",
    "InferenceConfig",
    "LocalWebservice",
    "Model",
    "Webservice",
    "Workspace",
]
