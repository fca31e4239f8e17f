"""Python packages for an image, downloaded on the host so the image build needs no network.

The host reaches the package index; containers and ``docker build --network none`` need not.
``pip download`` resolves the requirements for the *image's* Python version and platform (not the
host's) into a folder of wheels. Results are cached by the hash of their inputs, so the second
build of the same environment makes no network call at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name, parse_wheel_filename

from jupyter_deploy.config import cache_dir
from jupyter_deploy.errors import DependencyError
from jupyter_deploy.spec.environment import parse_requirement, unpinned

#: The engine's names for a machine, as wheel tags spell them.
_ARCHITECTURES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64",
                  "arm64": "aarch64"}


def platforms_for(architecture: str) -> tuple[str, ...]:
    """The manylinux tags a glibc-based image on ``architecture`` accepts (Debian 12: glibc 2.36).

    Raises:
        DependencyError: an architecture we have no wheel tags for.
    """
    machine = _ARCHITECTURES.get(architecture.lower())
    if machine is None:
        raise DependencyError(
            f"the engine runs on {architecture}, for which jupyter_deploy cannot pick wheels: "
            "use an x86_64 or arm64 engine, or a user-managed environment.")
    return (f"manylinux_2_28_{machine}", f"manylinux_2_17_{machine}", f"manylinux2014_{machine}",
            f"linux_{machine}")


#: The tags of an x86_64 image (the default when the engine is not asked).
PLATFORMS: tuple[str, ...] = platforms_for("x86_64")

#: pip itself goes into every wheelhouse: base images need not have pip.
PIP_REQUIREMENT = "pip"

Log = Callable[[str], None]


@dataclass(frozen=True)
class Wheelhouse:
    """A folder of wheels and what the requirements resolved to."""

    path: Path
    resolved: dict[str, str]
    warnings: tuple[str, ...]

    @property
    def files(self) -> list[Path]:
        """The wheel files, sorted (deterministic build contexts)."""
        return sorted(self.path.glob("*.whl"))

    def copy_to(self, dest: Path) -> None:
        """Put the wheels in ``dest``, hard-linked when possible (cheap, same bytes)."""
        dest.mkdir(parents=True, exist_ok=True)
        for wheel in self.files:
            link_or_copy(wheel, dest / wheel.name)


def link_or_copy(source: Path, target: Path) -> None:
    """Hard-link ``source`` as ``target`` (a copy across file systems); an existing one stays."""
    if target.exists():
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def download(
    requirements: Sequence[str],
    python_version: str = "3.11",
    platforms: Sequence[str] = PLATFORMS,
    log: Log | None = None,
) -> Wheelhouse:
    """Resolve and download wheels for ``requirements`` (plus pip) for the image's platform.

    Raises:
        DependencyError: a requirement does not exist or has no wheel for the platform.
    """
    for line in requirements:
        parse_requirement(line)
    wanted = [*sorted(set(requirements)), PIP_REQUIREMENT]
    key = _cache_key(wanted, python_version, platforms)
    folder = cache_dir() / "wheelhouses" / key
    marker = folder / ".resolved.json"
    if marker.exists():
        resolved = json.loads(marker.read_text())
    else:
        if log:
            log(f"Downloading wheels for Python {python_version}: {', '.join(wanted)}")
        resolved = _pip_download(wanted, folder, python_version, platforms)
        marker.write_text(json.dumps(resolved, sort_keys=True))
    return Wheelhouse(folder, resolved, tuple(_unpinned_warnings(requirements, resolved)))


def _pip_download(
    wanted: Sequence[str], folder: Path, python_version: str, platforms: Sequence[str]
) -> dict[str, str]:
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--quiet",
           "--only-binary=:all:", "--python-version", python_version,
           "--implementation", "cp", "-d", str(partial)]
    for platform in platforms:
        cmd += ["--platform", platform]
    proc = subprocess.run([*cmd, *wanted], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise _dependency_error(proc.stderr or proc.stdout, wanted, python_version)
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return _resolved_versions(folder)


def _dependency_error(output: str, wanted: Sequence[str], python_version: str) -> DependencyError:
    missing = re.findall(r"No matching distribution found for (\S+)", output)
    if missing:
        names = ", ".join(missing)
        message = (
            f"No wheel found for {names} for Python {python_version} on Linux x86_64: check the "
            "name and version on the package index, pick a version that publishes wheels for "
            "this platform, or install it in a custom base image."
        )
    else:
        tail = "\n".join(output.strip().splitlines()[-5:])
        message = f"pip could not download the requirements: {tail}"
    return DependencyError(message, tuple(missing or wanted), log=output)


def _resolved_versions(folder: Path) -> dict[str, str]:
    resolved = {}
    for wheel in folder.glob("*.whl"):
        name, version, _, _ = parse_wheel_filename(wheel.name)
        resolved[str(name)] = str(version)
    return resolved


def _unpinned_warnings(requirements: Sequence[str], resolved: dict[str, str]) -> list[str]:
    warnings = []
    for line in unpinned(requirements):
        name = canonicalize_name(parse_requirement(line).name)
        version = resolved.get(str(name))
        hint = f": pin it as '{name}=={version}'" if version else ""
        warnings.append(f"'{line}' is not pinned, so a later build may get another version{hint}")
    return warnings


def _cache_key(wanted: Sequence[str], python_version: str, platforms: Sequence[str]) -> str:
    payload = json.dumps([list(wanted), python_version, list(platforms)])
    return hashlib.sha256(payload.encode()).hexdigest()[:24]
