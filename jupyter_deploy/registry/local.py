"""The workspace's own container registry: a real Distribution registry on 127.0.0.1.

It runs as a plain background process of Debian's ``docker-registry`` binary when that is
installed, else as the ``registry:2`` image in the engine. Its storage lives under the data folder
(or a workspace's), so images survive restarts. Starting is idempotent: a registry that already
answers is left alone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from docker.models.containers import Container

from jupyter_deploy.config import LABEL_MANAGED, data_dir, get_config
from jupyter_deploy.engine.client import docker_client, engine_reachable, translate_docker_errors
from jupyter_deploy.errors import ConfigurationError, RegistryError

REGISTRY_BINARY = "docker-registry"
REGISTRY_IMAGE = "registry:2"


@dataclass(frozen=True)
class RegistryStatus:
    """Whether the registry answers, and how it runs."""

    address: str
    running: bool
    mode: str  # "process", "container", "external" or "stopped"
    root: Path
    auth: str = "none"  # "none", "htpasswd" or "token"

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready description."""
        return {"address": self.address, "running": self.running, "mode": self.mode,
                "root": str(self.root), "auth": self.auth}


@dataclass(frozen=True)
class TokenAuth:
    """Distribution's ``auth.token`` settings: who issues tokens and the certificate they chain to.

    Attributes:
        realm: URL of the token server the registry sends clients to.
        service: the name the token server puts in ``aud``.
        issuer: the ``iss`` the registry accepts.
        rootcertbundle: PEM file with the certificate(s) that sign tokens.
    """

    realm: str
    service: str
    issuer: str
    rootcertbundle: Path


