"""``azureml.core.conda_dependencies``: the editable conda/pip description, from the core."""

from __future__ import annotations

from jupyter_deploy.spec.conda import CondaDependencies

__all__ = ["CondaDependencies"]
