"""Containers in the engine: run a scoring image on a loopback port, wait for it, read its logs.

Ports are published on 127.0.0.1 by default, and a taken port is reported with who holds it
*before* the engine is asked. Readiness is an HTTP health probe every 50 ms (the engine's view
of the container asked with backoff) that ends the moment the server answers or the container
exits — never a fixed sleep, and never "ready" on a timeout.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import socket
import subprocess
import tarfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import docker.errors
import docker.types
import requests
from docker.models.containers import Container

from jupyter_deploy.config import LABEL_MANAGED, get_config
from jupyter_deploy.engine.client import docker_client, translate_docker_errors
from jupyter_deploy.errors import (
    ConfigurationError,
    ContainerError,
    ContainerNotReadyError,
    PortInUseError,
)
from jupyter_deploy.server.protocol import DEFAULT_PORT as CONTAINER_PORT

Log = Callable[[str], None]
#: How often readiness is probed: a refused connection costs microseconds, while the engine's
#: view (state, new log lines) is asked for with backoff up to half a second.
PROBE_SECONDS = 0.05


@dataclass(frozen=True)
class RunOptions:
    """How to start a scoring container."""

    name: str
    port: int | None = None
    host: str = ""
    env: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    shm_size: str | None = None
    mem_limit: str | None = None
    cpus: float | None = None
    gpus: str | None = None
    cap_add: tuple[str, ...] = ()
    user: str | None = None
    volumes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def interface(self) -> str:
        """The host interface ports are published on (loopback unless configured)."""
        return self.host or get_config().host_interface


def run(image: str, options: RunOptions) -> Container:
    """Start ``image`` detached, with 5001 published on ``options.interface:port``.

    Raises:
        PortInUseError: the port is taken (the message names the holder).
        ContainerError, ImageNotFoundError, DockerUnavailableError: from the engine.
    """
    return start_created(create(image, options), options)


def create(image: str, options: RunOptions) -> Container:
    """Create, not start, ``image``'s container, 5001 to be published on ``options.interface``
    at ``options.port`` (a free port if none): the engine takes the port only when it starts,
    so a service being replaced can keep it until then.

    Raises:
        ContainerError, ImageNotFoundError, DockerUnavailableError: from the engine.
    """
    port = options.port or free_port(options.interface)
    kwargs = {
        "name": options.name,
        "ports": {f"{CONTAINER_PORT}/tcp": (options.interface, port)},
        "labels": {LABEL_MANAGED: "true", **options.labels},
        "environment": dict(options.env), "shm_size": options.shm_size,
        "mem_limit": options.mem_limit, "volumes": {k: dict(v) for k, v in options.volumes.items()},
        "nano_cpus": int(options.cpus * 1e9) if options.cpus else None,
        "cap_add": list(options.cap_add) or None, "user": options.user,
        "device_requests": gpu_requests(options.gpus),
    }
    with translate_docker_errors(f"creating container {options.name!r}"):
        return docker_client().containers.create(image, **kwargs)


def start_created(container: Container, options: RunOptions) -> Container:
    """Start a container :func:`create` made; a taken port is named with its holder, and the
    container removed.

    Raises:
        PortInUseError: the port is taken.
        ContainerError, DockerUnavailableError: from the engine.
    """
    binding = container.attrs["HostConfig"]["PortBindings"][f"{CONTAINER_PORT}/tcp"][0]
    port = int(binding["HostPort"])
    try:
        if options.port:
            check_port_free(options.interface, port)
        with translate_docker_errors(f"starting container {container.name!r}"):
            try:
                container.start()
            except docker.errors.APIError as e:
                if "port is already allocated" in str(e) or "address already in use" in str(e):
                    raise PortInUseError(_port_message(options.interface, port)) from e
                raise
    except PortInUseError:
        _remove_quietly(container.id or "")
        raise
    return container


def gpu_requests(gpus: str | None) -> list[docker.types.DeviceRequest] | None:
    """Device requests for ``--gpus all|N``, after checking the engine has a GPU runtime.

    Raises:
        ConfigurationError: GPUs were asked for and the engine has none.
    """
    if not gpus:
        return None
    with translate_docker_errors("reading the engine's runtimes"):
        runtimes = docker_client().info().get("Runtimes") or {}
    if "nvidia" not in runtimes:
        raise ConfigurationError(
            f"GPUs were requested (gpus={gpus!r}) but this Docker engine has no GPU runtime: "
            "install the NVIDIA Container Toolkit on a machine with a GPU, or drop the request."
        )
    count = -1 if gpus == "all" else int(gpus)
    return [docker.types.DeviceRequest(count=count, capabilities=[["gpu"]])]


#: ``docker run`` flags accepted in ``Environment.docker_arguments``, and the option each sets.
_RUN_FLAGS = {"--cpus": "cpus", "--memory": "mem_limit", "-m": "mem_limit",
              "--shm-size": "shm_size", "--gpus": "gpus", "--user": "user", "-u": "user",
              "--env": "env", "-e": "env", "--cap-add": "cap_add"}


def parse_run_arguments(arguments: Sequence[str]) -> dict[str, Any]:
    """Turn the seeds' ``docker.arguments`` into :class:`RunOptions` fields (never dropped).

    Raises:
        ConfigurationError: an argument is not one we can honour (the supported ones are named).
    """
    options: dict[str, Any] = {}
    items = list(arguments)
    while items:
        flag, _, value = items.pop(0).partition("=")
        if flag not in _RUN_FLAGS:
            raise ConfigurationError(
                f"docker argument {flag!r} is not supported; use one of "
                f"{', '.join(sorted(_RUN_FLAGS))}"
            )
        if not value:
            if not items:
                raise ConfigurationError(f"docker argument {flag} needs a value")
            value = items.pop(0)
        _set_run_option(options, _RUN_FLAGS[flag], value)
    return options


def _set_run_option(options: dict[str, Any], key: str, value: str) -> None:
    if key == "env":
        name, sep, val = value.partition("=")
        if not sep:
            raise ConfigurationError(f"-e {value}: write it as NAME=VALUE")
        options.setdefault("env", {})[name] = val
    elif key == "cap_add":
        options["cap_add"] = (*options.get("cap_add", ()), value)
    elif key == "cpus":
        try:
            options["cpus"] = float(value)
        except ValueError as e:
            raise ConfigurationError(f"--cpus {value}: not a number") from e
    else:
        options[key] = value


def published_port(container: Container) -> int:
    """The host port that 5001 is published on (as configured: stopped containers keep it).

    Raises:
        ContainerError: it publishes none. ServiceNotFoundError: it is gone.
    """
    with translate_docker_errors(f"reading container {container.name!r}"):
        container.reload()
    configured = container.attrs["HostConfig"].get("PortBindings") or {}
    bindings = configured.get(f"{CONTAINER_PORT}/tcp") or []
    if not bindings or not bindings[0].get("HostPort"):
        raise ContainerError(f"container {container.name} publishes no port", logs=tail(container))
    return int(bindings[0]["HostPort"])


def wait_until_ready(
    container: Container, url: str, timeout: float | None = None, log: Log | None = None,
    after: str = "",
) -> None:
    """Poll ``url`` until it answers 200, streaming log lines newer than ``after`` to ``log``.

    ``after`` is a :func:`log_cursor` taken before a restart ("" streams the whole log). Each
    poll asks the engine only for the lines of the last second or so, so following a long log
    costs what the new lines cost, not the whole log again.

    Raises:
        ContainerError: the container exited first (its log tail and exit code attached).
        ContainerNotReadyError: still not answering after ``timeout`` seconds.
    """
    timeout = timeout or get_config().ready_timeout
    deadline, delay, shown = time.monotonic() + timeout, 0.05, after
    restarts = container.attrs.get("RestartCount", 0)
    watch_at = 0.0  # when to ask the engine next; the probe (a refused connect) runs more often
    while True:
        if time.monotonic() >= watch_at:
            with translate_docker_errors(f"watching container {container.name!r}"):
                container.reload()
                shown = _stream_new_lines(container, shown, log)
            if _crashed(container, restarts):
                code = container.attrs["State"].get("ExitCode")
                _stop_restarting(container)
                logs = tail(container)
                raise ContainerError(
                    f"container {container.name!r} exited with code {code} before answering. "
                    f"The end of its log:\n{logs}", logs=logs, exit_status=code,
                )
            watch_at, delay = time.monotonic() + delay, min(delay * 1.5, 0.5)
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=1.0).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise ContainerNotReadyError(
                f"container {container.name!r} did not answer at {url} within {timeout:.0f} s; it "
                "is still running: read its logs, or raise DeployConfig.ready_timeout.",
                logs=tail(container),
            )
        time.sleep(PROBE_SECONDS)


def _crashed(container: Container, restarts: int) -> bool:
    """Exited, or restarted by its restart policy since we began watching."""
    return container.status in ("exited", "dead", "restarting") or int(
        container.attrs.get("RestartCount", 0)) > restarts


def keep_alive(container: Container) -> None:
    """Let the engine bring the container back after it restarts, until someone stops it.

    Set only once the server has answered, so a script whose ``init()`` fails never loops.
    """
    with translate_docker_errors(f"updating {container.name!r}"):
        container.update(restart_policy={"Name": "unless-stopped"})


def _stop_restarting(container: Container) -> None:
    """A server that cannot start is left stopped, its log intact, not restarted in a loop."""
    with contextlib.suppress(docker.errors.APIError):
        container.update(restart_policy={"Name": "no"})
        container.stop(timeout=1)


def _stream_new_lines(container: Container, cursor: str, log: Log | None) -> str:
    """Send the lines logged after ``cursor`` to ``log``; return the new cursor."""
    if log is None:
        return cursor
    since = int(_moment(cursor)) if cursor else None
    raw = container.logs(timestamps=True, since=since).decode("utf-8", errors="replace")
    for line in raw.splitlines():
        stamp, _, text = line.partition(" ")
        if cursor and _ordered(stamp) <= _ordered(cursor):
            continue
        log(text)
        cursor = stamp
    return cursor


def log_cursor(container: Container) -> str:
    """Where the container's log ends now (the timestamp of its last line; "" when empty)."""
    with translate_docker_errors(f"reading logs of {container.name!r}"):
        last = container.logs(tail=1, timestamps=True).decode("utf-8", errors="replace")
    return last.partition(" ")[0] if last.strip() else ""