class LocalRegistry:
    """A registry process bound to a loopback address, with its data in ``root``.

    Args:
        address: ``host:port``; the host must be a loopback address.
        root: folder for the config, the storage and the pid file.
        htpasswd: optional htpasswd file (bcrypt entries) that turns on Basic auth
            (see :func:`write_htpasswd`).
        token: optional token-server settings that turn on Bearer token auth.
    """

    def __init__(
        self, address: str | None = None, root: Path | None = None, htpasswd: Path | None = None,
        token: TokenAuth | None = None,
    ) -> None:
        self.address = address or get_config().registry_address
        host, _, port = self.address.rpartition(":")
        if not host.startswith("127.") and host != "localhost":
            raise ConfigurationError(
                f"the local registry must listen on loopback, not {host!r}: use 127.0.0.1:PORT"
            )
        self.port = int(port)
        self.root = root or data_dir() / "registry"
        self.htpasswd = htpasswd
        self.token = token
        if htpasswd and token:
            raise ConfigurationError("choose htpasswd or token auth for the registry, not both")

    @property
    def auth(self) -> str:
        """``"htpasswd"``, ``"token"`` or ``"none"``."""
        return "htpasswd" if self.htpasswd else "token" if self.token else "none"

    @property
    def url(self) -> str:
        """Base URL of the registry's HTTP API."""
        return f"http://{self.address}"

    def answers(self, timeout: float = 2.0) -> bool:
        """Whether ``/v2/`` answers (200, or 401 when auth is on)."""
        return self._probe(timeout) is not None

    def status(self) -> RegistryStatus:
        """Running or not, how, and which auth the running registry asks for."""
        auth = self._probe()
        if auth is None:
            return RegistryStatus(self.address, False, "stopped", self.root, self.auth)
        mode = "process" if self._pid() else "container" if self._containers() else "external"
        return RegistryStatus(self.address, True, mode, self.root, auth)

    def _probe(self, timeout: float = 2.0) -> str | None:
        """``"none"``, ``"htpasswd"`` or ``"token"`` as ``/v2/`` answers; None if it does not."""
        try:
            response = requests.get(f"{self.url}/v2/", timeout=timeout)
        except requests.RequestException:
            return None
        if response.status_code == 200:
            return "none"
        if response.status_code != 401:
            return None
        scheme = response.headers.get("WWW-Authenticate", "").split(" ")[0].lower()
        return "token" if scheme == "bearer" else "htpasswd"

    def start(self, timeout: float = 30.0) -> RegistryStatus:
        """Start the registry unless something already answers at the address.

        Raises:
            RegistryError: it did not come up (the log's tail is in the message).
        """
        if self.answers():
            return self.status()
        self.root.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        if shutil.which(REGISTRY_BINARY):
            self._start_process(config)
            mode = "process"
        else:
            self._start_container(config)
            mode = "container"
        self._wait(timeout)
        return RegistryStatus(self.address, True, mode, self.root, self.auth)

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop a registry this class started (process or container); whether one was stopped.

        A registry someone else runs at the address is left alone, and a stale pid file (the
        process is gone, or the pid now belongs to another program) is just removed.

        Raises:
            RegistryError: the process did not exit within ``timeout`` seconds.
        """
        stopped = False
        pid = self._pid()
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            self._wait_exit(pid, timeout)
            stopped = True
        self._pidfile.unlink(missing_ok=True)
        if engine_reachable():
            with translate_docker_errors("stopping the registry container"):
                for c in self._containers():
                    c.remove(force=True)
                    stopped = True
        return stopped

    # -- internals ---------------------------------------------------------------------------

    @property
    def _pidfile(self) -> Path:
        return self.root / f"registry-{self.port}.pid"

    @property
    def _label(self) -> str:
        return f"{LABEL_MANAGED}.registry={self.port}"

    def _pid(self) -> int | None:
        """The pid in our pid file if it is still a registry process (not a recycled pid)."""
        try:
            pid = int(self._pidfile.read_text())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        cmdline = Path(f"/proc/{pid}/cmdline")
        if cmdline.parent.parent.joinpath("self").exists():  # Linux: check what the pid runs
            try:
                if REGISTRY_BINARY.encode() not in cmdline.read_bytes():
                    return None
            except OSError:
                return None
        return pid

    def _wait_exit(self, pid: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        raise RegistryError(f"the registry process {pid} did not exit: kill it by hand")

    def _containers(self) -> list[Container]:
        if not engine_reachable():
            return []
        with translate_docker_errors("listing the registry container"):
            return list(docker_client().containers.list(filters={"label": self._label}))

    def _write_config(self) -> Path:
        storage = self.root / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        lines = [
            "version: 0.1",
            "log:",
            "  level: warn",
            "storage:",
            "  filesystem:",
            f"    rootdirectory: {storage}",
            "  delete:",
            "    enabled: true",
            "http:",
            f"  addr: {self.address}",
        ]
        if self.htpasswd:
            lines += ["auth:", "  htpasswd:", "    realm: jupyter-deploy",
                      f"    path: {self.htpasswd}"]
        if self.token:
            lines += ["auth:", "  token:", f"    realm: {self.token.realm}",
                      f"    service: {self.token.service}", f"    issuer: {self.token.issuer}",
                      f"    rootcertbundle: {self.token.rootcertbundle}"]
        config = self.root / f"config-{self.port}.yml"
        config.write_text("\n".join(lines) + "\n")
        return config

    def _start_process(self, config: Path) -> None:
        logfile = open(self.root / f"registry-{self.port}.log", "ab")  # noqa: SIM115 - child owns it
        proc = subprocess.Popen(
            [REGISTRY_BINARY, "serve", str(config)],
            stdout=logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        logfile.close()
        self._pidfile.write_text(str(proc.pid))

    def _start_container(self, config: Path) -> None:
        with translate_docker_errors("starting the registry container"):
            docker_client().containers.run(
                REGISTRY_IMAGE, detach=True, network_mode="host",
                labels={LABEL_MANAGED: "true", self._label.split("=")[0]: str(self.port)},
                volumes={str(self.root): {"bind": str(self.root), "mode": "rw"}},
                command=[str(config)],
                restart_policy={"Name": "unless-stopped"},
            )

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.answers(timeout=1.0):
                return
            time.sleep(0.2)
        log = self.root / f"registry-{self.port}.log"
        tail = "\n".join(log.read_text().splitlines()[-5:]) if log.exists() else ""
        raise RegistryError(f"the local registry at {self.address} did not start:\n{tail}")


def write_htpasswd(path: Path, users: dict[str, str]) -> Path:
    """Write an htpasswd file with bcrypt entries (``htpasswd -B``, password read from stdin).

    Raises:
        ConfigurationError: ``htpasswd`` (Debian's apache2-utils) is not installed.
        RegistryError: it refused a user name.
    """
    if shutil.which("htpasswd") is None:
        raise ConfigurationError(
            "htpasswd is missing: install apache2-utils (`jupyter-deploy setup` does)"
        )
    entries = []
    for username, password in users.items():
        proc = subprocess.run(["htpasswd", "-niB", username], input=password,
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RegistryError(f"htpasswd refused user {username!r}: {proc.stderr.strip()}")
        entries.append(proc.stdout.strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(entries) + "\n")
    path.chmod(0o600)
    return path
