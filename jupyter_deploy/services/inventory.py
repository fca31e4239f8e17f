"""What runs on the engine, as plain dictionaries a sidebar or a CLI can show as they are.

The sidebar needs one cheap answer for "which containers are there" even with a hundred of them,
so listing uses the engine's single list call (no per-container inspect, no stats); CPU and
memory cost a stats call each and are asked for one container at a time. Actions (stop, remove,
restart, log tail) take a container id or name and raise our errors: an unknown container is a
:class:`ServiceNotFoundError` (404), a malformed name a :class:`ConfigurationError` (400).
Labels are never passed through wholesale — only the ones this project writes and knows to be
free of credentials. A Swarm service shows up here as its task containers
(``<service>.<slot>.<task id>``) plus, for ours, a load balancer (``jd-lb-<service>``); each
summary names the swarm service it belongs to and its role in it, so a list can group them under
the service instead of drowning the other containers.
"""

from __future__ import annotations

import re
import time
from typing import Any

from jupyter_deploy.config import LABEL_MANAGED, get_config
from jupyter_deploy.engine import containers
from jupyter_deploy.engine.client import HOW_TO_START, docker_client, translate_docker_errors
from jupyter_deploy.errors import ConfigurationError, DockerUnavailableError
from jupyter_deploy.server.protocol import DEFAULT_PORT as CONTAINER_PORT
from jupyter_deploy.spec.record import LABEL_SERVICE
from jupyter_deploy.targets.swarm import LABEL_OWNER

#: Swarm's own label on every task container of a service.
SWARM_SERVICE_LABEL = "com.docker.swarm.service.name"

_CONTAINER_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")


def check_container_ref(ref: str) -> str:
    """Return ``ref`` if it can name a container (an id or a name).

    Raises:
        ConfigurationError: it cannot (empty, a path, odd characters).
    """
    if not _CONTAINER_REF.match(ref or ""):
        raise ConfigurationError(
            f"{ref!r} is not a container id or name: use the id or name the container list shows."
        )
    return ref


def engine_info() -> dict[str, Any]:
    """The engine's version and reachability; never raises (the settings page shows it)."""
    try:
        client = docker_client(timeout=10)
        with translate_docker_errors("asking the engine for its version"):
            version = client.version()
    except DockerUnavailableError as e:
        return {"reachable": False, "version": None, "api_version": None,
                "error": e.message, "how_to_start": HOW_TO_START}
    return {"reachable": True, "version": version.get("Version"),
            "api_version": version.get("ApiVersion"), "os": version.get("Os"),
            "arch": version.get("Arch"), "error": None, "how_to_start": HOW_TO_START}


def list_containers(all: bool = True) -> list[dict[str, Any]]:
    """Every container on the engine, newest first, in one engine call.

    Raises:
        DockerUnavailableError: no engine answers.
    """
    with translate_docker_errors("listing containers"):
        found = docker_client().api.containers(all=all)
    now = time.time()
    return [_summary(raw, now) for raw in found]


def get_container(ref: str) -> dict[str, Any]:
    """One container's summary plus when it started (one inspect call).

    Raises:
        ConfigurationError: ``ref`` is malformed.
        ServiceNotFoundError: no such container.
        DockerUnavailableError: no engine answers.
    """
    check_container_ref(ref)
    with translate_docker_errors(f"reading container {ref!r}"):
        raw = docker_client().api.inspect_container(ref)
    return _detail(raw)


def container_stats(ref: str) -> dict[str, Any]:
    """Memory (and CPU when the engine gives a previous sample) of one running container.

    Raises:
        ConfigurationError, ServiceNotFoundError, DockerUnavailableError.
    """
    check_container_ref(ref)
    with translate_docker_errors(f"reading the stats of {ref!r}"):
        raw = docker_client().api.stats(ref, stream=False)
    memory = raw.get("memory_stats") or {}
    return {"id": raw.get("id", ref), "memory_bytes": memory.get("usage"),
            "memory_limit": memory.get("limit"), "cpu_percent": _cpu_percent(raw)}


def logs(ref: str, lines: int = 200) -> str:
    """The last ``lines`` lines of a container's log (stdout and stderr).

    Raises:
        ConfigurationError, ServiceNotFoundError, DockerUnavailableError.
    """
    return containers.logs(check_container_ref(ref), lines)


def stop(ref: str) -> dict[str, Any]:
    """Stop a container; return its new summary.

    Raises:
        ConfigurationError, ServiceNotFoundError, DockerUnavailableError.
    """
    containers.stop(check_container_ref(ref))
    return get_container(ref)