def _ordered(stamp: str) -> str:
    """An RFC 3339 timestamp with its fraction padded to nine digits, so strings sort by time."""
    head, dot, rest = stamp.rstrip("Z").partition(".")
    return f"{head}.{(rest if dot else '').ljust(9, '0')}"


def _moment(stamp: str) -> float:
    head = stamp.rstrip("Z").partition(".")[0]
    return datetime.fromisoformat(head).replace(tzinfo=timezone.utc).timestamp()


def state_of(container: Container, url: str) -> str:
    """A service state from the engine's view of ``container`` plus a probe of ``url``.

    Exits by signal or with 0 are "Stopped" (someone stopped it); any other exit, or an
    out-of-memory kill, is "Failed". A running server that does not answer is "Transitioning"
    while it may still be starting, "Unhealthy" after the readiness timeout.
    """
    state = container.attrs["State"]
    status = state.get("Status")
    if status in ("created", "restarting"):
        return "Transitioning"
    if status in ("exited", "dead"):
        graceful = state.get("ExitCode") in (0, 137, 143) and not state.get("OOMKilled")
        return "Stopped" if graceful else "Failed"
    if status == "paused" or not url:
        return "Unhealthy"
    if _answers(url):
        return "Healthy"
    return "Transitioning" if _started_recently(state) else "Unhealthy"


