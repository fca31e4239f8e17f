"""``azureml.core.webservice``: local web services over :class:`jupyter_deploy.Deployment`."""

from __future__ import annotations

from jupyter_deploy.azureml.core.webservice.local import (
    LocalWebservice,
    LocalWebserviceDeploymentConfiguration,
)
from jupyter_deploy.azureml.core.webservice.webservice import Webservice

__all__ = ["LocalWebservice", "LocalWebserviceDeploymentConfiguration", "Webservice"]
