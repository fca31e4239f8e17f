"""The HAProxy container that publishes a Swarm service on 127.0.0.1 (see :mod:`build.haproxy`).

Its image is made offline, once per machine, the way the default base image is: Debian's HAProxy
packages are fetched on the host (``apt-get download`` reaches only Debian's mirror) and unpacked
onto the default base image. One container per service, named ``jd-lb-<service>``, on the
service's overlay network; its configuration is written into it before it starts, so nothing is
bind-mounted from the host (a remote engine works the same).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import docker.errors
from docker.models.containers import Container

from jupyter_deploy.build import haproxy
from jupyter_deploy.config import LABEL_MANAGED, cache_dir, get_config
from jupyter_deploy.engine import containers, images
from jupyter_deploy.engine.client import docker_client, translate_docker_errors
from jupyter_deploy.errors import BaseImageError, ConfigurationError, PortInUseError

Log = Callable[[str], None]
IMAGE = "jupyter-deploy/load-balancer:haproxy-bookworm"


def container_name(service: str) -> str:
    """The load balancer's container name for ``service``."""
    return f"jd-lb-{service}"


def ensure_image(log: Log) -> str:
    """The load balancer's image, built offline when the engine does not have it yet.

    Raises:
        ConfigurationError: no ``apt-get`` on this machine to fetch HAProxy's packages.
        BaseImageError: the packages could not be fetched, or the image not built.
    """
    with translate_docker_errors(f"looking for {IMAGE}"):
        if docker_client().images.list(name=IMAGE):
            return IMAGE
    debs = _packages(log)
    base = get_config().default_base_image
    log(f"Building the load balancer image {IMAGE} (HAProxy from Debian on {base}, once) …")
    with tempfile.TemporaryDirectory(prefix="jd-lb-") as tmp:
        context = Path(tmp)
        shutil.copytree(debs, context / "debs")
        (context / "Dockerfile").write_text(haproxy.dockerfile(base))
        images.build(str(context), IMAGE, log=None, labels={LABEL_MANAGED: "true"})
    return IMAGE


def _packages(log: Log) -> Path:
    """HAProxy's .deb files, fetched once into the cache."""
    folder = cache_dir() / "load-balancer" / "debs"
    if folder.is_dir() and len(list(folder.glob("*.deb"))) == len(haproxy.PACKAGES):
        return folder
    if shutil.which("apt-get") is None:
        raise ConfigurationError(
            "the Swarm target's load balancer is HAProxy from Debian's packages, and this machine "
            "has no apt-get to fetch them: run `jupyter-deploy compute attach swarm` once on a "
            f"Debian/Ubuntu machine with this engine, or load an image named {IMAGE} into it.")
    log("Fetching HAProxy's Debian packages for the load balancer (about 2 MB, once) …")
    partial = folder.with_suffix(".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    proc = subprocess.run(["apt-get", "download", *haproxy.PACKAGES], cwd=partial,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BaseImageError(
            "fetching HAProxy's packages with apt-get failed (it needs Debian's package mirror): "
            f"check the network, or run `apt-get update` first.\n{proc.stderr.strip()[-600:]}")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return folder


def find(service: str) -> Container | None:
    """The load balancer of ``service``, or None."""
    with translate_docker_errors(f"looking up the load balancer of {service!r}"):
        try:
            return docker_client().containers.get(container_name(service))
        except docker.errors.NotFound:
            return None


def start(service: str, balancing: haproxy.Balancing, network: str, port: int | None,
          interface: str, labels: Mapping[str, str], log: Log) -> Container:
    """Run the load balancer for ``service`` on ``interface:port`` (a free port when None).

    Raises:
        PortInUseError: the port is taken.
    """
    image = ensure_image(log)
    port = port or containers.free_port(interface)
    containers.check_port_free(interface, port)
    name = container_name(service)
    client = docker_client()
    with translate_docker_errors(f"starting the load balancer of {service!r}"):
        try:
            made = client.containers.create(
                image, name=name, detach=True, network=network,
                ports={f"{haproxy.LISTEN_PORT}/tcp": (interface, port)},
                labels={LABEL_MANAGED: "true", **labels},
                restart_policy={"Name": "unless-stopped"})
        except docker.errors.APIError as e:
            if "port is already allocated" in str(e):
                raise PortInUseError(f"port {port} on {interface} is taken: pass another port, "
                                     "or stop what holds it.") from e
            raise
        made.put_archive("/etc/haproxy", _archive("haproxy.cfg", haproxy.config(balancing)))
        made.start()
    return made


def _archive(name: str, text: str) -> bytes:
    data = text.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), 0o644
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def remove(service: str) -> None:
    """Remove the load balancer of ``service`` (none is fine)."""
    found = find(service)
    if found is not None:
        containers.remove(found.id, f"the load balancer of {service!r}")
