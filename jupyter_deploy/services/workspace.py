"""A local workspace: registered models and environments, and the workspace's own registry.

The seeds' workflow starts from a cloud workspace that versions models (``name:version``), keeps
named environments and owns a container registry. Here a workspace is a folder on disk and its
registry is the local one from :mod:`jupyter_deploy.services.provision`, started the first time
something is packaged, with no credentials. ``Workspace.from_config()`` looks for a ``config.json``
(or ``.azureml/config.json``) in the current folder and its parents, as the SDK does, and falls back
to a default workspace under the data folder, so notebooks run unchanged in either case.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_deploy.config import data_dir, get_config
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.spec import formats as environment_io
from jupyter_deploy.spec.environment import Environment
from jupyter_deploy.spec.package import ModelFiles

CONFIG_FILES: tuple[str, ...] = ("config.json", ".azureml/config.json")
DEFAULT_NAME = "default"
Log = Callable[[str], None]


@dataclass(frozen=True)
class RegisteredModel:
    """One version of a registered model: its files live in the workspace."""

    name: str
    version: int
    path: Path
    tags: Mapping[str, str] = field(default_factory=dict)
    description: str | None = None
    created: float = 0.0

    @property
    def id(self) -> str:
        """``name:version``."""
        return f"{self.name}:{self.version}"

    def files(self) -> ModelFiles:
        """What the packager copies under ``AZUREML_MODEL_DIR`` (``…/name/version/…``)."""
        return ModelFiles(self.path, self.name, self.version)


class Workspace:
    """A folder holding models, environments and the name of the workspace's registry.

    Args:
        root: The folder (created if missing); default: the data folder's ``workspace``.
        name: A display name.
        labels: Engine labels added to every image and container made through this workspace.
    """

    def __init__(
        self, root: str | Path | None = None, name: str = DEFAULT_NAME,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        self.root = Path(root) if root else data_dir() / "workspace"
        self.name = name
        self.labels = dict(labels or {})
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"Workspace(name={self.name!r}, root={str(self.root)!r})"

    @classmethod
    def from_config(cls, path: str | Path | None = None) -> Workspace:
        """The workspace a ``config.json`` here or in a parent folder names, else the default.

        Args:
            path: A config file, or a folder to start the search from (default: cwd).

        Raises:
            ConfigurationError: the config file is not valid JSON.
        """
        found = find_config(Path(path) if path else Path.cwd())
        if found is None:
            return cls()
        try:
            config = json.loads(found.read_text())
        except (OSError, ValueError) as e:
            raise ConfigurationError(f"{found} is not a readable JSON workspace config: {e}") from e
        name = str(config.get("workspace_name") or DEFAULT_NAME)
        folder = config.get("path")
        root = (found.parent / folder) if folder else data_dir() / "workspaces" / name
        return cls(root, name)

    def write_config(self, path: str | Path = ".", file_name: str = "config.json") -> Path:
        """Write a ``config.json`` pointing at this workspace, for ``from_config()`` to find."""
        target = Path(path) / file_name
        target.write_text(json.dumps({"workspace_name": self.name,
                                      "path": str(self.root.resolve())}, indent=2) + "\n")
        return target

    # -- the registry ------------------------------------------------------------------------

    @property
    def registry(self) -> str:
        """``host:port`` of the workspace's own registry (it needs no credentials)."""
        return get_config().registry_address

    def ensure_registry(self, log: Log | None = None) -> str:
        """Start the workspace registry if it does not answer yet; return its address.

        Raises:
            RegistryError: it could not be started.
        """
        from jupyter_deploy.services.provision import ensure_registry

        return ensure_registry(log or _quiet).address

    def get_details(self) -> dict[str, Any]:
        """What the SDK's ``get_details()`` shows, for this local workspace."""
        return {"name": self.name, "location": "local", "path": str(self.root),
                "containerRegistry": self.registry}

    # -- models ------------------------------------------------------------------------------

    def register_model(
        self, model_path: str | Path, model_name: str, tags: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        """Copy a model file or folder into the workspace as the next version of ``model_name``.

        Raises:
            ConfigurationError: the path does not exist or the name is not valid.
        """
        source = Path(model_path)
        if not source.exists():
            raise ConfigurationError(f"model path {source} does not exist: check the path.")
        _check_name(model_name, "model")
        folder, version = self._new_version(self.root / "models" / model_name)
        if source.is_dir():
            shutil.copytree(source, folder / source.name)
        else:
            shutil.copyfile(source, folder / source.name)
        model = RegisteredModel(model_name, version, folder, dict(tags or {}), description,
                                time.time())
        meta = {"tags": dict(model.tags), "description": description, "created": model.created}
        (folder.parent / f"{version}.json").write_text(json.dumps(meta, indent=2))
        return model

    def get_model(self, name: str, version: int | None = None) -> RegisteredModel:
        """A registered model (the latest version unless ``version`` is given).

        Raises:
            ConfigurationError: no such model or version.
        """
        versions = self.model_versions(name)
        if not versions or (version is not None and version not in versions):
            which = f"{name}:{version}" if version is not None else name
            raise ConfigurationError(
                f"no registered model {which} in {self.root}: register it first "
                "(Model.register or `jupyter-deploy model register`)."
            )
        chosen = version if version is not None else versions[-1]
        folder = self.root / "models" / name / str(chosen)
        meta_file = folder.parent / f"{chosen}.json"
        meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
        return RegisteredModel(name, chosen, folder, meta.get("tags") or {},
                               meta.get("description"), meta.get("created", 0.0))

    def model_versions(self, name: str) -> list[int]:
        """The versions of ``name``, ascending."""
        folder = self.root / "models" / name
        if not folder.is_dir():
            return []
        return sorted(int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit())

    def list_models(self) -> list[RegisteredModel]:
        """The latest version of every registered model."""
        folder = self.root / "models"
        names = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        return [self.get_model(n) for n in names if self.model_versions(n)]

    # -- environments ------------------------------------------------------------------------

    def register_environment(self, env: Environment) -> Environment:
        """Store ``env`` (without its password) as the next version of its name."""
        folder = self.root / "environments" / env.name
        folder.mkdir(parents=True, exist_ok=True)
        existing = self.environment_versions(env.name)
        version = (existing[-1] + 1) if existing else 1
        registered = env.with_changes(version=str(version))
        environment_io.save(registered, folder / f"{version}.yml")
        return registered

    def get_environment(self, name: str, version: int | str | None = None) -> Environment:
        """A registered environment (the latest version unless ``version`` is given).

        Raises:
            ConfigurationError: no such environment or version.
        """
        versions = self.environment_versions(name)
        if not versions or (version is not None and int(version) not in versions):
            raise ConfigurationError(f"no registered environment {name!r} (version {version}) "
                                     f"in {self.root}: register it first.")
        chosen = int(version) if version is not None else versions[-1]
        return environment_io.load(self.root / "environments" / name / f"{chosen}.yml")

    def environment_versions(self, name: str) -> list[int]:
        """The versions of environment ``name``, ascending."""
        folder = self.root / "environments" / name
        files = folder.glob("*.yml") if folder.is_dir() else []
        return sorted(int(p.stem) for p in files if p.stem.isdigit())

    def list_environments(self) -> dict[str, Environment]:
        """The latest version of every registered environment, by name."""
        folder = self.root / "environments"
        names = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        return {n: self.get_environment(n) for n in names if self.environment_versions(n)}

    def _new_version(self, folder: Path) -> tuple[Path, int]:
        folder.mkdir(parents=True, exist_ok=True)
        existing = self.model_versions(folder.name)
        version = (existing[-1] + 1) if existing else 1
        while True:
            try:
                (folder / str(version)).mkdir()
                return folder / str(version), version
            except FileExistsError:
                version += 1


def find_config(start: Path) -> Path | None:
    """The first ``config.json``/``.azureml/config.json`` at ``start`` or above it."""
    if start.is_file():
        return start
    for folder in [start, *start.resolve().parents]:
        for name in CONFIG_FILES:
            if (folder / name).is_file():
                return folder / name
    return None


def _check_name(name: str, what: str) -> None:
    if not name or not (name[0].isalnum() and all(c.isalnum() or c in "-_." for c in name)):
        raise ConfigurationError(
            f"{name!r} is not a valid {what} name: use letters, digits, '-', '_' or '.'"
        )


def _quiet(_: str) -> None:
    """A log that drops lines."""
