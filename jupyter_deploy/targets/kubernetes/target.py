"""Kubernetes as a deploy target: the manifests of :mod:`.manifests`, server-side applied.

A service is a Deployment, a Service, an optional HorizontalPodAutoscaler and — with auth on — a
Secret with its keys, in one namespace of one kubeconfig context. Everything is applied with
server-side apply (field manager ``jupyter-deploy``), so applying again is how a service changes,
and deleted by name, so nothing is left behind. The image must come from a registry the cluster
reaches: a reference with no registry host is refused before anything is applied.

A new version rolls out with no unavailable replica; Kubernetes does not roll back by itself, so
when a new pod cannot work the target applies the previous Deployment again. Cluster services are
reached inside the cluster (``http://NAME.NAMESPACE.svc.cluster.local``); from this machine only
through ``kubectl port-forward`` or a LoadBalancer (``publish_all_interfaces``).
"""

from __future__ import annotations

import base64
import secrets as token
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from jupyter_deploy.config import LABEL_MANAGED, get_config
from jupyter_deploy.engine.containers import RunOptions
from jupyter_deploy.errors import ConfigurationError, DeployError
from jupyter_deploy.spec.cluster import ClusterConfig
from jupyter_deploy.targets.kubernetes import manifests as made
from jupyter_deploy.targets.kubernetes import pods, rules
from jupyter_deploy.targets.kubernetes.client import (
    APPLY,
    FIELD_MANAGER,
    MERGE,
    Apis,
    call,
    call_or_none,
    connect,
)

Log = Callable[[str], None]
ANNOTATION_REPLICAS = "jupyter-deploy.io/stopped-replicas"
ANNOTATION_RESTARTED = "kubectl.kubernetes.io/restartedAt"


@dataclass(frozen=True)
class KubernetesService:
    """The handle a deployment keeps: where the service lives (its state is always read fresh)."""

    name: str
    namespace: str
    uid: str = ""

    @property
    def id(self) -> str:
        """The Deployment's uid, or ``namespace/name``."""
        return self.uid or f"{self.namespace}/{self.name}"


