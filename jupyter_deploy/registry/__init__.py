"""Registries: the v2/OCI HTTP API client, logins, the workspace's own registry, the catalog.

``RegistryClient`` and ``Catalog`` are importable from here, as the README shows.
"""

from jupyter_deploy.registry.catalog import Catalog
from jupyter_deploy.registry.client import RegistryClient

__all__ = ["Catalog", "RegistryClient"]
