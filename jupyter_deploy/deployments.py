"""The front door: package → build → run → wait → score, as one call or step by step.

``deploy()`` is what the quickstart, the magics, the widgets, the CLI and the Azure ML adapter all
call; no front end builds or runs containers any other way. A :class:`Deployment` is a handle on
one running service, found again from its container labels (plain JSON, never credentials) by
:class:`DeploymentCollection` in any process.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker.errors
from docker.models.containers import Container

from . import containers, images
from .base_image import ensure_default_base_image
from .config import LABEL_MANAGED, LABEL_PREFIX, get_config
from .engine import docker_client, translate_docker_errors
from .environment import Environment
from .errors import ConfigurationError, ServiceNotFoundError
from .packaging import ModelFiles, PackageSpec, write_build_context
from .scoring.client import ScoreResult, ScoringClient, health_url

LABEL_SERVICE = f"{LABEL_PREFIX}.service"
LABEL_SPEC = f"{LABEL_PREFIX}.spec"
Log = Callable[[str], None]


def _quiet(_: str) -> None:
    """A log that drops lines (the default when the caller wants no output)."""


def build_package(
    spec: PackageSpec, log: Log = _quiet, labels: Mapping[str, str] | None = None
) -> images.BuiltImage:
    """Write ``spec``'s build context and build it into ``jupyter-deploy/<name>:<content hash>``.

    Raises:
        EntryScriptError, DependencyError, BuildError, DockerUnavailableError.
    """
    ensure_base_image(spec.environment, log)
    with tempfile.TemporaryDirectory(prefix="jd-context-") as tmp:
        context = write_build_context(spec, Path(tmp) / "context", log)
        tag = f"jupyter-deploy/{spec.name}:{context.digest}"
        log(f"Building {tag} …")
        built = images.build(str(context.path), tag, log=log, labels=labels)
    log(f"Built {tag} in {built.seconds:.1f} s ({built.cached_steps} steps from cache).")
    return built


def ensure_base_image(env: Environment, log: Log = _quiet) -> None:
    """Make the environment's base image present locally, pulling with its credentials if needed."""
    if env.base_image == get_config().default_base_image:
        ensure_default_base_image(log)
    elif not images.exists(env.base_image):
        log(f"Pulling base image {env.base_image} …")
        auth = env.registry.auth_config() if env.registry else None
        log(images.pull(env.base_image, auth_config=auth))


@dataclass
class Deployment:
    """One running (or stopped) scoring service, backed by a labelled container."""

    name: str
    container: Container

    @property
    def port(self) -> int:
        """The host port ``/score`` answers on."""
        return containers.published_port(self.container)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{get_config().host_interface}:{self.port}"

    @property
    def scoring_uri(self) -> str:
        """Where to POST scoring requests."""
        return f"{self.base_url}/score"

    @property
    def image(self) -> str:
        """The image the service runs."""
        tags = self.container.image.tags if self.container.image else []
        return tags[0] if tags else str(self.container.attrs["Config"]["Image"])

    @property
    def spec(self) -> dict[str, Any]:
        """What the service was made from, as recorded in its labels."""
        return dict(json.loads(self.container.labels.get(LABEL_SPEC, "{}")))

    @property
    def status(self) -> str:
        """The container's status as the engine says it (running, exited, …)."""
        with translate_docker_errors(f"reading service {self.name!r}"):
            self.container.reload()
        return str(self.container.status)

    def wait_until_ready(self, timeout: float | None = None, log: Log | None = None) -> None:
        """Block until ``/`` answers; raise with the log tail if the container dies first."""
        containers.wait_until_ready(self.container, health_url(self.base_url), timeout, log)

    def score(self, data: Any) -> ScoreResult:
        """Score ``data`` (list, dict, JSON string, numpy array or DataFrame)."""
        return ScoringClient(self.scoring_uri, get_config().scoring_timeout).score(data)

    def logs(self, lines: int | None = None) -> str:
        """The last ``lines`` lines of the service's log."""
        return containers.tail(self.container, lines)

    def stop(self) -> None:
        """Stop the container (it can be started again)."""
        with translate_docker_errors(f"stopping service {self.name!r}"):
            self.container.stop(timeout=5)

    def remove(self, image: bool = False) -> None:
        """Remove the container, and its image when ``image`` is set."""
        image_id = self.container.image.id if image and self.container.image else None
        with translate_docker_errors(f"removing service {self.name!r}"):
            self.container.remove(force=True)
            if image_id:
                docker_client().images.remove(image_id, force=True)