class KubernetesTarget:
    """Services as Deployments in ``namespace`` of the kubeconfig ``context``."""

    kind = "kubernetes"
    #: ``replace`` rolls out with no unavailable replica and puts the old version back on failure.
    safe_replace = True
    #: Seconds between two looks at a rollout.
    poll_seconds = 1.0

    def __init__(self, context: str | None = None, namespace: str = "default", *,
                 config: ClusterConfig | None = None, apis: Apis | None = None,
                 registry: str | None = None) -> None:
        self.context = context
        self.namespace = namespace
        self.config = config
        self._client = apis
        #: Where deploy() pushes a locally built image so the cluster can pull it.
        self.registry = registry

    def __repr__(self) -> str:
        return f"<KubernetesTarget context={self.context!r} namespace={self.namespace!r}>"

    def configured(self, config: ClusterConfig | None) -> KubernetesTarget:
        """This target with ``config`` for what it creates next (itself when None).

        Raises:
            ConfigurationError: a setting Kubernetes cannot honour here, named.
        """
        if config is None:
            return self
        if not isinstance(config, ClusterConfig):
            raise ConfigurationError(
                "the Kubernetes target takes an AKS or ACI deployment configuration "
                "(AksWebservice.deploy_configuration(...)), not a local one.")
        rules.refuse_unsupported(config)
        return KubernetesTarget(self.context, self.namespace, config=config, apis=self._client,
                                registry=self.registry)

    @property
    def apis(self) -> Apis:
        """The API clients, connected on first use."""
        if self._client is None:
            self._client = connect(self.context)
        return self._client

    def _where(self, config: ClusterConfig | None = None) -> str:
        chosen = config or self.config
        return (chosen.namespace if chosen and chosen.namespace else None) or self.namespace

    def _read(self, instance: KubernetesService) -> Any:
        return call(f"reading deployment {instance.name!r}",
                    self.apis.apps.read_namespaced_deployment, instance.name, instance.namespace)

    # -- finding ---------------------------------------------------------------------------
    def find(self, name: str) -> KubernetesService | None:
        """The Deployment ``name`` in this target's namespace, or None."""
        return self.find_in(name, self._where())

    def list(self, label: str) -> Sequence[KubernetesService]:
        """Every Deployment we made carrying ``label`` (``key`` or ``key=value``)."""
        where = self._where()
        found = call("listing services", self.apis.apps.list_namespaced_deployment, where,
                     label_selector=f"{LABEL_MANAGED}=true")
        key, _, value = label.partition("=")
        matching = [d for d in found.items or [] if key in rules.all_labels(d)
                    and (not value or rules.all_labels(d)[key] == value)]
        return [KubernetesService(d.metadata.name, where, d.metadata.uid or "") for d in matching]

    def labels(self, instance: KubernetesService) -> Mapping[str, str]:
        """The service's record: its labels and annotations (the JSON record is an annotation)."""
        return rules.all_labels(self._read(instance))

    # -- lifecycle -------------------------------------------------------------------------
    def check(self) -> None:
        """The context loads, the cluster answers and the namespace exists.

        Raises:
            ConfigurationError: which of them is missing, and what to do.
        """
        where = self._where()
        if call_or_none(f"reading namespace {where!r}", self.apis.core.read_namespace,
                        where) is None:
            raise ConfigurationError(f"namespace {where!r} does not exist in the cluster: "
                                     f"create it (`kubectl create namespace {where}`)")

    def create(self, image: str, options: RunOptions, log: Log) -> KubernetesService:
        """Apply the Secret (keys generated unless given), Deployment, Service and HPA; do not
        wait.

        Raises:
            ConfigurationError: an image with no registry, a name or setting Kubernetes cannot
            take.
        """
        config = self.config or rules.native_default()
        rules.refuse_unsupported(config)
        rules.require_registry(image)
        where, name = self._where(config), options.name
        keys = rules.new_keys(config) if config.auth_enabled else None
        env = dict(options.env)
        log(f"Applying {name!r} to Kubernetes namespace {where!r} "
            f"({rules.replicas_text(config)}) …")
        for manifest in made.manifests(name, image, config, env, options.labels, keys, where):
            self._apply(manifest)
        if options.port:
            log(f"(port {options.port} is not used on Kubernetes: the Service listens on port "
                f"{made.SERVICE_PORT} inside the cluster)")
        log(rules.reach_note(name, where))
        found = self.find_in(name, where)
        return found or KubernetesService(name, where)

    def find_in(self, name: str, namespace: str) -> KubernetesService | None:
        """The Deployment ``name`` in ``namespace``, or None."""
        found = call_or_none(f"looking up {name!r}", self.apis.apps.read_namespaced_deployment,
                             name, namespace)
        return None if found is None else KubernetesService(name, namespace,
                                                            found.metadata.uid or "")

    def _apply(self, manifest: Mapping[str, Any]) -> None:
        meta = manifest["metadata"]
        api, method = {
            "Secret": (self.apis.core, "patch_namespaced_secret"),
            "Deployment": (self.apis.apps, "patch_namespaced_deployment"),
            "Service": (self.apis.core, "patch_namespaced_service"),
            "HorizontalPodAutoscaler": (self.apis.autoscaling,
                                        "patch_namespaced_horizontal_pod_autoscaler"),
        }[manifest["kind"]]
        call(f"applying {manifest['kind']} {meta['name']!r}", getattr(api, method),
             meta["name"], meta["namespace"], dict(manifest), field_manager=FIELD_MANAGER,
             force=True, _content_type=APPLY)

    def replace(self, instance: KubernetesService, image: str, options: RunOptions, log: Log,
                ready: Callable[[Any], None]) -> KubernetesService:
        """Roll out ``image`` with no unavailable replica; when a new pod cannot work or
        ``ready`` fails, apply the previous Deployment again and re-raise.

        Raises:
            ContainerError, ContainerNotReadyError: the new version failed (the old one serves).
        """
        old = self._read(instance)
        config = self._config_of(old)
        if config.autoscale is None:  # keep a count set by scale()
            config = replace(config, replicas=old.spec.replicas or config.effective_replicas())
        rules.refuse_unsupported(config)
        rules.require_registry(image)
        previous = rules.previous_deployment(old, instance.name, instance.namespace)
        self._ensure_secret(instance, config)
        env = dict(options.env)
        log(f"Rolling update of {instance.name!r} to {image} (no unavailable replica) …")
        for manifest in made.manifests(instance.name, image, config, env, options.labels, None,
                                       instance.namespace):
            if manifest["kind"] != "Secret":
                self._apply(manifest)
        if config.autoscale is None:
            self._delete("HorizontalPodAutoscaler", instance.name, instance.namespace)
        try:
            self._await(instance, None, None)
            ready(instance)
        except DeployError as e:
            self._apply(previous)
            log(f"Update failed; the previous version of {instance.name!r} is applied again.")
            e.message += f"\nThe previous version of {instance.name!r} is serving again."
            raise
        return instance

    def _config_of(self, deployment: Any) -> ClusterConfig:
        return self.config if self.config is not None else rules.config_of(deployment)

    def _ensure_secret(self, instance: KubernetesService, config: ClusterConfig) -> None:
        if config.auth_enabled and self._secret(instance) is None:
            self._apply(made.secret(instance.name, {}, rules.new_keys(config),
                                    instance.namespace))

    def _await(self, instance: KubernetesService, log: Log | None, after: float | None,
               timeout: float | None = None) -> None:
        pods.await_rollout(self.apis, instance.name, instance.namespace,
                           timeout or get_config().ready_timeout * 2, log, after,
                           self.poll_seconds)

    def remove(self, instance: KubernetesService, image: bool = False) -> None:
        """Delete the HPA, Service, Deployment (and its pods) and Secret. The image stays in its
        registry (``image`` is ignored: a registry is not this target's to clean)."""
        for kind in ("HorizontalPodAutoscaler", "Service", "Deployment", "Secret"):
            self._delete(kind, instance.name, instance.namespace)

    def _delete(self, kind: str, name: str, namespace: str) -> None:
        api, method, object_name = {
            "HorizontalPodAutoscaler": (self.apis.autoscaling,
                                        "delete_namespaced_horizontal_pod_autoscaler", name),
            "Service": (self.apis.core, "delete_namespaced_service", name),
            "Deployment": (self.apis.apps, "delete_namespaced_deployment", name),
            "Secret": (self.apis.core, "delete_namespaced_secret", made.secret_name(name)),
        }[kind]
        call_or_none(f"deleting {kind} {object_name!r}", getattr(api, method), object_name,
                     namespace, propagation_policy="Foreground")

    def _scale_to(self, instance: KubernetesService, replicas: int) -> None:
        call(f"scaling {instance.name!r}", self.apis.apps.patch_namespaced_deployment_scale,
             instance.name, instance.namespace, {"spec": {"replicas": replicas}},
             _content_type=MERGE)

    def _annotate(self, instance: KubernetesService, annotations: Mapping[str, str | None],
                  template: bool = False) -> None:
        body: dict[str, Any] = {"metadata": {"annotations": dict(annotations)}}
        if template:
            body = {"spec": {"template": body}}
        call(f"annotating {instance.name!r}", self.apis.apps.patch_namespaced_deployment,
             instance.name, instance.namespace, body, _content_type=MERGE)

    def stop(self, instance: KubernetesService) -> None:
        """Scale to zero (an autoscaler pauses then), remembering the count for :meth:`start`."""
        count = self._read(instance).spec.replicas or 0
        if count:
            self._annotate(instance, {ANNOTATION_REPLICAS: str(count)})
            self._scale_to(instance, 0)

    def start(self, instance: KubernetesService) -> None:
        """Scale back to the count it had when stopped."""
        read = self._read(instance)
        if not read.spec.replicas:
            count = int((read.metadata.annotations or {}).get(ANNOTATION_REPLICAS, "1"))
            self._scale_to(instance, count)
            self._annotate(instance, {ANNOTATION_REPLICAS: None})

    def kill(self, instance: KubernetesService) -> None:
        """The same as :meth:`stop`: scaling to zero is immediate for callers."""
        self.stop(instance)

    def restart(self, instance: KubernetesService) -> None:
        """A rolling restart (``kubectl rollout restart``): ``init()`` runs again in every pod,
        with no unavailable replica."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self._annotate(instance, {ANNOTATION_RESTARTED: stamp}, template=True)
        self._await(instance, None, None)

    def keep_alive(self, instance: KubernetesService) -> None:
        """Nothing to do: the Deployment restarts failed pods."""

    def scale(self, instance: KubernetesService, replicas: int) -> None:
        """Run ``replicas`` pods.

        Raises:
            ConfigurationError: fewer than 1, or an autoscaler owns the count.
        """
        if replicas < 1:
            raise ConfigurationError(
                f"replicas must be 1 or more (got {replicas}): stop() stops the service.")
        if call_or_none("reading the autoscaler",
                        self.apis.autoscaling.read_namespaced_horizontal_pod_autoscaler,
                        instance.name, instance.namespace) is not None:
            raise ConfigurationError(
                f"{instance.name!r} autoscales, so its replica count is the autoscaler's: "
                "deploy again with num_replicas to fix the count.")
        self._scale_to(instance, replicas)

    def copy_files(self, instance: KubernetesService, folder: str,
                   files: Mapping[str, Path]) -> None:
        """Pods are not edited in place here.

        Raises:
            ConfigurationError: always; ``update()`` builds, pushes and rolls out instead.
        """
        raise ConfigurationError(
            f"reload() cannot copy files into the pods of {instance.name!r} on Kubernetes: use "
            "update(), which builds a new image, pushes it and rolls it out.")

    # -- reading ---------------------------------------------------------------------------
    def status(self, instance: KubernetesService) -> str:
        """``running`` while it asks for replicas, ``exited`` when scaled to zero."""
        return "running" if self._read(instance).spec.replicas else "exited"

    def replica_counts(self, instance: KubernetesService) -> tuple[int, int]:
        """``(ready, desired)`` replicas — ready means the readiness probe on ``/`` passes."""
        state = pods.progress(self._read(instance))
        return state.ready, state.desired

    def state(self, instance: KubernetesService, health_path: str) -> str:
        """From the pods' readiness probes (the cluster probes ``/``; this machine may not
        reach the pods)."""
        read = call_or_none(f"reading deployment {instance.name!r}",
                            self.apis.apps.read_namespaced_deployment, instance.name,
                            instance.namespace)
        if read is None:
            return "Deleted"
        state = pods.progress(read)
        if state.desired == 0:
            return "Stopped"
        if state.done:
            return "Healthy"
        if any(pods.failure(p) for p in pods.pods(self.apis, instance.name, instance.namespace)):
            return "Unhealthy" if state.ready else "Failed"
        return "Transitioning"

    def endpoint(self, instance: KubernetesService) -> str:
        """The Service's URL: its LoadBalancer address when it has one, else the in-cluster
        name — which this machine reaches only from inside the cluster or through
        ``kubectl port-forward``."""
        found = call(f"reading service {instance.name!r}", self.apis.core.read_namespaced_service,
                     instance.name, instance.namespace)
        balancer = found.status.load_balancer if found.status else None
        for ingress in (balancer.ingress or []) if balancer else []:
            if ingress.ip or ingress.hostname:
                return f"http://{ingress.ip or ingress.hostname}"
        return f"http://{instance.name}.{instance.namespace}.svc.cluster.local"

    def logs(self, instance: KubernetesService, lines: int | None = None) -> str:
        """Every pod's log merged in time order, each line named by its pod."""
        return "\n".join(pods.merged_logs(self.apis, instance.name, instance.namespace, lines))

    def log_position(self, instance: KubernetesService) -> str:
        """Now, as seconds since the epoch (log lines after it are new)."""
        return f"{time.time():.6f}"

    def wait_until_ready(self, instance: KubernetesService, health_path: str,
                         timeout: float | None, log: Log | None, after: str) -> None:
        """Until every replica passes its readiness probe; stream their logs meanwhile.

        Raises:
            ContainerError: a pod cannot work (its log attached).
            ContainerNotReadyError: not ready within ``timeout``.
        """
        self._await(instance, log, float(after) if after else None,
                    timeout or get_config().ready_timeout)

    # -- keys ------------------------------------------------------------------------------
    def _secret(self, instance: KubernetesService) -> Any:
        return call_or_none(f"reading the keys of {instance.name!r}",
                            self.apis.core.read_namespaced_secret,
                            made.secret_name(instance.name), instance.namespace)

    def get_keys(self, instance: KubernetesService) -> tuple[str, str]:
        """The primary and secondary keys, read from the service's Secret.

        Raises:
            ConfigurationError: the service was deployed with auth off.
        """
        found = self._secret(instance)
        data = (found.data or {}) if found is not None else {}
        if not all(k in data for k in made.KEY_NAMES):
            raise ConfigurationError(
                f"service {instance.name!r} was deployed with auth off, so it has no keys: "
                "deploy it again with auth_enabled=True to use keys.")
        primary, secondary = (base64.b64decode(data[k]).decode() for k in made.KEY_NAMES)
        return primary, secondary

    def regen_key(self, instance: KubernetesService, key: str, set_key: str | None = None
                  ) -> None:
        """A new value for one key, then a rolling restart so every pod reads it; the other
        key keeps working throughout.

        Raises:
            ConfigurationError: auth is off, ``key`` is not Primary/Secondary, or ``set_key``
            is not a usable key.
        """
        which = key.lower()
        if which not in made.KEY_NAMES:
            raise ConfigurationError(f"key must be 'Primary' or 'Secondary', not {key!r}.")
        keys = dict(zip(made.KEY_NAMES, self.get_keys(instance), strict=True))
        keys[which] = set_key if set_key is not None else token.token_urlsafe(32)
        ClusterConfig(primary_key=keys["primary"], secondary_key=keys["secondary"])  # checks
        labels = {k: v for k, v in rules.all_labels(self._read(instance)).items()
                  if made.is_label(k, v)}
        self._apply(made.secret(instance.name, labels, (keys["primary"], keys["secondary"]),
                                instance.namespace))
        self.restart(instance)


