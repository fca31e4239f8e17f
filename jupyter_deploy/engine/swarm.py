"""Docker Swarm mode through docker-py: the swarm itself, services, their tasks, secrets, networks.

This is the engine half of the Swarm deploy target (:mod:`jupyter_deploy.targets.swarm`): thin,
error-translated calls and the few facts the engine reports in odd shapes (a service's rollout
state, which task wrote a log line). It knows nothing of deployments or keys; the target decides
what to make.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import docker.errors
from docker.models.secrets import Secret
from docker.models.services import Service

from jupyter_deploy.engine.client import docker_client, translate_docker_errors
from jupyter_deploy.errors import ConfigurationError

Log = Callable[[str], None]

#: How the user turns swarm mode on (the message of every "swarm not active" refusal).
HOW_TO_ATTACH = ("run `jupyter-deploy compute attach swarm` (it initialises swarm mode on this "
                 "engine)")


@dataclass(frozen=True)
class SwarmInfo:
    """What the engine says of swarm mode: its state, whether it manages, how many nodes."""

    state: str  # inactive | pending | active | error | locked
    manager: bool
    nodes: int
    node_id: str = ""

    @property
    def active(self) -> bool:
        """Swarm mode is on."""
        return self.state == "active"


def swarm_info() -> SwarmInfo:
    """Read the engine's swarm state (one ``/info`` call)."""
    with translate_docker_errors("reading the engine's swarm state"):
        info = docker_client().info().get("Swarm") or {}
    return SwarmInfo(str(info.get("LocalNodeState") or "inactive"),
                     bool(info.get("ControlAvailable")), int(info.get("Nodes") or 0),
                     str(info.get("NodeID") or ""))


def require_manager() -> SwarmInfo:
    """The swarm state, when services can be made from here.

    Raises:
        ConfigurationError: swarm mode is off, or this engine is a worker (only managers place
        services).
    """
    info = swarm_info()
    if not info.active:
        raise ConfigurationError(
            f"this Docker engine is not in swarm mode (its state: {info.state}), so the swarm "
            f"target cannot run services: {HOW_TO_ATTACH}.")
    if not info.manager:
        raise ConfigurationError(
            "this Docker engine is a swarm worker: services are made from a manager. Point "
            "DOCKER_HOST at a manager node, or promote this node (`docker node promote`).")
    return info


def init_swarm(log: Log) -> SwarmInfo:
    """Turn swarm mode on for this engine alone, listening on 127.0.0.1 only.

    A swarm that is already active is left as it is (a multi-node swarm keeps its addresses).
    """
    info = swarm_info()
    if info.active:
        log(f"Swarm mode is already active on this engine ({info.nodes} node(s)).")
        return info
    log("Initialising Docker swarm mode on this engine (one node, listening on 127.0.0.1 only; "
        "`docker swarm leave --force` turns it off again) …")
    with translate_docker_errors("initialising swarm mode"):
        docker_client().swarm.init(advertise_addr="127.0.0.1", listen_addr="127.0.0.1:2377")
    return swarm_info()


# -- services ----------------------------------------------------------------------------------

def find_service(name: str) -> Service | None:
    """The service named exactly ``name``, or None."""
    with translate_docker_errors(f"looking up swarm service {name!r}"):
        try:
            service = docker_client().services.get(name)
        except docker.errors.NotFound:
            return None
    return service if service.name == name else None


def list_services(label: str) -> list[Service]:
    """Every service carrying ``label`` (``key`` or ``key=value``)."""
    with translate_docker_errors("listing swarm services"):
        return list(docker_client().services.list(filters={"label": label}))


def create_service(image: str, **spec: Any) -> Service:
    """``docker service create`` with docker-py's keyword arguments."""
    with translate_docker_errors(f"creating swarm service {spec.get('name')!r}"):
        return docker_client().services.create(image, **spec)


def update_service(service: Service, **spec: Any) -> None:
    """``docker service update`` (docker-py merges the given fields into the current spec)."""
    with translate_docker_errors(f"updating swarm service {service.name!r}"):
        service.reload()
        service.update(**spec)


def remove_service(service: Service) -> None:
    """Remove the service (its tasks stop); a service already gone is fine."""
    with (translate_docker_errors(f"removing swarm service {service.name!r}"),
          contextlib.suppress(docker.errors.NotFound)):
        service.remove()


@dataclass(frozen=True)
class Rollout:
    """The service's last update as the engine reports it ("" state when never updated)."""

    state: str
    message: str
    started: str


def rollout(service: Service) -> Rollout:
    """The state, message and start time of the service's last update."""
    with translate_docker_errors(f"reading swarm service {service.name!r}"):
        service.reload()
    status = service.attrs.get("UpdateStatus") or {}
    return Rollout(str(status.get("State") or ""), str(status.get("Message") or ""),
                   str(status.get("StartedAt") or ""))


def tasks(service: Service) -> list[dict[str, Any]]:
    """The service's tasks the swarm still tracks (newest first)."""
    with translate_docker_errors(f"reading the tasks of {service.name!r}"):
        found = list(service.tasks())
    return sorted(found, key=lambda t: str(t.get("CreatedAt", "")), reverse=True)


def replicas(service: Service) -> int:
    """The replica count the service asks for."""
    mode = service.attrs.get("Spec", {}).get("Mode", {})
    return int((mode.get("Replicated") or {}).get("Replicas", 1))


