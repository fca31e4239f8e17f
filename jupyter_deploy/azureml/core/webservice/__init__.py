"""``azureml.core.webservice``: local web services over :class:`jupyter_deploy.Deployment`, and the
SDK's AKS and ACI deployment configurations for cluster targets."""

from __future__ import annotations

from jupyter_deploy.azureml.core.webservice.aci import (
    AciServiceDeploymentConfiguration,
    AciWebservice,
)
from jupyter_deploy.azureml.core.webservice.aks import (
    AksServiceDeploymentConfiguration,
    AksWebservice,
)
from jupyter_deploy.azureml.core.webservice.local import (
    LocalWebservice,
    LocalWebserviceDeploymentConfiguration,
)
from jupyter_deploy.azureml.core.webservice.webservice import Webservice

__all__ = [
    "AciServiceDeploymentConfiguration",
    "AciWebservice",
    "AksServiceDeploymentConfiguration",
    "AksWebservice",
    "LocalWebservice",
    "LocalWebserviceDeploymentConfiguration",
    "Webservice",
]
