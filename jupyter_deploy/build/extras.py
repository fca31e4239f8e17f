"""Deploy-side support for adding Python packages to an image without rebuilding it (seed 004).

Two environment variables, both relative to the source folder, as on Azure:

- ``AZUREML_EXTRA_REQUIREMENTS_TXT`` names a requirements file installed when the container
  starts. Containers have no network, so the wheels are resolved and downloaded here, on the
  host, for the image's Python, and mounted read-only with the file; the server installs from
  them before ``init()``.
- ``AZUREML_EXTRA_PYTHON_LIB_PATH`` names a folder (a virtualenv's ``site-packages``) mounted
  read-only and put first on the server's path. The seed's common problems are reported here,
  before the container starts: compiled packages for another Python version, distributions
  whose requirements are neither in the folder nor in the image, a virtualenv that sees the
  global packages, conda mixed in, and a ``PYTHONPATH`` that would replace the image's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

from packaging.markers import InvalidMarker, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from jupyter_deploy.build.wheelhouse import download
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.server import protocol

Log = Callable[[str], None]
_CPYTHON_TAG = re.compile(r"\.cpython-(\d)(\d+)")


@dataclass(frozen=True)
class ExtraPackages:
    """What the container needs for the two variables: mounts, variables and warnings."""

    volumes: dict[str, dict[str, str]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def prepare(env_vars: Mapping[str, str], source_dir: Path, python_version: str,
            image_requirements: Iterable[str] = (), log: Log | None = None) -> ExtraPackages:
    """Resolve the extra requirements and check the extra library folder named in ``env_vars``.

    Raises:
        ConfigurationError: a named file or folder does not exist under ``source_dir``.
        DependencyError: a requirement has no wheel for the image's Python.
    """
    volumes: dict[str, dict[str, str]] = {}
    env: dict[str, str] = {}
    warnings: list[str] = []
    if env_vars.get(protocol.ENV_EXTRA_REQUIREMENTS):
        path = _existing(source_dir, env_vars[protocol.ENV_EXTRA_REQUIREMENTS], "file")
        lines, skipped = requirement_lines(path.read_text())
        warnings += [f"{path.name}: option line {line!r} is ignored" for line in skipped]
        house = download(lines, python_version, log=log)
        warnings += [f"{path.name}: {w}" for w in house.warnings]
        volumes[str(house.path)] = {"bind": protocol.WHEEL_CACHE_MOUNT, "mode": "ro"}
        volumes[str(path.resolve())] = {"bind": protocol.EXTRA_REQUIREMENTS_MOUNT, "mode": "ro"}
        env[protocol.ENV_WHEEL_CACHE] = protocol.WHEEL_CACHE_MOUNT
    if env_vars.get(protocol.ENV_EXTRA_LIB_PATH):
        folder = _existing(source_dir, env_vars[protocol.ENV_EXTRA_LIB_PATH], "folder")
        warnings += check_lib_folder(folder, python_version, image_requirements)
        volumes[str(folder.resolve())] = {"bind": protocol.EXTRA_LIB_MOUNT, "mode": "ro"}
    if "PYTHONPATH" in env_vars:
        warnings.append(
            "PYTHONPATH is set in the environment variables: it replaces the image's own path "
            "(where the scoring server lives) and leaks packages in; name a folder with "
            f"{protocol.ENV_EXTRA_LIB_PATH} instead."
        )
    for warning in warnings:
        if log:
            log(f"warning: {warning}")
    return ExtraPackages(volumes, env, tuple(warnings))


def with_extra_packages(options: dict[str, Any], env_vars: Mapping[str, str], source_dir: Path,
                        python_version: str, image_requirements: Iterable[str] = (),
                        log: Log | None = None) -> dict[str, Any]:
    """``run_options`` plus the mounts and variables :func:`prepare` finds (for ``deploy``).

    Raises:
        ConfigurationError, DependencyError: as :func:`prepare`.
    """
    extra = prepare(env_vars, source_dir, python_version, image_requirements, log)
    if not extra.volumes and not extra.env:
        return options
    return {**options, "volumes": {**dict(options.get("volumes") or {}), **extra.volumes},
            "env": {**dict(options.get("env") or {}), **extra.env}}


def requirement_lines(text: str) -> tuple[list[str], list[str]]:
    """The requirement lines of a requirements file, and the option lines it skips."""
    lines: list[str] = []
    skipped: list[str] = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        (skipped if line.startswith("-") else lines).append(line)
    return lines, skipped


def check_lib_folder(folder: Path, python_version: str,
                     image_requirements: Iterable[str] = ()) -> list[str]:
    """The seed's common problems with an extra library folder, as warnings."""
    warnings = _foreign_binaries(folder, python_version)
    warnings += _missing_requirements(folder, python_version, image_requirements)
    for parent in [folder, *folder.parents][:5]:
        config = parent / "pyvenv.cfg"
        if config.is_file() and re.search(r"include-system-site-packages\s*=\s*true",
                                          config.read_text(), re.IGNORECASE):
            warnings.append(f"{parent} was created with --system-site-packages: packages "
                            "installed globally on this host are not in the folder.")
        if (parent / "conda-meta").is_dir():
            warnings.append(f"{parent} is a conda environment: conda and virtualenv packages "
                            "mixed in one folder may be missing or leak; use a virtualenv.")
    return warnings