@dataclass(frozen=True)
class TaskView:
    """One task as users see it: its replica name, state, health and container."""

    name: str
    state: str
    desired: str
    health: str
    container_id: str
    error: str
    image: str


def task_views(service: Service) -> list[TaskView]:
    """The service's tasks with the health of their containers (read where they run here)."""
    views = []
    for task in tasks(service):
        status = task.get("Status") or {}
        container_id = str((status.get("ContainerStatus") or {}).get("ContainerID") or "")
        views.append(TaskView(
            f"{service.name}.{task.get('Slot', '?')}", str(status.get("State", "")),
            str(task.get("DesiredState", "")), _health(container_id), container_id,
            str(status.get("Err") or ""),
            str(task.get("Spec", {}).get("ContainerSpec", {}).get("Image", "")).split("@")[0]))
    return views


def _health(container_id: str) -> str:
    """A task container's health status ("" when it runs on another node or has no check)."""
    if not container_id:
        return ""
    try:
        attrs = docker_client().api.inspect_container(container_id)
    except (docker.errors.NotFound, docker.errors.APIError):
        return ""
    return str((attrs.get("State", {}).get("Health") or {}).get("Status", ""))


def service_logs(service: Service, lines: int | None = None, since: float | None = None
                 ) -> Iterator[tuple[str, str, str]]:
    """``(timestamp, replica, text)`` for each log line of every task, oldest first; ``lines``
    is the most lines of each task.

    Each task is read on its own (the engine's ``/tasks/<id>/logs``, which docker-py does not
    wrap) rather than through the service's log call: that call waits forever, with nothing to
    cut it short, for a task that never had a container — a task a rolling update made and the
    engine shut down before creating its container, as a rollback does. Such tasks have no log
    and are skipped.
    """
    found: list[tuple[str, str, str]] = []
    for task in tasks(service):
        if not (task.get("Status", {}).get("ContainerStatus") or {}).get("ContainerID"):
            continue
        replica = f"{service.name}.{task.get('Slot', '?')}"
        for line in _task_log(task["ID"], lines, since).splitlines():
            if line.strip():
                stamp, _, text = line.partition(" ")
                found.append((stamp, replica, text))
    yield from sorted(found, key=lambda entry: entry[0])


def _task_log(task_id: str, lines: int | None, since: float | None) -> str:
    """One task's log, stdout and stderr, each line after its timestamp."""
    params: dict[str, Any] = {"stdout": True, "stderr": True, "timestamps": True,
                              "tail": "all" if lines is None else lines}
    if since is not None:
        params["since"] = int(since)
    api = docker_client().api
    with translate_docker_errors(f"reading the log of swarm task {task_id[:12]}"):
        try:
            response = api._get(api._url("/tasks/{0}/logs", task_id), params=params,
                                stream=True)
            chunks = api._get_result_tty(True, response, False)  # tasks run without a TTY
            return b"".join(chunks).decode("utf-8", "replace")
        except docker.errors.NotFound:  # the task went away meanwhile
            return ""


# -- secrets and networks ----------------------------------------------------------------------

def create_secret(name: str, data: bytes, labels: Mapping[str, str]) -> Secret:
    """A swarm secret (its value is never readable through the API again)."""
    with translate_docker_errors(f"creating swarm secret {name!r}"):
        return docker_client().secrets.create(name=name, data=data, labels=dict(labels))


def secrets(label: str) -> list[Secret]:
    """Every secret carrying ``label``."""
    with translate_docker_errors("listing swarm secrets"):
        return list(docker_client().secrets.list(filters={"label": label}))


def remove_secret(secret: Secret) -> None:
    """Remove a secret no service uses any more (one already gone is fine)."""
    with (translate_docker_errors(f"removing swarm secret {secret.name!r}"),
          contextlib.suppress(docker.errors.NotFound)):
        secret.remove()


def ensure_network(name: str, labels: Mapping[str, str]) -> str:
    """An attachable overlay network called ``name`` (made once); returns its id."""
    client = docker_client()
    with translate_docker_errors(f"creating swarm network {name!r}"):
        found = [n for n in client.networks.list(names=[name]) if n.name == name]
        if found:
            return str(found[0].id)
        return str(client.networks.create(name, driver="overlay", attachable=True,
                                          labels=dict(labels)).id)


def remove_networks(label: str, attempts: int = 20) -> None:
    """Remove the networks carrying ``label``, waiting for their last tasks to let go."""
    client = docker_client()
    for _ in range(attempts):
        with translate_docker_errors("listing swarm networks"):
            left = client.networks.list(filters={"label": label})
        if not left:
            return
        for network in left:
            try:
                network.remove()
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError:
                time.sleep(0.5)  # tasks still attached: the engine detaches them shortly


def read_file(container_id: str, path: str) -> str:
    """A small file's content from inside a running container, through ``exec`` (not logged)."""
    with translate_docker_errors("reading a file in a service task"):
        result = docker_client().containers.get(container_id).exec_run(["cat", path])
    if result.exit_code != 0:
        raise ConfigurationError(f"could not read {path} in container {container_id[:12]}")
    return bytes(result.output).decode().strip()


def local_containers(service: Service) -> Sequence[str]:
    """Ids of the service's running task containers on this engine."""
    return [v.container_id for v in task_views(service)
            if v.state == "running" and v.container_id and _exists(v.container_id)]


def _exists(container_id: str) -> bool:
    try:
        docker_client().api.inspect_container(container_id)
    except docker.errors.NotFound:
        return False
    return True
