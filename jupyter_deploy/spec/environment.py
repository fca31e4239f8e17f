"""What a model runs in: a base image, Python dependencies and environment variables.

Specs are frozen dataclasses so an environment can be hashed into an image tag, compared, and
shared between threads without surprises. Registry credentials live here in memory only: their
``repr`` masks the password, and nothing in the packaging layer writes them anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from jupyter_deploy.config import get_config
from jupyter_deploy.errors import EnvironmentSpecError

_ENV_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class RegistryCredentials:
    """Address, username and password of a private registry (the seeds' ``base_image_registry``)."""

    address: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        masked = "'********'" if self.password else "None"
        return (
            f"RegistryCredentials(address={self.address!r}, username={self.username!r}, "
            f"password={masked})"
        )

    @property
    def has_login(self) -> bool:
        """Whether a username and password are both set."""
        return bool(self.username and self.password)

    def auth_config(self) -> dict[str, str] | None:
        """The ``auth_config`` docker-py expects, or None for anonymous access.

        It carries the address it belongs to (``serveraddress``): the engine layer sends it only
        with references to that registry, never to another host.
        """
        if not self.has_login:
            return None
        assert self.username is not None and self.password is not None
        config = {"username": self.username, "password": self.password}
        if self.address:
            config["serveraddress"] = self.address
        return config


@dataclass(frozen=True)
class Environment:
    """A deployable environment.

    Attributes:
        name: A short identifier (used in image names).
        base_image: Image to build on; must contain ``python3`` (any version ≥ 3.8).
        pip: pip requirement strings; pin them (``pkg==1.2.3``) for reproducible images.
        conda: conda package specs; need a base image with conda.
        env_vars: Variables set in the image and the running container.
        registry: Credentials for a private ``base_image`` registry.
        user_managed: Use the base image's Python as is; install nothing.
        interpreter_path: The Python used when ``user_managed`` is set.
        base_dockerfile: Dockerfile text to build the base image from, instead of ``base_image``.
        docker_arguments: Extra ``docker run`` arguments (the seeds' ``docker.arguments``).
        shm_size: ``/dev/shm`` size for the container, e.g. ``"1g"``.
        python_version: Python version the image runs (picks wheels); defaults to the config's.
        inferencing_stack_version: The seeds' ``inferencing_stack_version`` ("latest"); our
            scoring server is always added, so it is recorded, not acted on.
        version: The environment's version, as registered in a workspace.
        extras: Settings of the seeds' format that do not change a local image
            (``docker.enabled``, ``docker.sharedVolumes``, ``python.condaDependencies.name``, …),
            kept by dotted camelCase key so files round-trip without loss.
    """

    name: str = "default"
    base_image: str = ""
    pip: tuple[str, ...] = ()
    conda: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    env_vars: Mapping[str, str] = field(default_factory=dict)
    registry: RegistryCredentials | None = None
    user_managed: bool = False
    interpreter_path: str = "python3"
    base_dockerfile: str | None = None
    docker_arguments: tuple[str, ...] = ()
    shm_size: str | None = None
    python_version: str | None = None
    inferencing_stack_version: str | None = None
    version: str | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Accept any iterables/mappings from callers; store immutable forms.
        object.__setattr__(self, "pip", tuple(self.pip))
        object.__setattr__(self, "conda", tuple(self.conda))
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "docker_arguments", tuple(self.docker_arguments))
        object.__setattr__(self, "env_vars", MappingProxyType(dict(self.env_vars)))
        object.__setattr__(self, "extras", MappingProxyType(dict(self.extras)))
        if not self.base_image and not self.base_dockerfile:
            object.__setattr__(self, "base_image", get_config().default_base_image)
        self.validate()

    def validate(self) -> None:
        """Check every field; raise on the first bad one.

        Raises:
            EnvironmentSpecError: naming the field that is wrong.
        """
        if not _NAME.match(self.name):
            raise EnvironmentSpecError(
                f"{self.name!r} is not a valid name: use letters, digits, '.', '_' or '-'", "name"
            )
        for index, line in enumerate(self.pip):
            parse_requirement(line, key=f"pip[{index}]")
        for index, spec in enumerate(self.conda):
            if not isinstance(spec, str) or not spec.strip():
                raise EnvironmentSpecError(f"{spec!r} is not a conda spec", f"conda[{index}]")
        for key, value in self.env_vars.items():
            if not _ENV_VAR_NAME.match(str(key)):
                raise EnvironmentSpecError(f"{key!r} is not a valid variable name", "env_vars")
            if not isinstance(value, str):
                raise EnvironmentSpecError(
                    f"value of {key} must be a string, got {type(value).__name__}", "env_vars"
                )

    @property
    def image_python(self) -> str:
        """The Python version wheels are chosen for."""
        return self.python_version or get_config().image_python_version

    def with_changes(self, **changes: Any) -> Environment:
        """A copy with some fields replaced (specs are immutable)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-ready description, without the registry password."""
        data: dict[str, Any] = {
            "name": self.name,
            "base_image": self.base_image,
            "pip": list(self.pip),
            "conda": list(self.conda),
            "channels": list(self.channels),
            "env_vars": dict(self.env_vars),
            "user_managed": self.user_managed,
            "interpreter_path": self.interpreter_path,
            "base_dockerfile": self.base_dockerfile,
            "docker_arguments": list(self.docker_arguments),
            "shm_size": self.shm_size,
            "python_version": self.python_version,
            "inferencing_stack_version": self.inferencing_stack_version,
            "version": self.version,
            "extras": dict(self.extras),
        }
        if self.registry is not None:
            data["registry"] = {
                "address": self.registry.address,
                "username": self.registry.username,
            }
        return data


def parse_requirement(line: str, key: str = "pip") -> Requirement:
    """Parse one pip requirement line.

    Raises:
        EnvironmentSpecError: the line is not a valid requirement.
    """
    try:
        return Requirement(line)
    except InvalidRequirement as e:
        raise EnvironmentSpecError(f"{line!r} is not a valid pip requirement ({e})", key) from e


def unpinned(requirements: Iterable[str]) -> list[str]:
    """The requirements that do not pin one exact version with ``==``."""
    loose = []
    for line in requirements:
        spec = Requirement(line).specifier
        if not any(s.operator in ("==", "===") and "*" not in s.version for s in spec):
            loose.append(line)
    return loose
