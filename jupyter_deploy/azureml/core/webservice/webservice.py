"""``azureml.core.webservice.webservice``: a handle on a running service, found by name.

All behaviour is the native :class:`~jupyter_deploy.services.deployment.Deployment`'s; this class
only renames it (``state``, ``run``, ``get_logs``, ``delete``…) the way SDK code expects.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from jupyter_deploy.services.deployment import Deployment, DeploymentCollection
from jupyter_deploy.services.workspace import Workspace as NativeWorkspace


class Webservice:
    """A deployed service (``Webservice(ws, "myservice")`` finds one by name).

    Raises:
        ServiceNotFoundError: no service of that name.
    """

    def __init__(self, workspace: NativeWorkspace, name: str) -> None:
        self.workspace = workspace
        self._deployment: Deployment = DeploymentCollection().get(name)
        self._log: list[str] = []

    @classmethod
    def _of(cls, workspace: NativeWorkspace, deployment: Deployment, log: list[str]) -> Any:
        made = cls.__new__(cls)
        made.workspace, made._deployment, made._log = workspace, deployment, log
        return made

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, state={self.state!r})"

    @staticmethod
    def list(workspace: NativeWorkspace) -> list[Webservice]:
        """Every service in the engine."""
        return [Webservice._of(workspace, d, []) for d in DeploymentCollection().list()]

    @property
    def deployment(self) -> Deployment:
        """The native handle."""
        return self._deployment

    @property
    def name(self) -> str:
        """The service's name."""
        return self._deployment.name

    @property
    def state(self) -> str:
        """``Transitioning``, ``Healthy``, ``Unhealthy``, ``Failed`` or ``Deleted``."""
        return str(self._deployment.state)

    @property
    def scoring_uri(self) -> str:
        """Where to POST scoring requests."""
        return self._deployment.scoring_uri

    @property
    def swagger_uri(self) -> str:
        """The service's OpenAPI document."""
        return str(self._deployment.swagger_uri)

    @property
    def port(self) -> int:
        """The host port."""
        return self._deployment.port

    def wait_for_deployment(self, show_output: bool = False, timeout_sec: float | None = None
                            ) -> None:
        """Wait until the service answers; print the deployment's log when asked.

        Raises:
            ContainerError, ContainerNotReadyError: it crashed or did not answer in time.
        """
        if show_output:
            for line in self._log:
                print(line)
        self._deployment.wait_until_ready(timeout_sec, print if show_output else None)
        if show_output:
            print(f"Local webservice is running at {self.scoring_uri}")

    def run(self, input_data: Any) -> Any:
        """Score ``input_data`` (a JSON string or a JSON-ready object); return the answer.

        Raises:
            ScoringError: the service answered with an error.
        """
        data = json.loads(input_data) if isinstance(input_data, str | bytes) else input_data
        return self._deployment.score(data).value

    def get_logs(self, num_lines: int = 5000) -> str:
        """The service's log tail."""
        return self._deployment.logs(num_lines)

    def reload(self, wait: bool = False) -> None:
        """Copy the current entry script into the service and restart its server."""
        self._deployment.reload()

    def update(self, models: Any = None, inference_config: Any = None,
               num_replicas: int | None = None, **_ignored: Any) -> None:
        """Rebuild with new models and/or inference configuration, on the same port (a rolling
        update on a cluster); ``num_replicas`` scales a cluster service.

        Raises:
            DeployError: the new version failed (the old one runs again).
        """
        if num_replicas is not None:
            self._deployment.scale(num_replicas)
            if models is None and inference_config is None:
                return
        log: Callable[[str], None] = self._log.append
        kwargs: dict[str, Any] = {"log": log}
        if models is not None:
            kwargs["models"] = [m.registered.files() for m in models]
        if inference_config is not None:
            spec = inference_config.package_spec(self.name, models or [])
            kwargs.update(environment=spec.environment, entry_script=spec.entry_script,
                          source_dir=spec.source_dir)
        self._deployment.update(**kwargs)

    def delete(self) -> None:
        """Remove the service and everything it made (containers, replicas, keys, network)."""
        self._deployment.remove()

    def get_keys(self) -> tuple[str, str]:
        """The primary and secondary keys of a service deployed with auth on.

        Raises:
            ConfigurationError: the service has no keys (auth off, or a local service).
        """
        return self._deployment.get_keys()

    def regen_key(self, key: str, set_key: str | None = None) -> None:
        """Renew ``key`` ("Primary" or "Secondary"), to ``set_key`` or a random value; callers
        using the other key see no failed request meanwhile.

        Raises:
            ConfigurationError: the service has no keys, or ``key`` is neither.
        """
        self._deployment.regen_key(key, set_key)

    @property
    def num_replicas(self) -> int:
        """The replicas the service asks for."""
        return self._deployment.replicas[1]

    def serialize(self) -> dict[str, Any]:
        """A plain description."""
        return {"name": self.name, "state": self.state, "scoringUri": self.scoring_uri,
                "computeType": self._deployment.target.kind,
                "numReplicas": self._deployment.replicas[1]}
