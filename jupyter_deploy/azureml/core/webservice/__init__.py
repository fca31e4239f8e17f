"""``azureml.core.webservice``: local web services over :class:`jupyter_deploy.Deployment`."""

from __future__ import annotations

from .local import LocalWebservice, LocalWebserviceDeploymentConfiguration
from .webservice import Webservice

__all__ = ["LocalWebservice", "LocalWebserviceDeploymentConfiguration", "Webservice"]
