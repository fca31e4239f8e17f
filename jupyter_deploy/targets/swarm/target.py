"""Docker Swarm as a deploy target: a replicated service behind a load balancer on 127.0.0.1.

One deployment is four things, all labelled with the service's name so ``remove`` leaves none
behind: the Swarm service (its replicas, resources, health check on the server's route, and a
rolling update that starts each new task first and rolls back by itself), an attachable overlay
network, the HAProxy container publishing it on the loopback interface (the routing mesh needs IPVS
and cannot bind 127.0.0.1; see :mod:`jupyter_deploy.build.haproxy`), and — with auth on — one
Swarm secret per key, mounted as a file the server reads (``JD_AUTH_KEY_FILES``). Keys live only in
those secrets: never in labels, the environment, ``inspect`` output or logs; ``get_keys`` reads
them back through ``exec`` in a running replica.

Every change of a running service is a rolling update — ``update()``, ``reload()`` (a thin image
with the edited files on top of the running one), ``restart``, ``regen_key`` — so callers never
see a failed request while it happens, and a version that does not become healthy is rolled
back by the engine, not by us.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import requests
from docker.models.services import Service
from docker.types import RestartPolicy, ServiceMode

from jupyter_deploy.build import haproxy
from jupyter_deploy.config import LABEL_MANAGED, LABEL_PREFIX, get_config
from jupyter_deploy.engine import images, load_balancer, swarm
from jupyter_deploy.engine.client import docker_client, engine_host, translate_docker_errors
from jupyter_deploy.engine.containers import RunOptions
from jupyter_deploy.errors import (
    ConfigurationError,
    ContainerError,
    ContainerNotReadyError,
)
from jupyter_deploy.spec.cluster import STOP_GRACE_SECONDS, ClusterConfig
from jupyter_deploy.spec.record import LABEL_CLUSTER
from jupyter_deploy.targets.swarm import keys, service_spec
from jupyter_deploy.targets.swarm.service_spec import NS

Log = Callable[[str], None]
#: Label on everything a deployment made (network, secrets, load balancer): the service's name.
LABEL_OWNER = f"{LABEL_PREFIX}.swarm-service"
#: Label remembering the replica count while the service is stopped (scaled to 0).
LABEL_REPLICAS = f"{LABEL_PREFIX}.replicas"


class SwarmTarget:
    """Services as Swarm services on the swarm this engine manages."""

    kind = "swarm"
    #: ``replace`` proves the new version before the old one stops (start-first, rollback).
    safe_replace = True

    def __init__(self, config: ClusterConfig | None = None) -> None:
        self.config = config
        self._pending: dict[str, str] = {}  # service id -> image made by copy_files

    def __repr__(self) -> str:
        return "<SwarmTarget>"

    def configured(self, config: ClusterConfig | None) -> SwarmTarget:
        """This target with ``config`` for the services it creates (itself when None).

        Raises:
            ConfigurationError: a setting swarm cannot honour, named.
        """
        if config is None:
            return self
        service_spec.refuse_unsupported(config)
        return SwarmTarget(config)

    # -- finding ---------------------------------------------------------------------------
    def find(self, name: str) -> Service | None:
        """The Swarm service ``name``, or None."""
        return swarm.find_service(name)

    def list(self, label: str) -> Sequence[Service]:
        """Every service carrying ``label``."""
        return swarm.list_services(label)

    def labels(self, instance: Service) -> Mapping[str, str]:
        """The service's labels."""
        return dict(instance.attrs.get("Spec", {}).get("Labels") or {})

    # -- lifecycle -------------------------------------------------------------------------
    def check(self) -> None:
        """Swarm mode must be on, this engine a manager, the load balancer reachable.

        Raises:
            ConfigurationError: what is missing and how to turn it on.
        """
        swarm.require_manager()
        host = engine_host()
        interface = get_config().host_interface
        if host is not None and interface.startswith("127."):
            raise ConfigurationError(
                f"the swarm manager runs on another machine ({host}): set "
                "DeployConfig.host_interface to an address of it this machine reaches.")

    def create(self, image: str, options: RunOptions, log: Log) -> Service:
        """Make the network, the key secrets, the service and its load balancer; do not wait.

        Raises:
            ConfigurationError: a setting swarm cannot honour, or an image other nodes cannot
            pull.
        """
        config = self.config or service_spec.native_default()
        service_spec.refuse_unsupported(config)
        info = swarm.require_manager()
        name = options.name
        ref = service_spec.pullable(image, name, info.nodes)
        owner = {LABEL_OWNER: name, LABEL_MANAGED: "true", **_test_labels(options.labels)}
        network = swarm.ensure_network(f"jd-net-{name}", owner)
        refs = keys.make_keys(name, config, owner) if config.auth_enabled else []
        labels = {**options.labels, LABEL_MANAGED: "true",
                  LABEL_CLUSTER: json.dumps(config.to_json(), sort_keys=True)}
        log(f"Creating swarm service {name!r} with {config.effective_replicas()} replica(s) …")
        service = swarm.create_service(
            ref, name=name, labels=labels, networks=[network],
            env=service_spec.environment(ref, options, refs), container_labels=owner,
            mode=ServiceMode("replicated", replicas=config.effective_replicas()),
            healthcheck=service_spec.healthcheck(config), resources=service_spec.resources(config),
            update_config=service_spec.rolling(config), rollback_config=service_spec.rollback(),
            restart_policy=RestartPolicy(condition="any", delay=NS),
            endpoint_spec=service_spec.endpoint(config, options.port), secrets=refs,
            stop_grace_period=STOP_GRACE_SECONDS * NS)
        if config.publish_all_interfaces:
            log(f"{name!r} is published on every interface of every node through the routing "
                "mesh (it needs IPVS in each node's kernel).")
        else:
            load_balancer.start(name, service_spec.balancing(name, config), network,
                                options.port, options.interface, owner, log)
        return service

    def replace(self, instance: Service, image: str, options: RunOptions, log: Log,
                ready: Callable[[Any], None]) -> Service:
        """A rolling update to ``image``: each new task starts and answers before an old one
        stops; the engine rolls back by itself when one does not.

        Raises:
            ContainerError: the new version failed and the previous one is serving again.
        """
        info = swarm.require_manager()
        ref = service_spec.pullable(image, instance.name, info.nodes)
        refs = keys.secret_refs(instance)
        log(f"Rolling update of {instance.name!r} to {ref} (new task first, rollback on "
            "failure) …")
        self._update(instance, log, image=ref, env=service_spec.environment(ref, options, refs),
                     labels={**self.labels(instance), **options.labels}, secrets=refs)
        ready(instance)
        return instance

    def _update(self, service: Service, log: Log, **spec: Any) -> None:
        """A rolling update of ``spec``, waited for; raise when the engine rolled it back.

        Raises:
            ContainerError: the new tasks failed and swarm put the previous version back.
            ContainerNotReadyError: the update did not finish in time (it goes on).
        """
        before = swarm.rollout(service).started
        swarm.update_service(service, **spec)
        timeout = get_config().ready_timeout * 2
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = swarm.rollout(service)
            if now.started == before:  # the engine has not begun this update yet
                time.sleep(0.2)
                continue
            if now.state == "completed":
                return
            if now.state.startswith("rollback") and now.state != "rollback_started":
                logs = self.logs(service, 40)
                raise ContainerError(
                    f"the new version of {service.name!r} did not become healthy, so swarm "
                    f"rolled back ({now.message or now.state}); the previous version is "
                    f"serving. The end of the log:\n{logs}", logs=logs)
            if now.state == "paused":
                raise ContainerError(f"the update of {service.name!r} paused: {now.message}; "
                                     "read the log, then update again.", logs=self.logs(service))
            time.sleep(0.5)
        raise ContainerNotReadyError(
            f"the update of {service.name!r} did not finish within {timeout:.0f} s; it goes on "
            "in the background: read `service.logs()`.", logs=self.logs(service))

    def remove(self, instance: Service, image: bool = False) -> None:
        """Remove the service, its load balancer, key secrets and network: nothing is left."""
        name = instance.name
        image_ref = _image_of(instance) if image else None
        load_balancer.remove(name)
        swarm.remove_service(instance)
        _wait_tasks_gone(name)
        for secret in swarm.secrets(f"{LABEL_OWNER}={name}"):
            swarm.remove_secret(secret)
        swarm.remove_networks(f"{LABEL_OWNER}={name}")
        if image_ref:
            with translate_docker_errors(f"removing the image of {name!r}"):
                docker_client().images.remove(image_ref, force=True)

    def stop(self, instance: Service) -> None:
        """Scale to zero, remembering the replica count for :meth:`start`."""
        count = swarm.replicas(instance)
        if count:
            swarm.update_service(instance, mode=ServiceMode("replicated", replicas=0),
                                 labels={**self.labels(instance), LABEL_REPLICAS: str(count)})

    def start(self, instance: Service) -> None:
        """Scale back to the replica count it had when stopped."""
        if swarm.replicas(instance) == 0:
            count = int(self.labels(instance).get(LABEL_REPLICAS, "1"))
            swarm.update_service(instance, mode=ServiceMode("replicated", replicas=count))

    def kill(self, instance: Service) -> None:
        """Stopping a service is already immediate for its callers: the same as :meth:`stop`."""
        self.stop(instance)

    def restart(self, instance: Service) -> None:
        """A rolling restart (``init()`` runs again in each replica), or the rolling update to
        the image :meth:`copy_files` just made."""
        pending = self._pending.pop(instance.id, None)
        if pending:
            self._update(instance, _quiet, image=pending)
        else:
            self._update(instance, _quiet, force_update=True)

    def keep_alive(self, instance: Service) -> None:
        """Nothing to do: swarm restarts failed tasks and survives an engine restart."""

    def scale(self, instance: Service, replicas: int) -> None:
        """Run ``replicas`` tasks behind the load balancer.

        Raises:
            ConfigurationError: fewer than 1, or more than the load balancer follows.
        """
        if replicas < 1:
            raise ConfigurationError(
                f"replicas must be 1 or more (got {replicas}): stop() stops the service.")
        if replicas > haproxy.MAX_REPLICAS:
            raise ConfigurationError(
                f"the load balancer follows at most {haproxy.MAX_REPLICAS} replicas.")
        swarm.update_service(instance, mode=ServiceMode("replicated", replicas=replicas))

    def copy_files(self, instance: Service, folder: str, files: Mapping[str, Path]) -> None:
        """Make a thin image with ``files`` on top of the running one; :meth:`restart` rolls to
        it (replicas cannot be edited in place: each must start from the same image)."""
        base = _image_of(instance)
        digest = hashlib.sha256(base.encode())
        for arcname, path in sorted(files.items()):
            digest.update(arcname.encode() + b"\0" + path.read_bytes())
        tag = f"{base.split(':')[0]}:reload-{digest.hexdigest()[:12]}"
        with tempfile.TemporaryDirectory(prefix="jd-reload-") as tmp:
            context = Path(tmp)
            for arcname, path in files.items():
                (context / "files" / arcname).parent.mkdir(parents=True, exist_ok=True)
                (context / "files" / arcname).write_bytes(path.read_bytes())
            (context / "Dockerfile").write_text(f"FROM {base}\nCOPY files/ {folder}/\n")
            images.build(str(context), tag, labels={LABEL_MANAGED: "true"})
        self._pending[instance.id] = tag

    # -- reading ---------------------------------------------------------------------------
    def status(self, instance: Service) -> str:
        """``running`` while it asks for replicas, ``exited`` when stopped (scaled to 0)."""
        with translate_docker_errors(f"reading swarm service {instance.name!r}"):
            instance.reload()
        return "running" if swarm.replicas(instance) else "exited"

    def replica_counts(self, instance: Service) -> tuple[int, int]:
        """``(healthy, desired)`` replicas, freshly read."""
        with translate_docker_errors(f"reading swarm service {instance.name!r}"):
            instance.reload()
        return _healthy(swarm.task_views(instance)), swarm.replicas(instance)

    def state(self, instance: Service, health_path: str) -> str:
        """Healthy when every replica is; Transitioning while an update or start is under way."""
        if swarm.find_service(instance.name) is None:
            return "Deleted"
        rollout = swarm.rollout(instance).state  # (reads the service afresh)
        desired = swarm.replicas(instance)
        if desired == 0:
            return "Stopped"
        views = [v for v in swarm.task_views(instance) if v.desired == "running"]
        healthy = _healthy(views)
        if healthy >= desired and rollout in ("", "completed", "rollback_completed"):
            return "Healthy"
        if rollout in ("updating", "rollback_started") or any(
                v.state in ("new", "pending", "assigned", "accepted", "preparing", "starting")
                or v.health == "starting" for v in views):
            return "Transitioning"
        return "Unhealthy" if healthy else "Failed"

    def endpoint(self, instance: Service) -> str:
        """``http://127.0.0.1:<load balancer port>``.

        Raises:
            ContainerError: the load balancer is gone.
        """
        mesh = service_spec.mesh_port(instance.attrs)
        if mesh is not None:
            return f"http://{engine_host() or '127.0.0.1'}:{mesh}"
        found = load_balancer.find(instance.name)
        if found is None:
            raise ContainerError(f"the load balancer of {instance.name!r} is gone: remove and "
                                 "deploy the service again.")
        ports = found.attrs["HostConfig"]["PortBindings"][f"{haproxy.LISTEN_PORT}/tcp"]
        host = engine_host() or ports[0].get("HostIp") or get_config().host_interface
        return f"http://{host}:{ports[0]['HostPort']}"

    def logs(self, instance: Service, lines: int | None = None) -> str:
        """Every replica's log merged in time order, each line named by its replica."""
        merged = [f"{replica} | {text}"
                  for _, replica, text in swarm.service_logs(instance, lines)]
        return "\n".join(merged[-lines:] if lines else merged)

    def log_position(self, instance: Service) -> str:
        """Now, as seconds since the epoch (logs after it are new)."""
        return f"{time.time():.3f}"

    def wait_until_ready(self, instance: Service, health_path: str, timeout: float | None,
                         log: Log | None, after: str) -> None:
        """Until every replica is healthy and the load balancer answers; stream their logs.

        Raises:
            ContainerError: replicas keep failing (``init()`` crashed); their log attached.
            ContainerNotReadyError: not all healthy within ``timeout``.
        """
        timeout = timeout or get_config().ready_timeout
        deadline = time.monotonic() + timeout
        since, seen = float(after) if after else None, 0
        url = self.endpoint(instance) + health_path
        while True:
            if log is not None:
                seen = _stream(instance, since, seen, log)
            with translate_docker_errors(f"reading swarm service {instance.name!r}"):
                instance.reload()
            views, desired = swarm.task_views(instance), swarm.replicas(instance)
            healthy = _healthy(views)
            if healthy >= desired > 0 and _answers(url):
                return
            failed = [v for v in views if v.state in ("failed", "rejected")]
            if len(failed) >= max(2, desired) and not healthy:
                logs = self.logs(instance, 60)
                raise ContainerError(
                    f"the replicas of {instance.name!r} keep failing before they answer "
                    f"({failed[0].error}). The end of their log:\n{logs}", logs=logs)
            if time.monotonic() > deadline:
                raise ContainerNotReadyError(
                    f"{healthy} of {desired} replicas of {instance.name!r} are healthy after "
                    f"{timeout:.0f} s: read its logs, or raise DeployConfig.ready_timeout.",
                    logs=self.logs(instance, 60))
            time.sleep(0.5)

    # -- keys ------------------------------------------------------------------------------
    def get_keys(self, instance: Service) -> tuple[str, str]:
        """The primary and secondary keys, read in a running replica on this engine.

        Raises:
            ConfigurationError: auth is off, or no replica runs on this engine.
        """
        return keys.read_keys(instance)

    def regen_key(self, instance: Service, key: str, set_key: str | None = None) -> None:
        """A new value for one key, rolled out replica by replica; the other key keeps working
        throughout.

        Raises:
            ConfigurationError: auth is off, or ``key`` is not Primary/Secondary.
        """
        owner = {LABEL_OWNER: instance.name, LABEL_MANAGED: "true",
                 **_test_labels(self.labels(instance))}
        refs = keys.renewed(instance, key, set_key, owner)
        self._update(instance, _quiet, secrets=refs)
        keys.remove_unused(f"{LABEL_OWNER}={instance.name}", refs)