def _foreign_binaries(folder: Path, python_version: str) -> list[str]:
    wanted = python_version.replace(".", "")[:3]
    foreign: dict[str, str] = {}
    for binary in folder.rglob("*.so"):
        match = _CPYTHON_TAG.search(binary.name)
        if match and "".join(match.groups()) != wanted:
            top = binary.relative_to(folder).parts[0]
            foreign.setdefault(top, f"{match.group(1)}.{match.group(2)}")
    return [f"{name} is compiled for Python {version}, but the image runs Python "
            f"{python_version}: rebuild the folder with Python {python_version}."
            for name, version in sorted(foreign.items())]


def _missing_requirements(folder: Path, python_version: str,
                          image_requirements: Iterable[str]) -> list[str]:
    present = {canonicalize_name(_dist_name(p)) for p in folder.glob("*.dist-info")}
    present |= {canonicalize_name(_requirement_name(line))
                for line in [*image_requirements, *protocol.SERVER_REQUIREMENTS]}
    warnings = []
    for dist in sorted(folder.glob("*.dist-info")):
        metadata = dist / "METADATA"
        if not metadata.is_file():
            continue
        headers = HeaderParser().parsestr(metadata.read_text(errors="replace"))
        for line in headers.get_all("Requires-Dist") or []:
            needed = _needed(line, python_version)
            if needed and canonicalize_name(needed) not in present:
                warnings.append(f"{_dist_name(dist)} requires {needed}, which is neither in "
                                f"{folder.name} nor in the image: install it into the folder.")
    return warnings


def _needed(line: str, python_version: str) -> str | None:
    try:
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate(
                {"python_version": python_version, "extra": ""}):
            return None
    except (InvalidRequirement, InvalidMarker, UndefinedEnvironmentName):
        return None
    return requirement.name


def _dist_name(dist_info: Path) -> str:
    return dist_info.name[: -len(".dist-info")].rsplit("-", 1)[0]


def _requirement_name(line: str) -> str:
    try:
        return Requirement(line).name
    except InvalidRequirement:
        return line


def _existing(source_dir: Path, named: str, kind: str) -> Path:
    path = source_dir / named
    if (kind == "file" and path.is_file()) or (kind == "folder" and path.is_dir()):
        return path
    raise ConfigurationError(
        f"{named!r} is not a {kind} under the source folder {source_dir}: the extensibility "
        "variables name paths relative to the source folder (the entry script's folder when "
        "no source_dir is given)."
    )
