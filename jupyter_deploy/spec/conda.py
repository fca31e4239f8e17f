"""Conda-style dependency lists: the seeds' ``CondaDependencies``, and what needs conda at all.

Users describe Python dependencies the way conda does (a ``python=`` pin, conda packages, channels
and a nested ``pip`` list), but most base images have no conda. This module keeps that description
editable (``add_pip_package`` …), converts it to and from an
:class:`~jupyter_deploy.spec.environment.Environment`, and tells which entries really need conda so
the packager can refuse them with their names instead of failing deep inside a build.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from jupyter_deploy.spec.environment import Environment
from jupyter_deploy.spec.formats import dumps, load

#: Conda entries that every Python has, so they never require conda in the image.
_PROVIDED = {"python", "pip", "setuptools", "wheel"}
_SPEC_NAME = re.compile(r"^(?:[\w.-]+::)?([A-Za-z0-9_.-]+)")


def spec_name(spec: str) -> str:
    """The package name of a conda spec (``conda-forge::numpy>=1.2`` → ``numpy``)."""
    match = _SPEC_NAME.match(spec.strip())
    return match.group(1).lower() if match else spec.strip().lower()


def conda_only(specs: Iterable[str]) -> list[str]:
    """The conda specs that need conda in the image (all but python, pip, setuptools, wheel)."""
    return [s for s in specs if spec_name(s) not in _PROVIDED]


def python_pin(specs: Iterable[str]) -> str | None:
    """The version in a ``python=3.11``-style conda spec, if there is one."""
    for spec in specs:
        if spec_name(spec) == "python":
            version = re.sub(r"^[\w.:-]*?python\s*=*", "", spec.strip())
            return version.strip() or None
    return None


class CondaDependencies:
    """An editable conda environment description (the seeds' ``CondaDependencies``).

    Args:
        conda_dependencies_file_path: A conda ``environment.yml`` to start from.
    """

    def __init__(self, conda_dependencies_file_path: str | Path | None = None) -> None:
        self._name = "project_environment"
        self._channels: list[str] = []
        self._conda: list[str] = []
        self._pip: list[str] = []
        if conda_dependencies_file_path is not None:
            self._absorb(load(conda_dependencies_file_path, "conda"))

    @staticmethod
    def create(
        pip_packages: Iterable[str] | None = None, conda_packages: Iterable[str] | None = None,
        python_version: str | None = None, pin_sdk_version: bool = True,
        pip_indexurl: str | None = None,
    ) -> CondaDependencies:
        """A new description with these packages (``pin_sdk_version``/``pip_indexurl`` unused)."""
        deps = CondaDependencies()
        if python_version:
            deps.set_python_version(python_version)
        for spec in conda_packages or ():
            deps.add_conda_package(spec)
        for requirement in pip_packages or ():
            deps.add_pip_package(requirement)
        return deps

    @classmethod
    def of(cls, env: Environment) -> CondaDependencies:
        """The dependencies of a native environment, as an editable description."""
        deps = cls()
        deps._absorb(env)
        return deps

    def _absorb(self, env: Environment) -> None:
        self._name = str(env.extras.get("python.condaDependencies.name") or self._name)
        self._channels, self._conda, self._pip = (
            list(env.channels), list(env.conda), list(env.pip))

    def apply_to(self, env: Environment) -> Environment:
        """``env`` with these channels and conda/pip packages."""
        extras = {**env.extras, "python.condaDependencies.name": self._name}
        if self._name == "project_environment":
            extras.pop("python.condaDependencies.name")
        return env.with_changes(channels=tuple(self._channels), conda=tuple(self._conda),
                                pip=tuple(self._pip), extras=extras)

    @property
    def name(self) -> str:
        """The conda environment's name."""
        return self._name

    @property
    def pip_packages(self) -> Iterator[str]:
        """The pip requirements."""
        return iter(self._pip)

    @property
    def conda_packages(self) -> Iterator[str]:
        """The conda specs."""
        return iter(self._conda)

    @property
    def conda_channels(self) -> Iterator[str]:
        """The channels."""
        return iter(self._channels)

    def add_pip_package(self, pip_package: str) -> None:
        """Add (or replace, by name) a pip requirement."""
        self._pip = _replace(self._pip, pip_package, _pip_name)

    def add_conda_package(self, conda_package: str) -> None:
        """Add (or replace, by name) a conda spec."""
        self._conda = _replace(self._conda, conda_package, spec_name)

    def add_channel(self, channel: str) -> None:
        """Add a channel (once)."""
        if channel not in self._channels:
            self._channels.append(channel)

    def remove_pip_package(self, pip_package: str) -> None:
        """Remove a pip requirement by name."""
        self._pip = [p for p in self._pip if _pip_name(p) != _pip_name(pip_package)]

    def remove_conda_package(self, conda_package: str) -> None:
        """Remove a conda spec by name."""
        self._conda = [c for c in self._conda if spec_name(c) != spec_name(conda_package)]

    def remove_channel(self, channel: str) -> None:
        """Remove a channel."""
        self._channels = [c for c in self._channels if c != channel]

    def set_python_version(self, version: str) -> None:
        """Pin the Python version (``python=3.11``)."""
        self.add_conda_package(f"python={version}")

    def get_python_version(self) -> str | None:
        """The pinned Python version, if any."""
        return python_pin(self._conda)

    def serialize_to_string(self) -> str:
        """The conda ``environment.yml`` text."""
        return dumps(self.apply_to(Environment(name="conda")), "conda")

    def save(self, path: str | Path) -> Path:
        """Write the conda ``environment.yml`` to ``path``."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.serialize_to_string())
        return target

    def save_to_file(self, base_directory: str | Path, conda_file_path: str | None = None) -> str:
        """Write ``conda_file_path`` (default ``myenv.yml``) under ``base_directory``."""
        return str(self.save(Path(base_directory) / (conda_file_path or "myenv.yml")))

    def __repr__(self) -> str:
        return (f"CondaDependencies(name={self._name!r}, channels={self._channels!r}, "
                f"conda={self._conda!r}, pip={self._pip!r})")


def _pip_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;@]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _replace(items: list[str], new: str, name_of: Callable[[str], str]) -> list[str]:
    names = [name_of(item) for item in items]
    if name_of(new) not in names:
        return [*items, new]
    return [new if name == name_of(new) else item for item, name in zip(items, names, strict=True)]