def _answers(url: str) -> bool:
    try:
        return bool(requests.get(url, timeout=1.0).status_code == 200)
    except requests.RequestException:
        return False


def _started_recently(state: Mapping[str, Any]) -> bool:
    started = str(state.get("StartedAt", ""))[:26].rstrip("Z")
    try:
        at = datetime.fromisoformat(started).replace(tzinfo=timezone.utc)
    except ValueError:
        return False
    return (datetime.now(timezone.utc) - at).total_seconds() < get_config().ready_timeout


#: Seconds a stopped container gets between SIGTERM and SIGKILL (the server's graceful
#: shutdown finishes the answers in flight well within it).
STOP_TIMEOUT = 5


# -- the container verbs: the one way a container is stopped, started, restarted, killed,
# -- removed or read, whether from a Deployment, the CLI, the magics or the sidebar. ``ref`` is
# -- an id or a name; ``what`` names the container in errors ("service 'iris'").


def stop(ref: str, what: str = "", timeout: int = STOP_TIMEOUT) -> None:
    """Stop a container gracefully (``docker stop``)."""
    with translate_docker_errors(f"stopping {what or repr(ref)}"):
        docker_client().api.stop(ref, timeout=timeout)


def start(ref: str, what: str = "") -> None:
    """Start a stopped container (``docker start``); its ports stay as configured."""
    with translate_docker_errors(f"starting {what or repr(ref)}"):
        docker_client().api.start(ref)


