"""The default base image: a small Linux with Python 3.11, available even with no public registry.

Tried in order: the image is already in the engine (seconds); a public ``python:3.11-slim``
pull (when a public registry is reachable); an offline build from Debian packages with
``debootstrap`` and ``docker import``. The debootstrap root file system is cached as a tarball
outside git, so only the very first build on a machine takes minutes.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import docker.errors
import requests.exceptions

from jupyter_deploy.config import cache_dir, get_config
from jupyter_deploy.engine.client import docker_client, translate_docker_errors
from jupyter_deploy.engine.refusals import engine_error
from jupyter_deploy.errors import (
    BaseImageError,
    ConfigurationError,
    ImageNotFoundError,
    RegistryUnreachableError,
)

PUBLIC_FALLBACK = "python:3.11-slim"
DEBIAN_SUITE = "bookworm"

Log = Callable[[str], None]


def ensure_default_base_image(log: Log = print) -> str:
    """Make sure the configured default base image exists in the engine; return its name.

    Raises:
        DockerUnavailableError: no engine.
        BaseImageError: neither a public pull nor an offline build was possible.
        RegistryError: the public registry answered but refused the pull.
    """
    name = get_config().default_base_image
    client = docker_client()
    with translate_docker_errors(f"looking for base image {name}"):
        present = client.images.list(name=name)
    if present:
        log(f"Base image {name} is present.")
        return name
    if _try_public_pull(name, log):
        return name
    tarball = rootfs_tarball(log)
    log(f"Importing {tarball.name} as {name} …")
    repository, _, tag = name.rpartition(":")
    with translate_docker_errors(f"importing base image {name}"):
        client.api.import_image_from_file(
            str(tarball), repository=repository, tag=tag,
            changes=["ENV LANG=C.UTF-8", 'CMD ["python3"]'],
        )
    log(f"Base image {name} is ready (built offline from Debian {DEBIAN_SUITE}).")
    return name


def _try_public_pull(name: str, log: Log) -> bool:
    """Pull the public Python image when a registry answers; False only when none is reachable.

    Any other refusal (wrong credentials in Docker's config, a full disk) is raised as ours,
    not mistaken for "offline".
    """
    client = docker_client()
    try:
        image = client.images.pull(PUBLIC_FALLBACK)
    except docker.errors.APIError as e:
        refusal = engine_error("pull", PUBLIC_FALLBACK, str(e.explanation or e))
        if not isinstance(refusal, RegistryUnreachableError | ImageNotFoundError):
            raise refusal from e
        log(f"No public registry reachable for {PUBLIC_FALLBACK}; building {name} offline.")
        return False
    except requests.exceptions.RequestException as e:
        log(f"No public registry reachable for {PUBLIC_FALLBACK} ({e}); building {name} offline.")
        return False
    repository, _, tag = name.rpartition(":")
    with translate_docker_errors(f"tagging {PUBLIC_FALLBACK} as {name}"):
        image.tag(repository, tag)
    log(f"Pulled {PUBLIC_FALLBACK} as {name}.")
    return True


def rootfs_tarball(log: Log = print) -> Path:
    """A cached tarball of a minimal Debian with python3, made with debootstrap when missing.

    Raises:
        ConfigurationError: debootstrap is not installed (and cannot be, as non-root).
        BaseImageError: debootstrap or tar failed (the log tail is in the message).
    """
    target = cache_dir() / "base-image" / f"debian-{DEBIAN_SUITE}-python3.tar"
    if target.exists():
        return target
    if shutil.which("debootstrap") is None:
        raise ConfigurationError(
            "No default base image and no way to build one: install Debian's `debootstrap` "
            "(as root: apt-get install -y debootstrap), or set DeployConfig.default_base_image "
            "to an image with python3 that your engine has."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="jd-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        log("Building a minimal Debian with python3 (debootstrap, about 3 minutes, once) …")
        proc = subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=python3", DEBIAN_SUITE, str(rootfs)],
            capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0:
            raise BaseImageError(
                "debootstrap could not build the base image's Debian (it needs Debian's package "
                "mirror): check the network and disk space, or set "
                f"DeployConfig.default_base_image to an image with python3.\n{_tail(proc)}")
        _slim(rootfs)
        partial = target.with_suffix(".partial")
        proc = subprocess.run(["tar", "-C", str(rootfs), "-cf", str(partial), "."],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            partial.unlink(missing_ok=True)
            raise BaseImageError(
                f"packing the base image's files into {partial} failed: check the free space "
                f"there.\n{_tail(proc)}")
        partial.rename(target)
    return target


def _tail(proc: subprocess.CompletedProcess[str], lines: int = 8) -> str:
    return "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-lines:])


def _slim(rootfs: Path) -> None:
    """Drop package caches that only apt needs (about 90 MB)."""
    for pattern in ("var/cache/apt/archives/*.deb", "var/cache/apt/*.bin", "var/lib/apt/lists/*"):
        for path in rootfs.glob(pattern):
            if path.is_file():
                path.unlink()
