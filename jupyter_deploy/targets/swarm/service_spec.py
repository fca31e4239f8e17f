"""What a Swarm service is made of, from a :class:`ClusterConfig` and the run options.

Pure translation into docker-py's service types — the health check on the server's route, the
resources, the start-first rolling update with automatic rollback, the environment (a ``PATH``,
since Swarm tasks get none, and where the key files are) — plus the refusals: what Swarm cannot
honour is named, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from docker.types import (
    EndpointSpec,
    Healthcheck,
    Resources,
    RollbackConfig,
    SecretReference,
    UpdateConfig,
)

from jupyter_deploy.build import haproxy
from jupyter_deploy.engine.client import docker_client, translate_docker_errors
from jupyter_deploy.engine.containers import RunOptions, free_port
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.server import protocol
from jupyter_deploy.spec.cluster import DRAIN_SECONDS, ClusterConfig, describe, unsupported
from jupyter_deploy.spec.reference import ImageReference

#: What the swarm target honours of a :class:`ClusterConfig`; anything else is refused by name.
SUPPORTED = {"replicas", "cpu_cores", "memory_gb", "cpu_cores_limit", "memory_gb_limit",
             "auth_enabled", "primary_key", "secondary_key", "scoring_timeout_ms",
             "max_concurrent_requests_per_container", "max_queue_wait_ms", "liveness", "tags",
             "description", "publish_all_interfaces"}
DEFAULT_PATH = ("/opt/jupyter-deploy/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
                "/sbin:/bin")
NS = 1_000_000_000


def native_default() -> ClusterConfig:
    """What ``jd.deploy(..., target="swarm")`` gets with no configuration: one replica, no keys."""
    return ClusterConfig(replicas=1, auth_enabled=False)


def refuse_unsupported(config: ClusterConfig) -> None:
    """Raise naming every setting the swarm target cannot honour, and what to use instead."""
    if config.autoscale is not None and config.autoscale_explicit:
        raise ConfigurationError(
            "Docker Swarm has no autoscaler, so autoscale_enabled cannot be honoured on the "
            "swarm target: set num_replicas (numReplicas) instead, or deploy to a Kubernetes "
            "target, where autoscale becomes a HorizontalPodAutoscaler.")
    refused = unsupported(config, SUPPORTED)
    if refused:
        raise ConfigurationError(
            "the swarm target cannot honour " + ", ".join(describe(f) for f in refused)
            + ": leave them out for swarm.")


def pullable(image: str, name: str, nodes: int) -> str:
    """``image``, once it is known that every node can start it: on one node any local image,
    on several only one from a registry. (Images built here are tagged by their content, so a
    rollback still finds the previous version under its own tag.)

    Raises:
        ConfigurationError: a multi-node swarm and an image only this engine has.
    """
    if nodes > 1 and not ImageReference.parse(image).registry:
        raise ConfigurationError(
            f"this swarm has {nodes} nodes and {image} exists only on this engine, so the other "
            "nodes cannot start it: push it to a registry every node reaches "
            "(`jupyter-deploy push`) and deploy that reference.")
    return image


def environment(image: str, options: RunOptions, refs: Sequence[SecretReference]
                 ) -> list[str]:
    """The options' variables, a PATH (swarm tasks get none by default), the drain (so a
    stopping task leaves the load balancer before it closes a connection) and the key files."""
    env = dict(options.env)
    env.setdefault("PATH", image_path(image))
    env.setdefault(protocol.ENV_DRAIN_SECONDS, str(DRAIN_SECONDS))
    if refs:
        files = (f"/run/secrets/{r['File']['Name']}" for r in refs)
        env[protocol.ENV_AUTH_KEY_FILES] = ",".join(files)
    return [f"{k}={v}" for k, v in env.items()]


def image_path(image: str) -> str:
    with translate_docker_errors(f"reading image {image}"):
        env = docker_client().images.get(image).attrs.get("Config", {}).get("Env") or []
    found = [e.split("=", 1)[1] for e in env if e.startswith("PATH=")]
    return found[0] if found else DEFAULT_PATH


def healthcheck(config: ClusterConfig) -> Healthcheck:
    """The server's route, probed in the replica; the liveness settings say when it is dead."""
    probe = ("python3 -c \"import urllib.request as u; u.urlopen('http://127.0.0.1:"
             f"{protocol.DEFAULT_PORT}{protocol.HEALTH_PATH}', timeout=2)\"")
    live = config.liveness
    return Healthcheck(test=["CMD-SHELL", probe], interval=NS, timeout=live.timeout_seconds * NS,
                       retries=live.failure_threshold,
                       start_period=live.initial_delay_seconds * NS)


def resources(config: ClusterConfig) -> Resources:
    gb = 1024 ** 3
    return Resources(
        cpu_reservation=int(config.cpu_cores * NS), mem_reservation=int(config.memory_gb * gb),
        cpu_limit=int(config.cpu_cores_limit * NS) if config.cpu_cores_limit else None,
        mem_limit=int(config.memory_gb_limit * gb) if config.memory_gb_limit else None)


def rolling(config: ClusterConfig) -> UpdateConfig:
    """One task at a time, the new one first; a task that fails within the monitor window rolls
    the whole service back."""
    return UpdateConfig(parallelism=1, delay=0, failure_action="rollback", order="start-first",
                        monitor=5 * NS, max_failure_ratio=0)


def rollback() -> RollbackConfig:
    return RollbackConfig(parallelism=1, delay=0, failure_action="pause", order="start-first",
                          monitor=5 * NS)


def balancing(name: str, config: ClusterConfig) -> haproxy.Balancing:
    return haproxy.Balancing(
        name, protocol.DEFAULT_PORT, protocol.HEALTH_PATH, config.scoring_timeout_ms,
        config.max_concurrent_requests_per_container, config.max_queue_wait_ms)



def endpoint(config: ClusterConfig, port: int | None) -> EndpointSpec:
    """DNS round robin behind our load balancer; or, when asked, the routing mesh (a virtual IP)
    publishing ``port`` on every interface of every node."""
    if not config.publish_all_interfaces:
        return EndpointSpec(mode="dnsrr")
    return EndpointSpec(mode="vip", ports={port or free_port("0.0.0.0"): protocol.DEFAULT_PORT})


def mesh_port(attrs: dict[str, Any]) -> int | None:
    """The port a service publishes through the routing mesh, if it does."""
    ports = (attrs.get("Endpoint") or {}).get("Ports") or attrs.get("Spec", {}).get(
        "EndpointSpec", {}).get("Ports") or []
    return int(ports[0]["PublishedPort"]) if ports else None
