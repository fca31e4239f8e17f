"""From deploy options to a package: the one place ``--ic``, ``--model`` and ``--dc`` are read.

``%deploy`` and ``jupyter-deploy deploy``/``package`` parse the same
:class:`~jupyter_deploy.spec.options.DeployOptions`; this turns them into a
:class:`~jupyter_deploy.spec.package.PackageSpec` the same way for both: paths in an
inference-configuration JSON are relative to that file's folder, ``--model`` is a path or a
registered model of the workspace, and the environment a front end resolved (a notebook knows
its ``%%deploy_env`` names, a terminal only files) wins over the one in the JSON.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from jupyter_deploy.build.entry_scripts import generated_package
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.services.compute import ComputeTargets
from jupyter_deploy.services.workspace import Workspace
from jupyter_deploy.spec.cluster import ClusterConfig, LocalDeployConfig, load_deployment_config
from jupyter_deploy.spec.environment import Environment
from jupyter_deploy.spec.formats import load_inference_config
from jupyter_deploy.spec.models import self_describing
from jupyter_deploy.spec.options import DeployOptions
from jupyter_deploy.spec.package import ModelFiles, PackageSpec
from jupyter_deploy.targets.base import DeployTarget

Log = Callable[[str], None]
_REGISTERED = re.compile(r"^(?P<name>[A-Za-z0-9][\w.-]*)(?::(?P<version>\d+))?$")


def resolve_package(
    name: str, options: DeployOptions, environment: Environment | None = None,
    workspace: Workspace | None = None, namespace: Mapping[str, Any] | None = None,
    log: Log | None = None,
) -> PackageSpec:
    """The package ``options`` describe, with ``environment`` as resolved by the front end.

    With no entry script, source folder or inference configuration, a model that describes
    itself needs none: an MLflow folder or an ``.onnx`` file, or — a ``--model`` that names a
    variable of ``namespace`` (the notebook's; names are looked up there before paths) — a
    fitted estimator; its ``score.py`` is generated (``log`` says where).

    Raises:
        ConfigurationError: a model that is neither a path nor a registered model, or a model
            that cannot be served without a script.
        EnvironmentSpecError: an unreadable or invalid inference configuration.
    """
    refs = [_from_namespace(ref, namespace) for ref in options.models]
    estimators = [ref for ref in refs if not isinstance(ref, str)]
    paths = [ref for ref in refs if isinstance(ref, str)]
    if not (options.entry_script or options.source_dir or options.inference_config):
        models = tuple(resolve_model(m, workspace) for m in paths)
        if estimators or (len(models) == 1 and self_describing(models[0].path)):
            env = environment
            if options.pip:
                env = replace(env or Environment(), pip=(*(env.pip if env else ()), *options.pip))
            if len(estimators) > 1 or (estimators and models):
                raise ConfigurationError(
                    "a service without an entry script serves one model: pass one estimator "
                    "variable with --model, or write a score.py (--entry) for several.")
            return generated_package(name, models, env, estimators[0] if estimators else None,
                                     log=log)
    elif estimators:
        raise ConfigurationError(
            f"--model {options.models[refs.index(estimators[0])]} names a variable of the "
            "notebook: that is served without a score.py, so drop --entry/--source-dir/--ic, or "
            "save it yourself (joblib.dump) and pass its file.")
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
    models = tuple(resolve_model(m, workspace) for m in paths)
    return PackageSpec(name, script, env, models, source)


def _from_namespace(ref: str, namespace: Mapping[str, Any] | None) -> Any:
    """What ``--model ref`` names: a variable's object (a path when it holds one), else ``ref``."""
    if namespace is None or not ref.isidentifier() or ref not in namespace:
        return ref
    value = namespace[ref]
    if isinstance(value, str | Path):
        return str(value)
    if isinstance(value, ModelFiles):
        return str(value.path)
    return value


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


def deployment_target(options: DeployOptions, workspace: Workspace | None = None
                      ) -> tuple[DeployTarget, int | None]:
    """Where ``--ct``, ``--dc``, ``--replicas`` and ``--auth`` say a service runs, and its port.

    The deployment-config JSON (``--dc``) is the SDK CLI's: a local one names a port, an AKS or
    ACI one replicas, resources and keys for a cluster target; ``--replicas``/``--auth`` override
    it (or make one). The target refuses, by name, what it cannot honour.

    Raises:
        ConfigurationError: an unreadable config, an unknown target, or a setting the target
        cannot honour (e.g. replicas on the local engine).
    """
    config = load_deployment_config(options.deploy_config) if options.deploy_config else None
    port = options.port
    if isinstance(config, LocalDeployConfig):
        port, config = port or config.port, None
    if options.replicas is not None or options.auth:
        base = config or ClusterConfig(replicas=1, auth_enabled=False)
        config = replace(base, replicas=options.replicas or base.replicas,
                         autoscale=None if options.replicas else base.autoscale,
                         auth_enabled=base.auth_enabled or options.auth)
    targets = ComputeTargets(workspace)
    return targets.target(options.compute_target or "local", config), port
