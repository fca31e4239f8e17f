"""``azureml.core``: the names the seeds import from the package itself."""

from __future__ import annotations

from jupyter_deploy.azureml.core.compute import ComputeTarget
from jupyter_deploy.azureml.core.conda_dependencies import CondaDependencies
from jupyter_deploy.azureml.core.container_registry import ContainerRegistry
from jupyter_deploy.azureml.core.environment import Environment
from jupyter_deploy.azureml.core.model import InferenceConfig, Model
from jupyter_deploy.azureml.core.webservice import LocalWebservice, Webservice
from jupyter_deploy.azureml.core.workspace import Workspace

__all__ = [
    "ComputeTarget",
    "CondaDependencies",
    "ContainerRegistry",
    "Environment",
    "InferenceConfig",
    "LocalWebservice",
    "Model",
    "Webservice",
    "Workspace",
]
