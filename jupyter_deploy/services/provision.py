"""Bring a machine to "ready to deploy": engine, local registry, default base image.

Idempotent and detecting first: an engine that already answers (Docker Desktop, a remote
``DOCKER_HOST``, an earlier run) is used as is; only a root user on a Debian-like system with no
engine gets ``apt-get install docker.io`` and a background ``dockerd``. Every step says what it
did, so a second run reads as three "already there" lines.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable

from jupyter_deploy.config import data_dir
from jupyter_deploy.engine.client import HOW_TO_START, engine_reachable, reset_client
from jupyter_deploy.engine.default_base import ensure_default_base_image
from jupyter_deploy.errors import DockerUnavailableError
from jupyter_deploy.registry.local import LocalRegistry, RegistryStatus

Log = Callable[[str], None]

#: Debian packages that give a real engine, the registry binary and the offline image builder.
APT_PACKAGES = ("docker.io", "docker-registry", "debootstrap", "apache2-utils")
#: Published ports through iptables rather than a copying proxy process per port: scoring
#: through a container's port then costs what it costs on the host (measured by
#: benchmarks/bench_server.py: container/host 1.08 without the proxy, 0.51-0.91 with it).
DOCKERD_FLAGS = ("--userland-proxy=false",)
#: The commands those packages give beside the engine.
TOOLS = ("docker-registry", "debootstrap", "htpasswd")


def provision(log: Log = print) -> None:
    """Engine, registry and base image, each only if missing.

    Raises:
        DockerUnavailableError: no engine, and none could be installed or started here.
        DeployError: the registry or the base image could not be made.
    """
    ensure_tools(log)
    ensure_engine(log)
    status = ensure_registry(log)
    log(f"Local registry answers at {status.address} ({status.mode}).")
    ensure_default_base_image(log)


def ensure_engine(log: Log = print, timeout: float = 60.0) -> None:
    """Use a reachable engine, or install and start one (root on Debian only).

    Raises:
        DockerUnavailableError: with what to do when nothing can be done automatically.
    """
    if engine_reachable():
        log("Docker engine answers.")
        return
    if shutil.which("dockerd") is None:
        _apt_install(log)
    _start_dockerd(log, timeout)


def ensure_tools(log: Log = print) -> None:
    """Install the registry binary, debootstrap and htpasswd when missing (root on Debian only).

    Elsewhere nothing is forced: the registry then runs as the ``registry:2`` image, and the
    missing tools are named so a user knows what they would add.
    """
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not missing:
        return
    if _can_apt():
        _apt_install(log)
    else:
        log(f"Not installed (optional here): {', '.join(missing)}.")


def ensure_registry(log: Log = print) -> RegistryStatus:
    """Start the workspace registry unless it answers already."""
    registry = LocalRegistry()
    if registry.answers():
        return registry.status()
    log(f"Starting the local registry at {registry.address} …")
    return registry.start()


def _can_apt() -> bool:
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def _apt_install(log: Log) -> None:
    if not _can_apt():
        if shutil.which("dockerd") is None:
            raise DockerUnavailableError(
                f"No Docker engine is reachable and this is not a root Debian machine, so none "
                f"can be installed automatically. {HOW_TO_START}"
            )
        return
    log(f"Installing {', '.join(APT_PACKAGES)} with apt-get (about a minute, once) …")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", *APT_PACKAGES]):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
            raise DockerUnavailableError(f"`{' '.join(cmd)}` failed:\n{tail}")


def _start_dockerd(log: Log, timeout: float) -> None:
    if shutil.which("dockerd") is None:
        raise DockerUnavailableError(f"dockerd is not installed. {HOW_TO_START}")
    if os.geteuid() != 0:
        raise DockerUnavailableError(f"dockerd must be started as root. {HOW_TO_START}")
    logfile_path = data_dir() / "dockerd.log"
    log(f"Starting dockerd in the background (log: {logfile_path}) …")
    with open(logfile_path, "ab") as logfile:
        subprocess.Popen(["dockerd", *DOCKERD_FLAGS], stdout=logfile, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reset_client()
        if engine_reachable():
            log("Docker engine answers.")
            return
        time.sleep(0.5)
    tail = "\n".join(logfile_path.read_text(errors="replace").splitlines()[-8:])
    raise DockerUnavailableError(f"dockerd did not answer within {timeout:.0f} s:\n{tail}")
