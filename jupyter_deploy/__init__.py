"""jupyter_deploy: from a notebook to a running, scored model container.

The native API in one import::

    import jupyter_deploy as jd
    env = jd.Environment(pip=["scikit-learn==1.5.2"])
    service = jd.deploy("mymodel", "score.py", models=["model.pkl"], environment=env)
    service.score([[1, 2, 3]])

``%load_ext jupyter_deploy`` loads the notebook magics; this module imports nothing from IPython
itself so the core stays usable from scripts and servers.
"""

from __future__ import annotations

from typing import Any

from jupyter_deploy._version import __version__
from jupyter_deploy.errors import DeployError
from jupyter_deploy.services.building import build_package
from jupyter_deploy.services.building import write_context as write_build_context
from jupyter_deploy.services.deployment import Deployment, DeploymentCollection, deploy, run_image
from jupyter_deploy.services.packages import Package, package_dockerfile, package_image
from jupyter_deploy.services.workspace import Workspace
from jupyter_deploy.spec.cluster import ClusterConfig
from jupyter_deploy.spec.environment import Environment, RegistryCredentials
from jupyter_deploy.spec.package import ModelFiles, PackageSpec
from jupyter_deploy.targets.base import DeployTarget
from jupyter_deploy.targets.local import LocalTarget
from jupyter_deploy.targets.swarm import SwarmTarget

services = DeploymentCollection()

__all__ = [
    "ClusterConfig",
    "DeployError",
    "DeployTarget",
    "Deployment",
    "DeploymentCollection",
    "Environment",
    "LocalTarget",
    "ModelFiles",
    "Package",
    "PackageSpec",
    "RegistryCredentials",
    "SwarmTarget",
    "Workspace",
    "__version__",
    "build_package",
    "deploy",
    "package_dockerfile",
    "package_image",
    "run_image",
    "services",
    "write_build_context",
]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_deploy``: register the magics (imported only here)."""
    from jupyter_deploy.magics import load_ipython_extension as load

    load(ipython)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Jupyter Server finds the sidebar's REST API here (Tornado is imported only then)."""
    return [{"module": "jupyter_deploy.serverext"}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """The prebuilt JupyterLab sidebar shipped inside the package."""
    return [{"src": "labextension", "dest": "jupyter-deploy"}]
