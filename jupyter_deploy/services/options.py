"""From deploy options to a package: the one place ``--ic``, ``--model`` and ``--dc`` are read.

``%deploy`` and ``jupyter-deploy deploy``/``package`` parse the same
:class:`~jupyter_deploy.spec.options.DeployOptions`; this turns them into a
:class:`~jupyter_deploy.spec.package.PackageSpec` the same way for both: paths in an
inference-configuration JSON are relative to that file's folder, ``--model`` is a path or a
registered model of the workspace, and the environment a front end resolved (a notebook knows
its ``%%deploy_env`` names, a terminal only files) wins over the one in the JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.services.workspace import Workspace
from jupyter_deploy.spec.environment import Environment
from jupyter_deploy.spec.formats import load_inference_config
from jupyter_deploy.spec.options import DeployOptions
from jupyter_deploy.spec.package import ModelFiles, PackageSpec

_REGISTERED = re.compile(r"^(?P<name>[A-Za-z0-9][\w.-]*)(?::(?P<version>\d+))?$")


def resolve_package(
    name: str, options: DeployOptions, environment: Environment | None = None,
    workspace: Workspace | None = None,
) -> PackageSpec:
    """The package ``options`` describe, with ``environment`` as resolved by the front end.

    Raises:
        ConfigurationError: a model that is neither a path nor a registered model.
        EnvironmentSpecError: an unreadable or invalid inference configuration.
    """
    entry, folder, env = options.entry_script, options.source_dir, environment
    if options.inference_config:
        config = load_inference_config(options.inference_config)
        base = Path(options.inference_config).resolve().parent
        if folder is None and config.source_directory:
            folder = str(base / config.source_directory)
        entry = entry or str(Path(folder or base) / config.entry_script)
        env = env or config.environment
    env = env or Environment(name=name)
    if options.pip:
        env = replace(env, pip=(*env.pip, *options.pip))
    source = Path(folder) if folder else None
    script = Path(entry or "score.py")
    if source is not None and not script.is_absolute() and (source / script).is_file():
        script = source / script
    models = tuple(resolve_model(m, workspace) for m in options.models)
    return PackageSpec(name, script, env, models, source)


def resolve_model(ref: str, workspace: Workspace | None = None) -> ModelFiles:
    """A registered model ``NAME:VERSION`` (or a bare ``NAME`` that is no file here) of
    ``workspace``, else a model path (checked when the package is built).

    Raises:
        ConfigurationError: a registered-model reference that the workspace does not know.
    """
    path = Path(ref)
    match = _REGISTERED.match(ref)
    bare_name = match is not None and "." not in ref and not path.exists()
    if match is None or not (match.group("version") or bare_name):
        return ModelFiles.of(path)
    version = match.group("version")
    found = (workspace or Workspace.from_config())
    try:
        return found.get_model(match.group("name"), int(version) if version else None).files()
    except ConfigurationError as e:
        raise ConfigurationError(
            f"model {ref!r} is neither a file or folder here nor a registered model ({e})"
        ) from e


def deploy_config_port(path: str | None) -> int | None:
    """The ``port`` of a deployment-configuration JSON (``--dc``), if it names one.

    Raises:
        ConfigurationError: the file cannot be read, or its port is not a number.
    """
    if not path:
        return None
    try:
        config = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise ConfigurationError(f"cannot read the deployment config {path}: {e}") from e
    port = config.get("port")
    if port is not None and not isinstance(port, int):
        raise ConfigurationError(f"{path}: port must be a number, got {port!r}")
    return port if isinstance(port, int) else None
