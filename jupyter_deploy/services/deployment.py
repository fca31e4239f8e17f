"""The front door: package → build → run → wait → score, and the service lifecycle after that.

``deploy()`` is what the quickstart, the magics, the widgets, the CLI and the Azure ML adapter all
call; no front end builds or runs containers any other way. A :class:`Deployment` is a handle on
one service, found again from its container labels (plain JSON, never credentials) by
:class:`DeploymentCollection` in any process. Iterating is cheap by design: ``reload()`` copies an
edited ``score.py`` into the running container and restarts it (no build), ``update()`` rebuilds
only the layers that changed and swaps the container on the same port, rolling back on failure.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import docker.errors
from docker.models.containers import Container

from jupyter_deploy.build import extras as extensibility
from jupyter_deploy.config import LABEL_MANAGED, get_config
from jupyter_deploy.engine import containers
from jupyter_deploy.engine.client import docker_client, translate_docker_errors
from jupyter_deploy.errors import (
    ConfigurationError,
    ContainerError,
    DeployError,
    ScoringError,
    ServiceNotFoundError,
)
from jupyter_deploy.scoring.client import ScoreResult, ScoringClient, health_url
from jupyter_deploy.server import protocol
from jupyter_deploy.services.building import build_package
from jupyter_deploy.spec.environment import Environment
from jupyter_deploy.spec.package import ModelFiles, PackageSpec, check_entry_script
from jupyter_deploy.spec.record import LABEL_SERVICE, LABEL_SPEC, ServiceRecord

Log = Callable[[str], None]
Progress = Callable[[int, int], None]
STATES = ("Transitioning", "Healthy", "Unhealthy", "Stopped", "Failed", "Deleted")


def _quiet(_: str) -> None:
    """A log that drops lines (the default when the caller wants no output)."""


class Deployment:
    """One scoring service, backed by a labelled container."""

    def __init__(self, name: str, container: Container) -> None:
        self.name = name
        self.container = container

    def __repr__(self) -> str:
        return f"<Deployment {self.name!r} {self.container.short_id}>"

    @property
    def record(self) -> ServiceRecord:
        """What the service was made from (read from its labels)."""
        return ServiceRecord.from_labels(self.container.labels)

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
        return self.base_url + protocol.SCORE_PATH

    @property
    def swagger_uri(self) -> str:
        """Where the server describes its API."""
        return self.base_url + protocol.SWAGGER_PATH

    @property
    def image(self) -> str:
        """The image the service runs."""
        return self.record.image or str(self.container.attrs["Config"]["Image"])

    @property
    def status(self) -> str:
        """The container's status as the engine says it (running, exited, …)."""
        with translate_docker_errors(f"reading service {self.name!r}"):
            self.container.reload()
        return str(self.container.status)

    @property
    def state(self) -> str:
        """One of :data:`STATES`: the engine's view plus a health probe when running."""
        with translate_docker_errors(f"reading service {self.name!r}"):
            try:
                self.container.reload()
            except docker.errors.NotFound:
                return "Deleted"
        running = self.container.status == "running" and self._port_or_none() is not None
        return containers.state_of(self.container, health_url(self.base_url) if running else "")

    def summary(self) -> dict[str, Any]:
        """Name, state, image, port and scoring URI, for listings; never raises on odd services."""
        port = self._port_or_none()
        uri = f"http://{get_config().host_interface}:{port}{protocol.SCORE_PATH}" if port else None
        return {"name": self.name, "state": self.state, "image": self.image, "port": port,
                "scoring_uri": uri}

    def _port_or_none(self) -> int | None:
        try:
            return self.port
        except ContainerError:
            return None

    def wait_until_ready(
        self, timeout: float | None = None, log: Log | None = None, skip_lines: int = 0
    ) -> None:
        """Block until ``/`` answers; raise with the log tail as soon as the container dies.

        Raises:
            ContainerError: the container exited (``init()`` failed); ``logs`` has the traceback.
            ContainerNotReadyError: still not answering after ``timeout``.
        """
        url = health_url(self.base_url)
        containers.wait_until_ready(self.container, url, timeout, log, skip_lines)

    def score(
        self, data: Any, batch_size: int | None = None, concurrency: int = 4,
        on_progress: Progress | None = None,
    ) -> ScoreResult:
        """Score ``data`` (list, dict, JSON string, numpy array or DataFrame).

        With ``batch_size``, row data is sent in batches, ``concurrency`` at a time.

        Raises:
            ScoringError: the server's own message, or the service's state when it is down.
        """
        client = ScoringClient(self.scoring_uri, get_config().scoring_timeout)
        try:
            if batch_size:
                return client.score_batches(data, batch_size, concurrency, on_progress)
            return client.score(data)
        except ScoringError as e:
            if e.status_code is None:
                raise ScoringError(f"service {self.name!r} is {self.state}: {e}") from e
            raise

    def logs(self, lines: int | None = None) -> str:
        """The last ``lines`` lines of the service's log."""
        return containers.tail(self.container, lines)

    def stop(self) -> None:
        """Stop the container gracefully (``start()`` brings it back)."""
        containers.stop(self.container.id, f"service {self.name!r}")

    def kill(self) -> None:
        """Kill the container at once, like ``docker kill``."""
        with translate_docker_errors(f"killing service {self.name!r}"):
            self.container.kill()

    def start(self, wait: bool = True, log: Log | None = None) -> None:
        """Start a stopped service again (same port), and wait until it answers."""
        skip = containers.log_line_count(self.container)
        with translate_docker_errors(f"starting service {self.name!r}"):
            self.container.start()
        if wait:
            self.wait_until_ready(log=log, skip_lines=skip)

    def remove(self, image: bool = False) -> None:
        """Remove the container, and its image when ``image`` is set."""
        image_id = self.container.attrs.get("Image") if image else None
        containers.remove(self.container.id, f"service {self.name!r}")
        if image_id:
            with translate_docker_errors(f"removing the image of service {self.name!r}"):
                docker_client().images.remove(image_id, force=True)

    def reload(
        self, entry_script: str | Path | None = None, source_dir: str | Path | None = None,
        log: Log | None = None, timeout: float | None = None,
    ) -> None:
        """Put an edited ``score.py`` (or source folder) into the service, without a rebuild.

        The files are copied into the container and the server restarts, so ``init()`` runs
        again with the new code; the port stays the same.

        Raises:
            EntryScriptError: the new script has no ``run()`` (the service is left untouched).
            ContainerError: the new ``init()`` failed (its traceback is in the error).
        """
        spec = self.source_package("reload")
        script = Path(entry_script) if entry_script else spec.entry_script
        check_entry_script(script)
        folder = Path(source_dir) if source_dir else spec.source_dir
        files = _source_files(folder) if folder else {}
        files[spec.entry_name] = script
        containers.copy_into(self.container, protocol.APP_ROOT, files)
        skip = containers.log_line_count(self.container)
        with translate_docker_errors(f"restarting service {self.name!r}"):
            self.container.restart(timeout=0)
        self.wait_until_ready(timeout, log, skip)

    def update(
        self, models: Sequence[ModelFiles | str | Path] | None = None,
        environment: Environment | None = None, entry_script: str | Path | None = None,
        source_dir: str | Path | None = None, log: Log = _quiet,
    ) -> None:
        """Rebuild with what changed and swap the container on the same port.

        Unchanged layers come from the build cache. If the new version does not come up, the
        previous container is started again and the error is raised.

        Raises:
            DeployError: from the build or the new container (the old one is running again).
        """
        old = self.source_package("update")
        spec = PackageSpec(
            self.name, Path(entry_script) if entry_script else old.entry_script,
            environment or old.environment,
            tuple(ModelFiles.of(m) for m in models) if models is not None else old.models,
            Path(source_dir) if source_dir else old.source_dir,
        )
        extra = _extra_labels(self.container.labels)
        built = build_package(spec, log, extra)
        self.container = _swap(self, built.tag, spec, extra, log).container

    def parity_check(self, data: Any, rel_tol: float = 1e-6) -> Any:
        """Score ``data`` here (the user's ``init``/``run`` in this process) and in the service.

        Returns:
            A :class:`~jupyter_deploy.scoring.parity.ParityReport` listing any difference.
        """
        from jupyter_deploy.scoring.parity import parity_check

        return parity_check(self, data, rel_tol)

    def source_package(self, action: str = "rebuild") -> PackageSpec:
        """The package the service was built from (for ``action`` in the error message).

        Raises:
            ConfigurationError: the service runs a ready-made image, not a ``score.py`` of ours.
        """
        spec = self.record.spec
        if spec is None:
            raise ConfigurationError(
                f"service {self.name!r} runs a ready-made image, so there is nothing to {action}: "
                "deploy it from a score.py with jupyter_deploy.deploy() to iterate on it."
            )
        return spec


