"""``azureml.core.workspace``: the local workspace under the SDK's constructors.

``Workspace.from_config()``, ``Workspace.get(name)`` and ``Workspace(subscription_id,
resource_group, workspace_name)`` all give a local
:class:`jupyter_deploy.services.workspace.Workspace`; the cloud identifiers are accepted and
ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_deploy.config import data_dir
from jupyter_deploy.services.workspace import Workspace as NativeWorkspace


class Workspace(NativeWorkspace):
    """A local workspace (models, environments and the workspace registry)."""

    def __init__(
        self, subscription_id: str | None = None, resource_group: str | None = None,
        workspace_name: str | None = None, path: str | Path | None = None, **_ignored: Any,
    ) -> None:
        name = workspace_name or "default"
        root = path or (data_dir() / "workspaces" / name if workspace_name else None)
        super().__init__(root, name)

    @classmethod
    def from_config(cls, path: str | Path | None = None, **_ignored: Any) -> Workspace:
        """The workspace a ``config.json`` here or above names, else the default one."""
        native = NativeWorkspace.from_config(path)
        return cls(workspace_name=native.name, path=native.root)

    @staticmethod
    def get(name: str, **_ignored: Any) -> Workspace:
        """The local workspace called ``name``."""
        return Workspace(workspace_name=name)

    @property
    def models(self) -> dict[str, Any]:
        """Registered models by name (the latest versions)."""
        from jupyter_deploy.azureml.core.model import Model

        return {m.name: m for m in Model.list(self)}

    @property
    def environments(self) -> dict[str, Any]:
        """Registered environments by name."""
        from jupyter_deploy.azureml.core.environment import Environment

        return Environment.list(self)
