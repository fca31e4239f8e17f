"""The front door: package → build → run → wait → score, and the service lifecycle after that.

``deploy()`` is what the quickstart, the magics, the widgets, the CLI and the Azure ML adapter all
call; no front end builds or runs containers any other way. A :class:`Deployment` is a handle on
one service, found again from its labels (plain JSON, never credentials) by
:class:`DeploymentCollection` in any process. It reaches the machine its service runs on only
through a :class:`~jupyter_deploy.targets.base.DeployTarget` (the local engine by default), so a
cluster target slots in without any front end changing. Iterating is cheap by design:
``reload()`` copies an edited ``score.py`` into the running service and restarts it (no build),
``update()`` rebuilds only the layers that changed and swaps the service on the same endpoint,
rolling back on failure.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from jupyter_deploy.build import extras
from jupyter_deploy.build.entry_scripts import generated_package
from jupyter_deploy.config import LABEL_MANAGED, get_config
from jupyter_deploy.engine import containers
from jupyter_deploy.engine.containers import RunOptions
from jupyter_deploy.errors import (
    ConfigurationError,
    DependencyError,
    DeployError,
    ScoringError,
    ServiceNotFoundError,
)
from jupyter_deploy.scoring.client import ScoreResult, ScoringClient
from jupyter_deploy.server import protocol
from jupyter_deploy.services.building import LABEL_ENVIRONMENT, build_package, prune_environment
from jupyter_deploy.spec.cluster import LocalDeployConfig
from jupyter_deploy.spec.environment import Environment
from jupyter_deploy.spec.package import ModelFiles, PackageSpec, check_entry_script
from jupyter_deploy.spec.record import LABEL_CLUSTER, LABEL_SERVICE, LABEL_SPEC, ServiceRecord
from jupyter_deploy.targets.base import DeployTarget
from jupyter_deploy.targets.local import default_target

Log = Callable[[str], None]
Progress = Callable[[int, int], None]
STATES = ("Transitioning", "Healthy", "Unhealthy", "Stopped", "Failed", "Deleted")


def _quiet(_: str) -> None:
    """A log that drops lines (the default when the caller wants no output)."""


class Deployment:
    """One scoring service on a deploy target (a labelled container on the local engine)."""

    def __init__(self, name: str, instance: Any, target: DeployTarget | None = None) -> None:
        self.name = name
        self.instance = instance
        self.target: DeployTarget = target or default_target()
        self._key: str | None = None

    def __repr__(self) -> str:
        return f"<Deployment {self.name!r} on {self.target.kind}>"

    @property
    def container(self) -> Any:
        """The engine's container behind a local service (the target's instance)."""
        return self.instance

    @container.setter
    def container(self, value: Any) -> None:
        self.instance = value

    @property
    def record(self) -> ServiceRecord:
        """What the service was made from (read from its labels)."""
        return ServiceRecord.from_labels(self.target.labels(self.instance))

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``.

        Raises:
            ContainerError: the service publishes no endpoint.
        """
        return self.target.endpoint(self.instance)

    @property
    def port(self) -> int:
        """The host port ``/score`` answers on."""
        return int(self.base_url.rsplit(":", 1)[1])

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
        return self.record.image or str(self.instance.attrs["Config"]["Image"])

    @property
    def status(self) -> str:
        """The platform's status word (running, exited, …)."""
        return self.target.status(self.instance)

    @property
    def state(self) -> str:
        """One of :data:`STATES`: the platform's view plus a health probe when running."""
        return self.target.state(self.instance, protocol.HEALTH_PATH)

    @property
    def replicas(self) -> tuple[int, int]:
        """``(healthy, desired)`` replicas (one container on the local target)."""
        return self.target.replica_counts(self.instance)

    @property
    def auth_enabled(self) -> bool:
        """The service asks callers for a key (``Authorization: Bearer <key>``)."""
        cluster = self.target.labels(self.instance).get(LABEL_CLUSTER)
        return bool(cluster and json.loads(cluster).get("authEnabled"))

    def get_keys(self) -> tuple[str, str]:
        """The primary and secondary keys (auth on).

        Raises:
            ConfigurationError: the service was deployed without keys.
        """
        return self.target.get_keys(self.instance)

    def regen_key(self, key: str, set_key: str | None = None) -> None:
        """Give ``key`` ("Primary" or "Secondary") a new value, ``set_key`` or a random one.

        The change rolls out replica by replica: callers using the other key see no failure.

        Raises:
            ConfigurationError: the service has no keys, or ``key`` is neither.
        """
        self.target.regen_key(self.instance, key, set_key)
        self._key = None

    def summary(self) -> dict[str, Any]:
        """Name, state, image, port, scoring URI, target and replicas, for listings; never
        raises on odd services (one without a port, or one removed meanwhile)."""
        try:
            uri: str | None = self.scoring_uri
            port: int | None = self.port
        except DeployError:
            uri = port = None
        try:
            healthy, desired = self.replicas
        except DeployError:
            healthy, desired = 0, 0
        return {"name": self.name, "state": self.state, "image": self.image, "port": port,
                "scoring_uri": uri, "target": self.target.kind,
                "replicas": f"{healthy}/{desired}", "auth": self.auth_enabled}

    def wait_until_ready(
        self, timeout: float | None = None, log: Log | None = None, after: str = ""
    ) -> None:
        """Block until ``/`` answers; raise with the log tail as soon as the service dies.

        Once it answers, the target keeps it alive: it comes back by itself after the engine
        restarts (a reboot, Docker Desktop quitting), unless the user stopped it.

        Raises:
            ContainerError: the container exited (``init()`` failed); ``logs`` has the traceback.
            ContainerNotReadyError: still not answering after ``timeout``.
        """
        self.target.wait_until_ready(self.instance, protocol.HEALTH_PATH, timeout, log, after)
        self.target.keep_alive(self.instance)

    def score(
        self, data: Any, batch_size: int | None = None, concurrency: int = 4,
        on_progress: Progress | None = None, protocol: str = "azureml",
    ) -> ScoreResult:
        """Score ``data`` (list, dict, JSON string, numpy array or DataFrame).

        With ``batch_size``, row data is sent in batches, ``concurrency`` at a time.
        ``protocol`` picks the route: ``"azureml"`` (``/score``), ``"v2"`` (the Open Inference
        Protocol, this service's name as the model's) or ``"mlflow"`` (``/invocations``).

        Raises:
            ScoringError: the server's own message, or the service's state when it is down.
            ConfigurationError: an unknown protocol.
        """
        client = ScoringClient(self.scoring_uri, get_config().scoring_timeout, self._auth_key(),
                               model_name=self.name)
        try:
            if batch_size:
                return client.score_batches(data, batch_size, concurrency, on_progress,
                                            protocol)
            return client.score(data, protocol)
        except ScoringError as e:
            if e.status_code is None:
                raise ScoringError(f"service {self.name!r} is {self.state}: {e}") from e
            raise

    def _auth_key(self) -> str | None:
        """The primary key when the service asks for one (read once per handle)."""
        if self._key is None and self.auth_enabled:
            self._key = self.get_keys()[0]
        return self._key

    def logs(self, lines: int | None = None) -> str:
        """The last ``lines`` lines of the service's log."""
        return self.target.logs(self.instance, lines)

    def stop(self) -> None:
        """Stop the service gracefully (``start()`` brings it back)."""
        self.target.stop(self.instance)

    def kill(self) -> None:
        """Stop the service at once, like ``docker kill``."""
        self.target.kill(self.instance)

    def start(self, wait: bool = True, log: Log | None = None) -> None:
        """Start a stopped service again (same port), and wait until it answers."""
        skip = self.target.log_position(self.instance)
        self.target.start(self.instance)
        if wait:
            self.wait_until_ready(log=log, after=skip)

    def scale(self, replicas: int) -> None:
        """Run ``replicas`` copies of the service (what the target allows).

        Raises:
            ConfigurationError: the target cannot run that many (the local engine runs one).
        """
        self.target.scale(self.instance, replicas)

    def remove(self, image: bool = False) -> None:
        """Remove the service, and its image when ``image`` is set (and then the environment
        image it was built on, unless another image is built on that too)."""
        environment = self.target.labels(self.instance).get(LABEL_ENVIRONMENT) if image else None
        self.target.remove(self.instance, image)
        if environment:
            prune_environment(environment)

    def reload(
        self, entry_script: str | Path | None = None, source_dir: str | Path | None = None,
        log: Log | None = None, timeout: float | None = None,
    ) -> None:
        """Put an edited ``score.py`` (or source folder) into the service, without a rebuild.

        The files are copied into the service and the server restarts, so ``init()`` runs
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
        self.target.copy_files(self.instance, protocol.APP_ROOT, files)
        skip = self.target.log_position(self.instance)
        self.target.restart(self.instance)
        self.wait_until_ready(timeout, log, skip)

    def update(
        self, models: Sequence[ModelFiles | str | Path] | None = None,
        environment: Environment | None = None, entry_script: str | Path | None = None,
        source_dir: str | Path | None = None, log: Log = _quiet,
    ) -> None:
        """Rebuild with what changed and swap the service on the same port.

        Unchanged layers come from the build cache. If the new version does not come up, the
        previous one is put back in service and the error is raised.

        Raises:
            DeployError: from the build or the new service (the old one is running again).
        """
        old = self.source_package("update")
        spec = PackageSpec(
            self.name, Path(entry_script) if entry_script else old.entry_script,
            environment or old.environment,
            tuple(ModelFiles.of(m) for m in models) if models is not None else old.models,
            Path(source_dir) if source_dir else old.source_dir,
        )
        extra = _extra_labels(self.target.labels(self.instance))
        built = build_package(spec, log, extra)
        options = _run_options(self.name, built.tag, self.port, extra, spec,
                               dict(self.record.run_options))

        def ready(new: Any) -> None:
            Deployment(self.name, new, self.target).wait_until_ready(log=log)

        built_on = self.target.labels(self.instance).get(LABEL_ENVIRONMENT)
        self.instance = self.target.replace(self.instance, built.tag, options, log, ready)
        _prune_replaced(built_on, self)
        log(f"Service {self.name!r} is healthy: {self.scoring_uri}")

    def to_kubernetes(self, dest: str | Path, config: Any = None, registry: str | None = None,
                      log: Log = _quiet) -> list[Path]:
        """This service as Kubernetes manifests in ``dest``, its image pushed to ``registry``
        (the workspace registry by default) so a cluster can pull it.

        ``config`` (a :class:`~jupyter_deploy.spec.cluster.ClusterConfig`) gives replicas,
        autoscale, resources and auth; by default the service's own cluster settings, if any.

        Raises:
            RegistryError, PushError: the push failed.
            ConfigurationError: a name Kubernetes refuses.
        """
        from jupyter_deploy.services.packages import kubernetes_package, publish_image
        from jupyter_deploy.spec.cluster import ClusterConfig

        if config is None:
            recorded = self.target.labels(self.instance).get(LABEL_CLUSTER)
            data = {k: v for k, v in json.loads(recorded).items() if k != "keys"} if recorded \
                else {}
            config = ClusterConfig.from_json(data) if data else ClusterConfig()
        image = publish_image(self.image, registry or get_config().registry_address,
                              f"services/{self.name}", log)
        env = dict(self.record.run_options.get("env") or {})
        return kubernetes_package(self.name, image, dest, config, env, {}, log)

    def parity_check(self, data: Any, rel_tol: float = 1e-6, protocol: str = "azureml") -> Any:
        """Score ``data`` here (the user's ``init``/``run`` in this process) and in the service,
        both through ``protocol`` (``"azureml"``'s ``/score``, ``"v2"``, ``"mlflow"``).

        Returns:
            A :class:`~jupyter_deploy.scoring.parity.ParityReport` listing any difference.
        """
        from jupyter_deploy.scoring.parity import parity_check

        return parity_check(self.source_package("check parity of"), self.score, data,
                            rel_tol, protocol)

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
    ours = {LABEL_SERVICE, LABEL_SPEC, LABEL_MANAGED, LABEL_CLUSTER}
    return {k: v for k, v in labels.items() if k not in ours and not k.startswith("org.")}


class DeploymentCollection:
    """All services this project made, found by label (docker-py style): on one target, or on
    every target this engine offers (the local one, and Swarm when swarm mode is on)."""

    def __init__(self, target: DeployTarget | None = None) -> None:
        self._target = target

    @property
    def targets(self) -> list[DeployTarget]:
        """The one target given, else every target of this engine, read afresh (swarm mode may
        have been turned on since)."""
        return [self._target] if self._target else engine_targets()

    @property
    def target(self) -> DeployTarget:
        """The target given, else the local one."""
        return self._target or default_target()

    def list(self, all: bool = True) -> list[Deployment]:
        """Every service (running or not; only running ones when ``all`` is false)."""
        found = [Deployment(t.labels(i)[LABEL_SERVICE], i, t)
                 for t in self.targets for i in t.list(LABEL_SERVICE)]
        return found if all else [d for d in found if d.status == "running"]

    def get(self, name: str) -> Deployment:
        """The service called ``name`` (the local one first, when two targets have one).

        Raises:
            ServiceNotFoundError: no such service.
        """
        for target in self.targets:
            instance = target.find(name)
            if instance is not None and LABEL_SERVICE in target.labels(instance):
                return Deployment(target.labels(instance)[LABEL_SERVICE], instance, target)
        raise ServiceNotFoundError(
            f"no service named {name!r}: `jupyter-deploy ls` lists the services there are."
        )


def engine_targets() -> list[DeployTarget]:
    """The targets services of this engine can be on: local, and Swarm when this engine
    manages a swarm (Kubernetes targets are reached through the workspace's compute targets)."""
    from jupyter_deploy.engine.swarm import swarm_info
    from jupyter_deploy.targets.swarm import SwarmTarget

    info = swarm_info()
    return [default_target(), SwarmTarget()] if info.active and info.manager else [
        default_target()]


def _run_options(name: str, image: str, port: int | None, labels: Mapping[str, str] | None,
                 package: PackageSpec | None, run_options: dict[str, Any]) -> RunOptions:
    """The one place a service's run options and its label record are put together."""
    options_env = dict(run_options.pop("env", None) or {})
    options_env.setdefault(protocol.ENV_SERVICE_NAME, name)  # the model's name in /v2/models/…
    kept = {k: v for k, v in {**run_options, "env": options_env}.items() if v}
    record = ServiceRecord(name, image, package, kept)
    return RunOptions(name=name, port=port, env=options_env, **run_options,
                      labels={**record.to_labels(), **(labels or {})})


def run_image(
    name: str, image: str, port: int | None = None, env: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None, package: PackageSpec | None = None,
    wait: bool = True, log: Log = _quiet, target: DeployTarget | None = None,
    deployment_config: Any = None, **run_options: Any,
) -> Deployment:
    """Start ``image`` (built here, pulled, or from a saved package) as service ``name``.

    A running service of the same name keeps answering until the new version has answered
    beside it (then it takes the old one's port, unless ``port`` names another); if the new
    version fails, the old one is left as it was. A stopped one is simply replaced.
    ``run_options`` are :class:`~jupyter_deploy.engine.containers.RunOptions` fields
    (``shm_size``, ``mem_limit``, ``cpus``, ``gpus``, …). ``target`` is where it runs (this
    machine's engine by default), ``deployment_config`` how (replicas, resources, keys: a
    :class:`~jupyter_deploy.spec.cluster.ClusterConfig` for a cluster target).

    Raises:
        ConfigurationError: the name belongs to a container this project did not make, or the
        target cannot honour the configuration.
        PortInUseError, ContainerError, ContainerNotReadyError, DockerUnavailableError.
    """
    target = (target or default_target()).configured(deployment_config)
    existing = _our_existing(target, name)
    run_options["env"] = {**dict(run_options.pop("env", None) or {}), **dict(env or {})}
    if existing is not None and target.status(existing) == "running":
        old = Deployment(name, existing, target)
        options = _run_options(name, image, port or old.port, labels, package, run_options)
        return _redeploy(old, image, options, log)
    if existing is not None:
        target.remove(existing)
    options = _run_options(name, image, port, labels, package, run_options)
    deployment = Deployment(name, target.create(image, options, log), target)
    log(f"Started {name!r} on {deployment.base_url}")
    if wait:
        deployment.wait_until_ready(log=log)
        log(f"Service {name!r} is healthy: {deployment.scoring_uri}")
    return deployment


def _our_existing(target: DeployTarget, name: str) -> Any | None:
    """The instance called ``name`` if this project made it; None if there is none.

    Raises:
        ConfigurationError: something else of that name exists (it is never touched).
    """
    existing = target.find(name)
    if existing is not None and target.labels(existing).get(LABEL_MANAGED) != "true":
        raise ConfigurationError(
            f"a container named {name!r} exists and was not made by jupyter_deploy, so it is "
            "left alone: choose another service name, or remove that container yourself "
            f"(`docker rm -f {name}`) if it is not needed."
        )
    return existing


def _redeploy(old: Deployment, image: str, options: RunOptions, log: Log) -> Deployment:
    """Prove the new version beside the running one, then swap it in with rollback (a target
    whose ``replace`` is itself a rolling update with rollback needs no trial)."""
    if old.target.safe_replace:
        def proven(new: Any) -> None:
            Deployment(old.name, new, old.target).wait_until_ready(log=log)

        instance = old.target.replace(old.instance, image, options, log, proven)
        log(f"Service {old.name!r} is healthy: {old.scoring_uri}")
        return Deployment(old.name, instance, old.target)
    trial = RunOptions(
        name=f"{old.name}-next", env=options.env, shm_size=options.shm_size,
        mem_limit=options.mem_limit, cpus=options.cpus, gpus=options.gpus,
        cap_add=options.cap_add, user=options.user, volumes=options.volumes,
        labels={k: v for k, v in options.labels.items() if k not in (LABEL_SERVICE, LABEL_SPEC)})
    stale = _our_existing(old.target, trial.name)
    if stale is not None:
        old.target.remove(stale)
    log(f"Starting the new version of {old.name!r} beside the running one …")
    candidate = Deployment(trial.name, old.target.create(image, trial, log), old.target)
    try:
        candidate.wait_until_ready(log=log)
    except DeployError as e:
        e.message += f"\nThe running version of {old.name!r} still answers at {old.scoring_uri}."
        raise
    finally:
        old.target.remove(candidate.instance)
    log(f"The new version answers; moving {old.name!r} to it …")

    def ready(new: Any) -> None:
        Deployment(old.name, new, old.target).wait_until_ready(log=log)

    built_on = old.target.labels(old.instance).get(LABEL_ENVIRONMENT)
    instance = old.target.replace(old.instance, image, options, log, ready)
    deployment = Deployment(old.name, instance, old.target)
    _prune_replaced(built_on, deployment)
    log(f"Service {old.name!r} is healthy: {deployment.scoring_uri}")
    return deployment


def _prune_replaced(environment: str | None, deployment: Deployment) -> None:
    """After a swap (which dropped the previous image if nothing else used it), the previous
    environment's image too, when the new version is built on another one."""
    if environment and deployment.target.labels(deployment.instance).get(
            LABEL_ENVIRONMENT) != environment:
        prune_environment(environment)


def deploy(
    name: str, entry_script: str | Path | None = None,
    models: Sequence[ModelFiles | str | Path] = (), environment: Environment | None = None,
    port: int | None = None, source_dir: str | Path | None = None,
    labels: Mapping[str, str] | None = None, log: Log = _quiet,
    target: DeployTarget | str | None = None, deployment_config: Any = None, model: Any = None,
    **run_options: Any,
) -> Deployment:
    """Package, build and launch a model as a local web service, and wait until it answers.

    Without ``entry_script`` the model must describe itself — an MLflow model folder or an
    ``.onnx`` file as the one entry of ``models``, or a fitted estimator of this kernel as
    ``model`` — and a readable ``score.py`` is generated for it (in
    ``./jupyter-deploy/<name>/``, beside the saved estimator; the log names it), with the
    model's requirements added to ``environment`` (whose own pins win by name).

    The environment's ``docker_arguments`` and ``shm_size`` apply to the container; explicit
    ``run_options`` win over them. ``target`` is where it runs (this machine's engine by
    default; a name — ``"swarm"``, or a compute target of the default workspace — or a
    :class:`~jupyter_deploy.targets.base.DeployTarget`); ``deployment_config`` how (a
    :class:`~jupyter_deploy.spec.cluster.ClusterConfig`: replicas, resources, keys), checked
    against the target before anything is built.

    Raises:
        DeployError: any step's own error (bad script, missing package, failed build, taken
        port, crashing ``init()``), with what to do next.
    """
    if isinstance(deployment_config, LocalDeployConfig):
        port, deployment_config = port or deployment_config.port, None
    if isinstance(target, str):
        from jupyter_deploy.services.compute import ComputeTargets

        target = ComputeTargets().target(target)
    target = (target or default_target()).configured(deployment_config)
    target.check()  # an unreachable service is refused before the build, not after a timeout
    if entry_script is None:
        if source_dir is not None:
            raise ConfigurationError("source_dir needs entry_script: name the script in it that "
                                     "defines init() and run().")
        spec = generated_package(name, models, environment, model, log=log)
    elif model is not None:
        raise ConfigurationError(
            "model= is for an estimator served without a score.py: with entry_script, save the "
            "estimator yourself (joblib.dump) and pass its file in models=[…].")
    else:
        spec = PackageSpec(name, Path(entry_script), environment or Environment(),
                           tuple(ModelFiles.of(m) for m in models),
                           Path(source_dir) if source_dir else None)
    env = spec.environment
    options = {**containers.parse_run_arguments(env.docker_arguments), **run_options}
    if env.shm_size:
        options.setdefault("shm_size", env.shm_size)
    containers.gpu_requests(options.get("gpus"))  # no GPU runtime: say so before building
    options = extras.with_extra_packages(
        options, env.env_vars, spec.source_dir or spec.entry_script.parent, env.image_python,
        env.pip, log)
    try:
        built = build_package(spec, log, labels)
    except DependencyError as e:
        if entry_script is None:
            e.message += (f"\nThe model's requirements are listed at the top of "
                          f"{spec.entry_script}: pass environment=Environment(pip=[…]) with "
                          "versions that have wheels (its pins win by name), or fix the model's "
                          "requirements file.")
        raise
    image = built.tag
    registry = getattr(target, "registry", None)
    if registry:  # the cluster's nodes pull the image from there
        from jupyter_deploy.services.packages import publish_image

        image = publish_image(built.tag, registry, f"services/{name}", log)
    return run_image(name, image, port=port, labels=labels, package=spec, log=log,
                     target=target, **options)