def restart(ref: str, what: str = "", timeout: int = STOP_TIMEOUT) -> None:
    """Restart a container, or start it if it is stopped (``docker restart``)."""
    with translate_docker_errors(f"restarting {what or repr(ref)}"):
        docker_client().api.restart(ref, timeout=timeout)


def kill(ref: str, what: str = "") -> None:
    """Kill a container at once (``docker kill``)."""
    with translate_docker_errors(f"killing {what or repr(ref)}"):
        docker_client().api.kill(ref)


def remove(ref: str, what: str = "") -> None:
    """Remove a container, stopping it first if it runs (``docker rm -f``)."""
    with translate_docker_errors(f"removing {what or repr(ref)}"):
        docker_client().api.remove_container(ref, force=True)


def logs(ref: str, lines: int | None = None, what: str = "") -> str:
    """The last ``lines`` lines (default ``DeployConfig.log_tail``) of stdout and stderr."""
    count = max(1, min(int(lines or get_config().log_tail), 10_000))
    with translate_docker_errors(f"reading the log of {what or repr(ref)}"):
        raw = docker_client().api.logs(ref, tail=count, timestamps=False)
    return bytes(raw).decode("utf-8", errors="replace").rstrip()


def tail(container: Container, lines: int | None = None) -> str:
    """The last ``lines`` lines of ``container``'s log (for errors about it)."""
    return logs(container.id or container.name or "", lines, f"container {container.name!r}")


def free_port(interface: str = "127.0.0.1") -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((interface, 0))
        return int(s.getsockname()[1])


def check_port_free(interface: str, port: int) -> None:
    """Raise :class:`PortInUseError` naming the holder when ``port`` is taken."""
    with socket.socket() as s:
        try:
            s.bind((interface, port))
        except OSError as e:
            raise PortInUseError(_port_message(interface, port)) from e


def _port_message(interface: str, port: int) -> str:
    holder = _port_holder(port)
    return (
        f"port {port} on {interface} is taken by {holder}: pass another port (or none to get a "
        "free one), or stop what holds it."
    )


def _port_holder(port: int) -> str:
    with contextlib.suppress(Exception):
        for c in docker_client().containers.list(filters={"publish": str(port)}):
            return f"container {c.name!r}"
    if shutil.which("ss"):
        out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True,
                             text=True, check=False).stdout
        match = re.search(r'users:\(\("([^"]+)",pid=(\d+)', out)
        if match:
            return f"process {match.group(1)!r} (pid {match.group(2)})"
    return "another program"


def remove_ours(name: str) -> None:
    """Remove the container ``name`` if there is one; this project must have made it.

    Raises:
        ConfigurationError: a container of that name that this project did not make (it is
        never touched).
    """
    with translate_docker_errors(f"removing container {name!r}"):
        try:
            found = docker_client().containers.get(name)
        except docker.errors.NotFound:
            return
        if found.labels.get(LABEL_MANAGED) != "true":
            raise ConfigurationError(
                f"a container named {name!r} is in the way and was not made by jupyter_deploy, "
                f"so it is left alone: rename or remove it (`docker rm -f {name}`) and try again."
            )
        found.remove(force=True)


def _remove_quietly(name: str) -> None:
    with contextlib.suppress(Exception):
        docker_client().containers.get(name).remove(force=True)


def copy_into(container: Container, folder: str, files: Mapping[str, Path]) -> None:
    """Write host ``files`` (archive name → path) into ``folder`` of a container, running or not."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for arcname, path in sorted(files.items()):
            archive.add(str(path), arcname=arcname, recursive=False)
    with translate_docker_errors(f"copying files into {container.name!r}"):
        container.put_archive(folder, buffer.getvalue())
