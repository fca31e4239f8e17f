"""``azureml.core.environment``: the SDK's mutable ``Environment`` over the frozen native spec.

The seeds set attributes one by one (``env.docker.base_image = …``), so this class is mutable;
:meth:`Environment.to_native` turns it into :class:`jupyter_deploy.Environment` whenever the core
needs it. Its repr and saved files never show the registry password.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_deploy.azureml.core.container_registry import ContainerRegistry
from jupyter_deploy.config import get_config
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.services.workspace import Workspace as NativeWorkspace
from jupyter_deploy.spec import formats as environment_io
from jupyter_deploy.spec.conda import CondaDependencies
from jupyter_deploy.spec.environment import Environment as NativeEnvironment

ENV_FILE = "azureml_environment.json"
CONDA_FILE = "conda_dependencies.yml"


class DockerSection:
    """``env.docker``: the base image and how the container runs."""

    def __init__(self) -> None:
        self.enabled = False
        # The SDK starts every environment on its default image, and setting a Dockerfile
        # clears the image (they exclude each other): ours is DeployConfig.default_base_image.
        self._base_image: str | None = get_config().default_base_image
        self._base_dockerfile: str | None = None
        self.base_image_registry = ContainerRegistry()
        self.arguments: list[str] = []
        self.shm_size: str | None = None
        self.shared_volumes = True
        self.gpu_support = False

    @property
    def base_image(self) -> str | None:
        """The image to build on (the default base image until set)."""
        return self._base_image

    @base_image.setter
    def base_image(self, value: str | None) -> None:
        self._base_image = value
        if value:
            self._base_dockerfile = None

    @property
    def base_dockerfile(self) -> str | None:
        """Dockerfile text to build the base from; setting it clears ``base_image``."""
        return self._base_dockerfile

    @base_dockerfile.setter
    def base_dockerfile(self, value: str | None) -> None:
        self._base_dockerfile = value
        if value:
            self._base_image = None

    def __repr__(self) -> str:
        return (f"DockerSection(enabled={self.enabled}, base_image={self.base_image!r}, "
                f"base_image_registry={self.base_image_registry!r})")


class PythonSection:
    """``env.python``: the dependencies and the interpreter."""

    def __init__(self) -> None:
        self.user_managed_dependencies = False
        self.interpreter_path = "python3"
        self.conda_dependencies = CondaDependencies()
        self.conda_dependencies_file: str | None = None
        self.base_conda_environment: str | None = None

    def __repr__(self) -> str:
        return (f"PythonSection(user_managed_dependencies={self.user_managed_dependencies}, "
                f"conda_dependencies={self.conda_dependencies!r})")


class Environment:
    """A named, versioned environment (the SDK's class).

    Args:
        name: The environment's name.
    """

    def __init__(self, name: str, **_ignored: Any) -> None:
        self.name = name
        self.version: str | None = None
        self.docker = DockerSection()
        self.python = PythonSection()
        self.environment_variables: dict[str, str] = {}
        self.inferencing_stack_version: str | None = None
        self._extras: dict[str, Any] = {}

    def __repr__(self) -> str:
        return environment_io.dumps(self.to_native(), "azureml")

    # -- conversion --------------------------------------------------------------------------

    def to_native(self) -> NativeEnvironment:
        """The frozen native spec the core builds from.

        A ``python.conda_dependencies_file`` that exists replaces ``conda_dependencies``.

        Raises:
            EnvironmentSpecError: a field is invalid (the message names it).
        """
        docker, python = self.docker, self.python
        extras = {**self._extras, "docker.enabled": docker.enabled,
                  "docker.sharedVolumes": docker.shared_volumes,
                  "python.baseCondaEnvironment": python.base_conda_environment,
                  "python.condaDependenciesFile": python.conda_dependencies_file}
        env = NativeEnvironment(
            name=self.name, base_image=docker.base_image or "",
            base_dockerfile=docker.base_dockerfile, registry=docker.base_image_registry.to_native(),
            docker_arguments=tuple(docker.arguments), shm_size=docker.shm_size,
            env_vars=dict(self.environment_variables),
            user_managed=python.user_managed_dependencies,
            interpreter_path=python.interpreter_path or "python3",
            inferencing_stack_version=self.inferencing_stack_version, version=self.version,
            extras={k: v for k, v in extras.items() if v != _DEFAULTS.get(k, object())},
        )
        deps = python.conda_dependencies
        if python.conda_dependencies_file and Path(python.conda_dependencies_file).is_file():
            deps = CondaDependencies(python.conda_dependencies_file)
        return deps.apply_to(env)

    @classmethod
    def from_native(cls, env: NativeEnvironment) -> Environment:
        """A mutable SDK-style copy of a native environment."""
        made = cls(env.name)
        made.version = env.version
        made.docker.base_image = env.base_image or None
        made.docker.base_dockerfile = env.base_dockerfile
        made.docker.base_image_registry = ContainerRegistry.of(env.registry)
        made.docker.arguments = list(env.docker_arguments)
        made.docker.shm_size = env.shm_size
        made.docker.enabled = bool(env.extras.get("docker.enabled", False))
        made.docker.shared_volumes = bool(env.extras.get("docker.sharedVolumes", True))
        made.python.user_managed_dependencies = env.user_managed
        made.python.interpreter_path = env.interpreter_path
        made.python.conda_dependencies = CondaDependencies.of(env)
        made.python.base_conda_environment = env.extras.get("python.baseCondaEnvironment")
        made.python.conda_dependencies_file = env.extras.get("python.condaDependenciesFile")
        made.environment_variables = dict(env.env_vars)
        made.inferencing_stack_version = env.inferencing_stack_version
        made._extras = {k: v for k, v in env.extras.items() if k not in _DEFAULTS}
        return made

    # -- constructors and files --------------------------------------------------------------

    @staticmethod
    def from_conda_specification(name: str, file_path: str | Path) -> Environment:
        """An environment from a conda ``environment.yml``.

        Raises:
            EnvironmentSpecError: the file is missing or invalid.
        """
        return Environment.from_native(environment_io.load(file_path, "conda", name=name))

    @staticmethod
    def from_pip_requirements(name: str, file_path: str | Path) -> Environment:
        """An environment whose pip packages are the lines of a ``requirements.txt``."""
        made = Environment(name)
        for line in Path(file_path).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                made.python.conda_dependencies.add_pip_package(line)
        return made

    def save_to_directory(self, path: str | Path, overwrite: bool = False) -> None:
        """Write ``azureml_environment.json`` and ``conda_dependencies.yml`` (no password)."""
        folder = Path(path)
        if folder.exists() and any(folder.iterdir()) and not overwrite:
            raise ConfigurationError(f"{folder} is not empty: pass overwrite=True to replace it.")
        folder.mkdir(parents=True, exist_ok=True)
        native = self.to_native()
        (folder / ENV_FILE).write_text(environment_io.dumps(native, "azureml"))
        (folder / CONDA_FILE).write_text(environment_io.dumps(native, "conda"))

    @staticmethod
    def load_from_directory(path: str | Path) -> Environment:
        """Read what :meth:`save_to_directory` wrote.

        Raises:
            EnvironmentSpecError: the file is missing or invalid.
        """
        return Environment.from_native(environment_io.load(Path(path) / ENV_FILE, "azureml"))

    # -- the workspace -----------------------------------------------------------------------

    def register(self, workspace: NativeWorkspace) -> Environment:
        """Store this environment in ``workspace`` as its next version; return that version."""
        return Environment.from_native(workspace.register_environment(self.to_native()))

    @staticmethod
    def get(workspace: NativeWorkspace, name: str, version: str | None = None) -> Environment:
        """A registered environment (the latest version unless ``version`` is given).

        Raises:
            ConfigurationError: no such environment.
        """
        return Environment.from_native(workspace.get_environment(name, version))

    @staticmethod
    def list(workspace: NativeWorkspace) -> dict[str, Environment]:
        """Every registered environment, by name."""
        return {n: Environment.from_native(e)
                for n, e in workspace.list_environments().items()}


_DEFAULTS: dict[str, Any] = {
    "docker.enabled": False,
    "docker.sharedVolumes": True,
    "python.baseCondaEnvironment": None,
    "python.condaDependenciesFile": None,
}