def restart(ref: str) -> dict[str, Any]:
    """Restart a container (start it if stopped); return its new summary.

    Raises:
        ConfigurationError, ServiceNotFoundError, DockerUnavailableError.
    """
    containers.restart(check_container_ref(ref))
    return get_container(ref)


def remove(ref: str) -> None:
    """Remove a container, stopping it first if it runs.

    Raises:
        ConfigurationError, ServiceNotFoundError, DockerUnavailableError.
    """
    containers.remove(check_container_ref(ref))


# -- shaping the engine's answers -------------------------------------------------------------


def _summary(raw: dict[str, Any], now: float) -> dict[str, Any]:
    labels = raw.get("Labels") or {}
    names = [n.lstrip("/") for n in raw.get("Names") or []]
    ports = [_port(p) for p in raw.get("Ports") or []]
    created = raw.get("Created")
    return {
        "id": raw["Id"][:12], "name": names[0] if names else raw["Id"][:12],
        "image": raw.get("Image", ""), "state": raw.get("State", ""),
        "status": raw.get("Status", ""), "health": _health(raw.get("Status", "")),
        "ports": ports, "created": created,
        "age_seconds": int(now - created) if isinstance(created, int) else None,
        "ours": labels.get(LABEL_MANAGED) == "true" or LABEL_SERVICE in labels,
        "service": labels.get(LABEL_SERVICE),
        "scoring_uri": _scoring_uri(labels, ports),
        **swarm_membership(labels),
    }


def _detail(raw: dict[str, Any]) -> dict[str, Any]:
    state = raw.get("State") or {}
    config = raw.get("Config") or {}
    ports = [
        {"ip": b.get("HostIp", ""), "private_port": int(key.split("/")[0]),
         "public_port": int(b["HostPort"]) if b.get("HostPort") else None,
         "type": key.split("/")[-1]}
        for key, bindings in ((raw.get("NetworkSettings") or {}).get("Ports") or {}).items()
        for b in bindings or []
    ]
    labels = config.get("Labels") or {}
    health = (state.get("Health") or {}).get("Status")
    return {
        "id": raw["Id"][:12], "name": raw.get("Name", "").lstrip("/"),
        "image": config.get("Image", ""), "state": state.get("Status", ""),
        "status": state.get("Status", ""), "health": health, "ports": ports,
        "started_at": state.get("StartedAt"), "finished_at": state.get("FinishedAt"),
        "exit_code": state.get("ExitCode"),
        "ours": labels.get(LABEL_MANAGED) == "true" or LABEL_SERVICE in labels,
        "service": labels.get(LABEL_SERVICE), "scoring_uri": _scoring_uri(labels, ports),
        **swarm_membership(labels),
    }


def swarm_membership(labels: dict[str, str]) -> dict[str, str | None]:
    """``swarm_service`` (the Swarm service a container belongs to, or None) and ``role``
    (``replica`` for a task container, ``load-balancer`` for the one we put in front)."""
    if SWARM_SERVICE_LABEL in labels:
        return {"swarm_service": labels[SWARM_SERVICE_LABEL], "role": "replica"}
    if LABEL_OWNER in labels:
        return {"swarm_service": labels[LABEL_OWNER], "role": "load-balancer"}
    return {"swarm_service": None, "role": None}


def _port(raw: dict[str, Any]) -> dict[str, Any]:
    return {"ip": raw.get("IP", ""), "private_port": raw.get("PrivatePort"),
            "public_port": raw.get("PublicPort"), "type": raw.get("Type", "tcp")}


def _health(status: str) -> str | None:
    match = _HEALTH.search(status)
    if not match:
        return None
    return "starting" if match.group(1) == "health: starting" else match.group(1)


def _scoring_uri(labels: dict[str, str], ports: list[dict[str, Any]]) -> str | None:
    if LABEL_SERVICE not in labels:
        return None
    for port in ports:
        if port["private_port"] == CONTAINER_PORT and port["public_port"]:
            host = port["ip"] if port["ip"] not in ("", "0.0.0.0", "::") else None
            return f"http://{host or get_config().host_interface}:{port['public_port']}/score"
    return None


def _cpu_percent(raw: dict[str, Any]) -> float | None:
    cpu, pre = raw.get("cpu_stats") or {}, raw.get("precpu_stats") or {}
    try:
        used = cpu["cpu_usage"]["total_usage"] - pre["cpu_usage"]["total_usage"]
        system = cpu["system_cpu_usage"] - pre["system_cpu_usage"]
    except (KeyError, TypeError):
        return None
    cores = cpu.get("online_cpus") or 1
    return round(100.0 * used / system * cores, 1) if system > 0 else None
