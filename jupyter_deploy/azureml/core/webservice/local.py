"""``azureml.core.webservice.local``: ``LocalWebservice`` and its deployment configuration."""

from __future__ import annotations

from dataclasses import dataclass

from jupyter_deploy.azureml.core.webservice.webservice import Webservice


@dataclass(frozen=True)
class LocalWebserviceDeploymentConfiguration:
    """Where a local service listens: a host port on 127.0.0.1 (a free one when None)."""

    port: int | None = None


class LocalWebservice(Webservice):
    """A service running in the local engine."""

    @staticmethod
    def deploy_configuration(port: int | None = None) -> LocalWebserviceDeploymentConfiguration:
        """The configuration ``Model.deploy`` takes (``port``: host port, None = any free)."""
        return LocalWebserviceDeploymentConfiguration(port)
