"""``azureml.core.model``: ``Model`` (register, deploy, package), ``InferenceConfig``, packages.

Each method converts its arguments into native specs and calls one core function:
``Workspace.register_model``, :func:`jupyter_deploy.services.deployment.deploy`,
:func:`jupyter_deploy.services.packages.package_image` / ``package_dockerfile``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from jupyter_deploy.azureml.core.container_registry import ContainerRegistry
from jupyter_deploy.azureml.core.environment import Environment
from jupyter_deploy.build.entry_scripts import generated_package
from jupyter_deploy.engine.base_images import resolve_base
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.server.model_path import get_model_path
from jupyter_deploy.services.deployment import deploy
from jupyter_deploy.services.packages import Package, package_dockerfile, package_image
from jupyter_deploy.services.workspace import RegisteredModel
from jupyter_deploy.services.workspace import Workspace as NativeWorkspace
from jupyter_deploy.spec import formats as environment_io
from jupyter_deploy.spec.cluster import LocalDeployConfig
from jupyter_deploy.spec.conda import CondaDependencies
from jupyter_deploy.spec.environment import Environment as NativeEnvironment
from jupyter_deploy.spec.package import PackageSpec
from jupyter_deploy.targets.local import LocalTarget


class InferenceConfig:
    """The entry script, its folder and the environment a model is served with."""

    def __init__(
        self, entry_script: str | None = None, runtime: str | None = None,
        conda_file: str | None = None, extra_docker_file_steps: str | None = None,
        source_directory: str | None = None, enable_gpu: bool | None = None,
        description: str | None = None, base_image: str | None = None,
        base_image_registry: ContainerRegistry | None = None, cuda_version: str | None = None,
        environment: Environment | None = None,
    ) -> None:
        if entry_script is None and source_directory is not None:
            raise ConfigurationError(
                "InferenceConfig(source_directory=…) needs entry_script='score.py' (the script "
                "in it); leave both out for a model that describes itself (MLflow, ONNX).")
        if extra_docker_file_steps or enable_gpu:
            raise ConfigurationError(
                "extra_docker_file_steps and enable_gpu are not supported: put the steps in a "
                "base Dockerfile (env.docker.base_dockerfile) instead."
            )
        self.entry_script = entry_script
        self.source_directory = source_directory
        self.description = description
        self.environment = environment or _legacy_environment(conda_file, base_image,
                                                              base_image_registry)
        #: Whether the caller chose the environment (else a self-describing model's own is used).
        self.environment_given = bool(environment or conda_file or base_image
                                      or base_image_registry)

    @staticmethod
    def from_file(path: str | Path) -> InferenceConfig:
        """Read the seeds' inference-configuration JSON (``--ic`` of the CLI).

        Raises:
            EnvironmentSpecError: the file is invalid (the key and line are named).
        """
        spec = environment_io.load_inference_config(path)
        return InferenceConfig(spec.entry_script, source_directory=spec.source_directory,
                               environment=Environment.from_native(spec.environment))

    def native_environment(self) -> NativeEnvironment:
        """The environment as a native spec."""
        return self.environment.to_native()

    def package_spec(self, name: str, models: Sequence[Model]) -> PackageSpec:
        """The native package spec for ``models`` served under ``name``.

        Without an entry script (as Azure ML v2 serves MLflow models) the one model must
        describe itself — an MLflow folder or an ONNX file — and a ``score.py`` is generated
        for it; its requirements are added to the environment, if one was given.

        Raises:
            ConfigurationError: no entry script and a model that does not describe itself.
        """
        if self.entry_script is None:
            env = self.native_environment() if self.environment_given else None
            return generated_package(name, [m.registered.files() for m in models], env,
                                     log=print)
        folder = Path(self.source_directory) if self.source_directory else None
        script = folder / self.entry_script if folder else Path(self.entry_script)
        return PackageSpec(name, script, self.native_environment(),
                           tuple(m.registered.files() for m in models), folder)


def _legacy_environment(
    conda_file: str | None, base_image: str | None, registry: ContainerRegistry | None
) -> Environment:
    env = Environment("default")
    if conda_file:
        env.python.conda_dependencies = CondaDependencies(conda_file)
    env.docker.base_image = base_image
    if registry is not None:
        env.docker.base_image_registry = registry
    return env


class Model:
    """A registered model version (``name:version``) in a workspace."""

    #: Inside a scoring process (container or ``jupyter-deploy serve``): a model's files.
    get_model_path = staticmethod(get_model_path)

    def __init__(
        self, workspace: NativeWorkspace, name: str | None = None, id: str | None = None,
        version: int | None = None, **_ignored: Any,
    ) -> None:
        if id and not name:
            name, _, number = id.partition(":")
            version = int(number) if number else version
        if not name:
            raise ConfigurationError("Model needs a name (or id='name:version').")
        self.workspace = workspace
        self.registered = workspace.get_model(name, version)

    def __repr__(self) -> str:
        return f"Model(workspace={self.workspace!r}, name={self.name!r}, version={self.version})"

    @property
    def name(self) -> str:
        """The model's name."""
        return self.registered.name

    @property
    def version(self) -> int:
        """The version number."""
        return self.registered.version

    @property
    def id(self) -> str:
        """``name:version``."""
        return self.registered.id

    @property
    def tags(self) -> dict[str, str]:
        """The tags given at registration."""
        return dict(self.registered.tags)

    @property
    def description(self) -> str | None:
        """The description given at registration."""
        return self.registered.description

    @staticmethod
    def register(
        workspace: NativeWorkspace, model_path: str, model_name: str,
        tags: Mapping[str, str] | None = None, description: str | None = None, **_ignored: Any,
    ) -> Model:
        """Copy ``model_path`` into the workspace as the next version of ``model_name``.

        Raises:
            ConfigurationError: the path does not exist or the name is not valid.
        """
        registered = workspace.register_model(model_path, model_name, tags, description)
        print(f"Registering model {model_name}")
        return Model(workspace, registered.name, version=registered.version)

    @staticmethod
    def list(workspace: NativeWorkspace) -> list[Model]:
        """The latest version of every registered model."""
        return [Model(workspace, m.name, version=m.version) for m in workspace.list_models()]

    def download(self, target_dir: str = ".", exist_ok: bool = False) -> str:
        """Copy the model's files into ``target_dir``; return the path of what was copied."""
        entries = list(self.registered.path.iterdir())
        Path(target_dir).mkdir(parents=True, exist_ok=True)
        for entry in entries:
            target = Path(target_dir) / entry.name
            if target.exists() and not exist_ok:
                raise ConfigurationError(f"{target} exists: pass exist_ok=True to overwrite.")
            _copy(entry, target)
        return str(Path(target_dir) / entries[0].name) if len(entries) == 1 else target_dir

    @staticmethod
    def deploy(
        workspace: NativeWorkspace, name: str, models: Sequence[Model],
        inference_config: InferenceConfig | None = None, deployment_config: Any = None,
        deployment_target: Any = None, overwrite: bool = False, show_output: bool = False,
    ) -> Any:
        """Build and start ``models`` as the web service ``name``.

        With a ``LocalWebservice`` configuration (or none) it runs on this machine's engine;
        with an ``AksWebservice``/``AciWebservice`` one on ``deployment_target`` (a
        ``ComputeTarget``: ``swarm``, or an attached Kubernetes context) with its replicas,
        resources and keys.

        Raises:
            ConfigurationError: no inference configuration, a cluster configuration without a
                cluster target, or a setting the target cannot honour (named).
            DeployError: any step's own error (build, port, ``init()``…).
        """
        from jupyter_deploy.azureml.core.webservice import (
            AciWebservice,
            AksWebservice,
            LocalWebservice,
        )

        if inference_config is None:
            raise ConfigurationError(
                "Model.deploy needs an InferenceConfig(entry_script='score.py', environment=…).")
        config = getattr(deployment_config, "cluster_config", None) or LocalDeployConfig(
            getattr(deployment_config, "port", None))
        target = (deployment_target.deploy_target(config) if deployment_target is not None
                  else LocalTarget().configured(config))
        target.check()
        lines: list[str] = []
        log = _tee(lines, show_output)
        spec = inference_config.package_spec(name, models)
        env = resolve_base(spec.environment, log, workspace.labels)
        deployment = deploy(name, spec.entry_script, spec.models, env,
                            port=getattr(config, "port", None), source_dir=spec.source_dir,
                            labels=workspace.labels, log=log, target=target)
        kind = {"aks": AksWebservice, "aci": AciWebservice}.get(
            getattr(config, "compute_type", ""), LocalWebservice)
        return kind._of(workspace, deployment, lines)

    @staticmethod
    def package(
        workspace: NativeWorkspace, models: Sequence[Model],
        inference_config: InferenceConfig | None = None, generate_dockerfile: bool = False,
        image_name: str | None = None, image_label: str | None = None, **_ignored: Any,
    ) -> ModelPackage:
        """A package of ``models``: built and pushed, or a Dockerfile folder, when waited for.

        The image is ``<workspace registry>/<image_name or package>:<image_label or content
        hash>``.

        Raises:
            ConfigurationError: no inference configuration.
        """
        if inference_config is None:
            raise ConfigurationError("Model.package needs an InferenceConfig(entry_script=…).")
        spec = inference_config.package_spec(image_name or "package", models)
        return ModelPackage(workspace, spec, generate_dockerfile, image_name, image_label)


