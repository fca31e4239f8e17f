"""The local engine as a deploy target: one labelled container per service, on a loopback port.

Everything here is a thin use of :mod:`jupyter_deploy.engine.containers` — the same verbs the
sidebar and the CLI use — so the local target adds only what is specific to "a service is a
container": the swap with rollback on ``update()``, and what scaling means on one engine.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import docker.errors
from docker.models.containers import Container

from jupyter_deploy.config import get_config
from jupyter_deploy.engine import containers, images
from jupyter_deploy.engine.client import docker_client, engine_host, translate_docker_errors
from jupyter_deploy.engine.containers import RunOptions
from jupyter_deploy.errors import ConfigurationError, DeployError
from jupyter_deploy.spec.cluster import LocalDeployConfig

Log = Callable[[str], None]


class LocalTarget:
    """Services as containers on the engine ``docker.from_env()`` reaches."""

    kind = "local"
    safe_replace = False

    def __repr__(self) -> str:
        return "<LocalTarget>"

    def configured(self, config: Any) -> LocalTarget:
        """The local target itself: it takes no configuration beyond a port (the caller's).

        Raises:
            ConfigurationError: a cluster configuration (replicas, keys…), which one engine
            cannot honour.
        """
        if config is None or isinstance(config, LocalDeployConfig):
            return self
        raise ConfigurationError(
            f"a {getattr(config, 'compute_type', 'cluster').upper()} deployment configuration "
            "(replicas, resources, keys) needs a cluster target: pass deployment_target="
            "ComputeTarget(ws, 'swarm') (`--ct swarm` on the CLI), or use "
            "LocalWebservice.deploy_configuration() for this engine.")

    def find(self, name: str) -> Container | None:
        """The container named ``name`` (ours or not), or None."""
        with translate_docker_errors(f"looking up {name!r}"):
            try:
                return docker_client().containers.get(name)
            except docker.errors.NotFound:
                return None

    def list(self, label: str) -> Sequence[Container]:
        """Every container with ``label``, running or not."""
        with translate_docker_errors("listing services"):
            return list(docker_client().containers.list(all=True, filters={"label": label}))

    def labels(self, instance: Container) -> Mapping[str, str]:
        """The container's labels."""
        return dict(instance.labels)

    def check(self) -> None:
        """Refuse at once when a service would be published where this machine cannot reach it.

        A remote engine (``DOCKER_HOST`` naming another machine) publishes ports on *its*
        interfaces: loopback there is unreachable here, so waiting would only time out.

        Raises:
            ConfigurationError: a remote engine with ``DeployConfig.host_interface`` on loopback.
        """
        host, interface = engine_host(), get_config().host_interface
        if host is not None and (interface.startswith("127.") or interface == "localhost"):
            raise ConfigurationError(
                f"the Docker engine runs on another machine ({host}), so a service it publishes "
                f"on {interface} cannot be reached from here: set DeployConfig.host_interface "
                f"to an address of {host} that this machine reaches (services are then reached "
                f"at {host}), or use an engine on this machine.")

    def create(self, image: str, options: RunOptions, log: Log) -> Container:
        """Run ``image`` detached, 5001 published on the options' interface and port."""
        self.check()
        return containers.run(image, options)

    def replace(self, instance: Container, image: str, options: RunOptions, log: Log,
                ready: Callable[[Any], None]) -> Container:
        """Stop the old container, run the new one on its port; on failure restore the old one.

        The new container is created while the old one still serves (only starting takes the
        port), so the service is down for the stop and the new server's start alone.
        """
        name = instance.name
        containers.remove_ours(f"{name}-next")  # left by an update that was interrupted
        new = containers.create(image, dataclasses.replace(options, name=f"{name}-next"))
        try:
            with translate_docker_errors(f"swapping service {name!r}"):
                instance.stop(timeout=2)
                instance.rename(f"{name}-previous")
                new.rename(name)
            containers.start_created(new, options)
            ready(new)
        except DeployError as e:
            self._restore(instance, new, name, log)
            e.message += f"\nThe previous version of {name!r} is running again."
            raise
        containers.remove(instance.id, f"the previous {name!r}")
        if instance.attrs.get("Image") != new.attrs.get("Image"):
            # every update would otherwise leave a version behind (a model of gigabytes each)
            images.remove_unused(str(instance.attrs["Image"]))
        return new

    def _restore(self, old: Container, new: Container, name: str, log: Log) -> None:
        with translate_docker_errors(f"restoring service {name!r}"):
            with contextlib.suppress(docker.errors.NotFound):
                docker_client().containers.get(new.id).remove(force=True)
            old.rename(name)
            old.start()
        log(f"Update failed; restored the previous version of {name!r}.")

    def remove(self, instance: Container, image: bool = False) -> None:
        """Remove the container, and its image when ``image``."""
        image_id = instance.attrs.get("Image") if image else None
        containers.remove(instance.id, f"service {instance.name!r}")
        if image_id:
            with translate_docker_errors(f"removing the image of {instance.name!r}"):
                docker_client().images.remove(image_id, force=True)

    def stop(self, instance: Container) -> None:
        """``docker stop``."""
        containers.stop(instance.id, f"service {instance.name!r}")

    def start(self, instance: Container) -> None:
        """``docker start``."""
        containers.start(instance.id, f"service {instance.name!r}")

    def kill(self, instance: Container) -> None:
        """``docker kill``."""
        containers.kill(instance.id, f"service {instance.name!r}")

    def restart(self, instance: Container) -> None:
        """Restart at once: the server's own start runs ``init()`` again."""
        containers.restart(instance.id, f"service {instance.name!r}", timeout=0)

    def keep_alive(self, instance: Container) -> None:
        """Restart policy ``unless-stopped``, set once the server has answered."""
        containers.keep_alive(instance)

    def scale(self, instance: Container, replicas: int) -> None:
        """One engine, one container per service: only ``replicas=1`` is possible here.

        Raises:
            ConfigurationError: more (or fewer) replicas were asked for.
        """
        if replicas != 1:
            raise ConfigurationError(
                f"the local target runs one container per service, so {replicas} replicas are "
                "not possible here: deploy to a cluster target for replicas."
            )

    def replica_counts(self, instance: Container) -> tuple[int, int]:
        """One container: ``(1, 1)`` while it runs, else ``(0, 1)`` (the engine's view only:
        :meth:`state` is the one that probes the server, so a listing probes it once)."""
        return (1 if self.status(instance) == "running" else 0), 1

    def get_keys(self, instance: Container) -> tuple[str, str]:
        """Local services have no keys.

        Raises:
            ConfigurationError: always.
        """
        raise ConfigurationError(
            f"service {instance.name!r} runs on the local target, which has no keys (it "
            "answers on 127.0.0.1 only): deploy to a cluster target with auth_enabled=True "
            "for keys.")

    def regen_key(self, instance: Container, key: str, set_key: str | None = None) -> None:
        """Local services have no keys.

        Raises:
            ConfigurationError: always.
        """
        self.get_keys(instance)

    def copy_files(self, instance: Container, folder: str, files: Mapping[str, Path]) -> None:
        """Copy host files into the container (running or not)."""
        containers.copy_into(instance, folder, files)

    def status(self, instance: Container) -> str:
        """The engine's status word, freshly read."""
        with translate_docker_errors(f"reading service {instance.name!r}"):
            instance.reload()
        return str(instance.status)

    def state(self, instance: Container, health_path: str) -> str:
        """The engine's view plus a health probe; ``Deleted`` once the container is gone."""
        with translate_docker_errors(f"reading service {instance.name!r}"):
            try:
                instance.reload()
            except docker.errors.NotFound:
                return "Deleted"
        url = ""
        if instance.status == "running":
            with contextlib.suppress(DeployError):
                url = self.endpoint(instance) + health_path
        return containers.state_of(instance, url)

    def endpoint(self, instance: Container) -> str:
        """``http://<host interface>:<published port>``, or the remote engine's host.

        Raises:
            ContainerError: the container publishes no port.
        """
        host = engine_host() or get_config().host_interface
        return f"http://{host}:{containers.published_port(instance)}"

    def logs(self, instance: Container, lines: int | None = None) -> str:
        """The log's last lines."""
        return containers.logs(instance.id, lines, f"service {instance.name!r}")

    def log_position(self, instance: Container) -> str:
        """Where the log ends now."""
        return containers.log_cursor(instance)

    def wait_until_ready(self, instance: Container, health_path: str, timeout: float | None,
                         log: Log | None, after: str) -> None:
        """Poll the health route until 200, or raise when the container exits or time runs out."""
        url = self.endpoint(instance) + health_path
        containers.wait_until_ready(instance, url, timeout, log, after)


def default_target() -> LocalTarget:
    """The target used when none is named: this machine's engine."""
    return LocalTarget()
