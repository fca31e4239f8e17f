"""What a service was made from, kept in its container's labels as plain JSON.

A new kernel, another process or the JupyterLab server finds a service and can rebuild it
(``update()``) from this record alone. It holds host paths, the environment without its registry
password, and the run options — never credentials, never pickles (Azure ML's LocalWebservice
pickled its whole config, password included, into a label anyone could ``docker inspect``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_deploy.config import LABEL_PREFIX
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.spec.environment import Environment, RegistryCredentials
from jupyter_deploy.spec.package import ModelFiles, PackageSpec

LABEL_SERVICE = f"{LABEL_PREFIX}.service"
LABEL_SPEC = f"{LABEL_PREFIX}.spec"
#: A cluster service's settings as deployment-config JSON (keys masked: never their values).
LABEL_CLUSTER = f"{LABEL_PREFIX}.cluster"
RECORD_VERSION = 1


@dataclass(frozen=True)
class ServiceRecord:
    """The label-stored description of one service."""

    name: str
    image: str
    spec: PackageSpec | None = None
    run_options: Mapping[str, Any] = field(default_factory=dict)

    def to_labels(self) -> dict[str, str]:
        """The labels to put on the container."""
        return {LABEL_SERVICE: self.name, LABEL_SPEC: json.dumps(self.to_dict(), sort_keys=True)}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (no password: ``Environment.to_dict`` leaves it out)."""
        data: dict[str, Any] = {"version": RECORD_VERSION, "name": self.name,
                                "image": self.image, "run_options": dict(self.run_options)}
        if self.spec is not None:
            data["package"] = {
                "entry_script": str(self.spec.entry_script.resolve()),
                "entry_name": self.spec.entry_name,
                "source_dir": str(self.spec.source_dir.resolve()) if self.spec.source_dir else None,
                "models": [{"path": str(m.path.resolve()), "name": m.name, "version": m.version}
                           for m in self.spec.models],
                "environment": self.spec.environment.to_dict(),
            }
        return data

    @classmethod
    def from_labels(cls, labels: Mapping[str, str]) -> ServiceRecord:
        """Read a record back; tolerate records without a package (plain images).

        Raises:
            ConfigurationError: the label was changed by hand or by another tool.
        """
        name = labels.get(LABEL_SERVICE, "")
        try:
            data = json.loads(labels.get(LABEL_SPEC) or "{}")
            package = data.get("package")
            spec = _spec_from_dict(data.get("name", ""), package) if package else None
            return cls(data.get("name") or name, data.get("image", ""), spec,
                       data.get("run_options") or {})
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise ConfigurationError(
                f"the {LABEL_SPEC} label of service {name!r} is not one jupyter_deploy wrote "
                f"({type(e).__name__}: {e}): deploy the service again to rewrite it."
            ) from e


def _spec_from_dict(name: str, package: Mapping[str, Any]) -> PackageSpec:
    models = tuple(ModelFiles(Path(m["path"]), m["name"], int(m["version"]))
                   for m in package.get("models", []))
    source = package.get("source_dir")
    return PackageSpec(name, Path(package["entry_script"]),
                       environment_from_dict(package.get("environment") or {}), models,
                       Path(source) if source else None)


def environment_from_dict(data: Mapping[str, Any]) -> Environment:
    """Rebuild an :class:`Environment` from ``Environment.to_dict()`` output."""
    fields = dict(data)
    registry = fields.pop("registry", None)
    if registry:
        fields["registry"] = RegistryCredentials(registry.get("address"), registry.get("username"))
    known = set(Environment.__dataclass_fields__)
    return Environment(**{k: v for k, v in fields.items() if k in known})