def _test_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """The labels a caller's cleanup goes by (ours and tests'), passed on to what we make."""
    return {k: v for k, v in labels.items()
            if not k.startswith(LABEL_PREFIX + ".") or k == f"{LABEL_PREFIX}.test"}



def _image_of(service: Service) -> str:
    spec = service.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]
    return str(spec["Image"]).split("@")[0]














def _wait_tasks_gone(name: str, timeout: float = 30) -> None:
    """Until no container of the removed service is left (so its network can go too)."""
    deadline = time.monotonic() + timeout
    client = docker_client()
    while time.monotonic() < deadline:
        with translate_docker_errors(f"waiting for the tasks of {name!r} to stop"):
            left = client.api.containers(  # the low-level call: no inspect of each one
                all=True, filters={"label": f"com.docker.swarm.service.name={name}"})
        if not left:
            return
        time.sleep(0.3)


def _stream(instance: Service, since: float | None, seen: int, log: Log) -> int:
    lines = [f"{replica} | {text}"
             for _, replica, text in swarm.service_logs(instance, None, since)]
    for line in lines[seen:]:
        log(line)
    return max(seen, len(lines))


def _healthy(views: Sequence[swarm.TaskView]) -> int:
    """How many of the tasks run, are meant to, and pass their health check."""
    return sum(1 for v in views
               if v.state == "running" and v.desired == "running" and v.health == "healthy")


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1.0).status_code == 200
    except requests.RequestException:
        return False


def _quiet(_: str) -> None:
    """A log that drops lines."""