class ModelPackage:
    """A package being made; :meth:`wait_for_creation` builds it, streaming the log."""

    def __init__(
        self, workspace: NativeWorkspace, spec: PackageSpec, dockerfile: bool,
        image_name: str | None = None, image_label: str | None = None,
    ) -> None:
        self.workspace = workspace
        self.spec = spec
        self.generate_dockerfile = dockerfile
        self._target = (image_name or "package", image_label)
        self._package: Package | None = None
        self._log: list[str] = []
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def __repr__(self) -> str:
        return (f"ModelPackage(workspace={self.workspace!r}, state={self.state!r}, "
                f"location={self.location!r})")

    @property
    def state(self) -> str:
        """``NotStarted`` or ``Succeeded``."""
        return "Succeeded" if self._package else "NotStarted"

    @property
    def location(self) -> str | None:
        """The image in the workspace registry, once built."""
        return self._package.location if self._package else None

    def wait_for_creation(self, show_output: bool = False) -> None:
        """Build (and push) the package, or write its build context; print the log if asked.

        Raises:
            DeployError: the build or push failed (nothing half-made stays in the registry).
        """
        if self._package is not None:
            return
        log = _tee(self._log, show_output)
        registry = self.workspace.ensure_registry(log)
        labels = self.workspace.labels
        if self.generate_dockerfile:
            self._tmp = tempfile.TemporaryDirectory(prefix="jd-package-")
            dest = Path(self._tmp.name) / "context"
            self._package = package_dockerfile(self.spec, registry, dest, log, labels)
        else:
            repository, tag = self._target
            self._package = package_image(self.spec, registry, log, labels, repository, tag)

    def get_logs(self) -> str:
        """The log of the build."""
        return "\n".join(self._log)

    def pull(self) -> None:
        """Pull the image into the local engine; prints ``Status: … for <image>`` (the SDK's
        ``ModelPackage.pull()`` prints the status and returns nothing)."""
        self.wait_for_creation()
        assert self._package is not None
        self._package.pull()

    def save(self, output_directory: str) -> None:
        """Write the build context (Dockerfile, model, entry script, server, wheels)."""
        self.wait_for_creation()
        assert self._package is not None
        self._package.save(output_directory)

    def get_container_registry(self) -> ContainerRegistry:
        """Address, username and password of the registry the Dockerfile's base is in."""
        self.wait_for_creation()
        assert self._package is not None
        return ContainerRegistry.of(self._package.registry)

    def serialize(self) -> dict[str, Any]:
        """A plain description (never the password)."""
        return {"location": self.location, "generateDockerfile": self.generate_dockerfile,
                "state": self.state}


def _tee(lines: list[str], show: bool) -> Callable[[str], None]:
    def log(line: str) -> None:
        lines.append(line)
        if show:
            print(line, flush=True)

    return log


def _copy(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        shutil.copyfile(source, target)


__all__ = ["InferenceConfig", "Model", "ModelPackage", "RegisteredModel"]