def _source_files(folder: Path) -> dict[str, Path]:
    skip = {"__pycache__", ".ipynb_checkpoints", ".git"}
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*"))
            if p.is_file() and not skip & set(p.relative_to(folder).parts)}


def _extra_labels(labels: Mapping[str, str]) -> dict[str, str]:
    ours = {LABEL_SERVICE, LABEL_SPEC, LABEL_MANAGED}
    return {k: v for k, v in labels.items() if k not in ours and not k.startswith("org.")}


def _swap(old: Deployment, image: str, spec: PackageSpec, labels: Mapping[str, str],
          log: Log) -> Deployment:
    record = old.record
    port = old.port
    previous = f"{old.name}-previous"
    with translate_docker_errors(f"swapping service {old.name!r}"):
        old.container.stop(timeout=2)
        old.container.rename(previous)
    try:
        new = run_image(old.name, image, port=port, labels=labels, package=spec, log=log,
                        **record.run_options)
    except DeployError as e:
        _restore(old.container, old.name, log)
        e.message += f"\nThe previous version of {old.name!r} is running again."
        raise
    with translate_docker_errors(f"removing the previous {old.name!r}"):
        old.container.remove(force=True)
    return new


def _restore(container: Container, name: str, log: Log) -> None:
    with translate_docker_errors(f"restoring service {name!r}"):
        with contextlib.suppress(docker.errors.NotFound):
            docker_client().containers.get(name).remove(force=True)
        container.rename(name)
        container.start()
    log(f"Update failed; restored the previous version of {name!r}.")


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
    labels: Mapping[str, str] | None = None, package: PackageSpec | None = None,
    wait: bool = True, log: Log = _quiet, **run_options: Any,
) -> Deployment:
    """Start ``image`` (built here, pulled, or from a saved package) as service ``name``.

    An older service of the same name is replaced. ``run_options`` are
    :class:`containers.RunOptions` fields (``shm_size``, ``mem_limit``, ``cpus``, ``gpus``, …).

    Raises:
        ConfigurationError: the name belongs to a container this project did not make.
        PortInUseError, ContainerError, ContainerNotReadyError, DockerUnavailableError.
    """
    _replace_existing(name)
    options_env = {**dict(run_options.pop("env", None) or {}), **dict(env or {})}
    kept = {k: v for k, v in {**run_options, "env": options_env}.items() if v}
    record = ServiceRecord(name, image, package, kept)
    options = containers.RunOptions(name=name, port=port, env=options_env, **run_options,
                                    labels={**record.to_labels(), **(labels or {})})
    deployment = Deployment(name, containers.run(image, options))
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

    The environment's ``docker_arguments`` and ``shm_size`` apply to the container; explicit
    ``run_options`` win over them.

    Raises:
        DeployError: any step's own error (bad script, missing package, failed build, taken
        port, crashing ``init()``), with what to do next.
    """
    env = environment or Environment()
    spec = PackageSpec(name, Path(entry_script), env, tuple(ModelFiles.of(m) for m in models),
                       Path(source_dir) if source_dir else None)
    options = {**containers.parse_run_arguments(env.docker_arguments), **run_options}
    if env.shm_size:
        options.setdefault("shm_size", env.shm_size)
    containers.gpu_requests(options.get("gpus"))  # no GPU runtime: say so before building
    options = extensibility.with_extra_packages(
        options, env.env_vars, spec.source_dir or spec.entry_script.parent, env.image_python,
        env.pip, log)
    built = build_package(spec, log, labels)
    return run_image(name, built.tag, port=port, labels=labels, package=spec, log=log, **options)
