"""``azureml.core.compute``: ``ComputeTarget(ws, name)`` and ``ComputeTarget.list(ws)``.

A compute target is a name in the workspace's target list
(:class:`~jupyter_deploy.services.compute.ComputeTargets`): ``local``, ``swarm`` (this engine's
swarm) or an attached Kubernetes context. ``Model.deploy(…, deployment_target=target)`` deploys
there; nothing else about it is remote.
"""

from __future__ import annotations

from typing import Any

from jupyter_deploy.services.compute import ComputeTargets, ComputeTargetSpec
from jupyter_deploy.services.workspace import Workspace as NativeWorkspace


class ComputeTarget:
    """A compute target of the workspace, found by name.

    Raises:
        ConfigurationError: no target of that name (the message lists those there are).
    """

    def __init__(self, workspace: NativeWorkspace, name: str) -> None:
        self.workspace = workspace
        self._spec = ComputeTargets(workspace).get(name)

    @classmethod
    def _of(cls, workspace: NativeWorkspace, spec: ComputeTargetSpec) -> ComputeTarget:
        made = cls.__new__(cls)
        made.workspace, made._spec = workspace, spec
        return made

    def __repr__(self) -> str:
        return f"ComputeTarget(name={self.name!r}, type={self.type!r})"

    @property
    def name(self) -> str:
        """The target's name (what ``--ct`` takes)."""
        return self._spec.name

    @property
    def type(self) -> str:
        """``local``, ``swarm`` or ``kubernetes``."""
        return self._spec.kind

    @staticmethod
    def list(workspace: NativeWorkspace) -> list[ComputeTarget]:
        """Every target of the workspace, ``local`` first."""
        return [ComputeTarget._of(workspace, s) for s in ComputeTargets(workspace).list()]

    def deploy_target(self, config: Any = None) -> Any:
        """The native deploy target, configured with ``config``."""
        return ComputeTargets(self.workspace).target(self.name, config)