class DeploymentCollection:
    """All services this project made, found by label in the engine (docker-py style)."""

    def list(self, all: bool = True) -> list[Deployment]:
        """Every service, running or not."""
        with translate_docker_errors("listing services"):
            found = docker_client().containers.list(all=all, filters={"label": LABEL_SERVICE})
        return [Deployment(c.labels[LABEL_SERVICE], c) for c in found]

    def get(self, name: str) -> Deployment:
        """The service called ``name``.

        Raises:
            ServiceNotFoundError: no such service.
        """
        container = _find_container(name)
        if container is None or LABEL_SERVICE not in container.labels:
            raise ServiceNotFoundError(
                f"no service named {name!r}: `jupyter-deploy ls` lists the services there are."
            )
        return Deployment(container.labels[LABEL_SERVICE], container)


def _find_container(name: str) -> Container | None:
    with translate_docker_errors(f"looking up service {name!r}"):
        try:
            return docker_client().containers.get(name)
        except docker.errors.NotFound:
            return None


def run_image(
    name: str, image: str, port: int | None = None, env: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None, spec: Mapping[str, Any] | None = None,
    wait: bool = True, log: Log = _quiet, **run_options: Any,
) -> Deployment:
    """Start ``image`` as service ``name`` (replacing an older service of that name).

    Raises:
        ConfigurationError: the name belongs to a container this project did not make.
        PortInUseError, ContainerError, ContainerNotReadyError, DockerUnavailableError.
    """
    _replace_existing(name)
    record = {"name": name, "image": image, **(spec or {})}
    options = containers.RunOptions(
        name=name, port=port, env=dict(env or {}), **run_options,
        labels={LABEL_SERVICE: name, LABEL_SPEC: json.dumps(record), **(labels or {})},
    )
    container = containers.run(image, options)
    deployment = Deployment(name, container)
    log(f"Started container {name!r} on {deployment.base_url}")
    if wait:
        deployment.wait_until_ready(log=log)
        log(f"Service {name!r} is healthy: {deployment.scoring_uri}")
    return deployment


def _replace_existing(name: str) -> None:
    existing = _find_container(name)
    if existing is None:
        return
    if existing.labels.get(LABEL_MANAGED) != "true":
        raise ConfigurationError(
            f"a container named {name!r} exists and was not made by jupyter_deploy: "
            "choose another service name or remove that container."
        )
    with translate_docker_errors(f"replacing service {name!r}"):
        existing.remove(force=True)


def deploy(
    name: str, entry_script: str | Path, models: Sequence[ModelFiles | str | Path] = (),
    environment: Environment | None = None, port: int | None = None,
    source_dir: str | Path | None = None, labels: Mapping[str, str] | None = None,
    log: Log = _quiet, **run_options: Any,
) -> Deployment:
    """Package, build and launch a model as a local web service, and wait until it answers.

    Returns:
        The healthy :class:`Deployment`.

    Raises:
        DeployError: any step's own error (bad script, missing package, failed build, taken
        port, crashing ``init()``), with what to do next.
    """
    env = environment or Environment()
    spec = PackageSpec(name, Path(entry_script), env, tuple(ModelFiles.of(m) for m in models),
                       Path(source_dir) if source_dir else None)
    built = build_package(spec, log, labels)
    record = {"entry_script": spec.entry_name, "environment": env.name,
              "models": [f"{m.name}:{m.version}" for m in spec.models]}
    return run_image(name, built.tag, port=port, env=dict(env.env_vars), labels=labels,
                     spec=record, log=log, shm_size=env.shm_size, **run_options)


def labelled(key: str, value: str) -> Iterable[Container]:
    """Every container carrying label ``key=value`` (used for clean-up)."""
    with translate_docker_errors("listing containers"):
        return docker_client().containers.list(all=True, filters={"label": f"{key}={value}"})
