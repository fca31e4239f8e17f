"""What the Kubernetes target accepts, and what it reads back from a Deployment it made.

Kept apart from :mod:`.target` (which talks to the cluster) because all of it is pure: which
settings Kubernetes can honour, that the image must come from a registry, the configuration and
labels recorded on a Deployment, and the manifest that puts a running version back.
"""

from __future__ import annotations

import json
import secrets as token
from typing import Any

from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.server import protocol
from jupyter_deploy.spec.cluster import ClusterConfig, describe, unsupported
from jupyter_deploy.spec.record import LABEL_CLUSTER
from jupyter_deploy.spec.reference import ImageReference
from jupyter_deploy.targets.kubernetes import manifests as made

#: What the Kubernetes target honours of a ClusterConfig (the queue settings need a proxy).
SUPPORTED = {"replicas", "autoscale", "cpu_cores", "memory_gb", "cpu_cores_limit",
             "memory_gb_limit", "gpu_cores", "auth_enabled", "primary_key", "secondary_key",
             "scoring_timeout_ms", "liveness", "tags", "description", "namespace",
             "publish_all_interfaces"}


def native_default() -> ClusterConfig:
    """What a Kubernetes deployment gets with no configuration: one replica, no keys."""
    return ClusterConfig(replicas=1, auth_enabled=False)


def refuse_unsupported(config: ClusterConfig) -> None:
    """Raise naming every setting this target cannot honour."""
    refused = unsupported(config, SUPPORTED)
    if refused:
        raise ConfigurationError(
            "the Kubernetes target cannot honour " + ", ".join(describe(f) for f in refused)
            + " (no proxy queues requests in front of the pods): leave them out.")


def require_registry(image: str) -> None:
    """The cluster pulls the image itself, so it must name a registry.

    Raises:
        ConfigurationError: ``image`` exists only on this engine.
    """
    if not ImageReference.parse(image).registry:
        raise ConfigurationError(
            f"{image} names no registry, so the cluster cannot pull it: push it to a registry "
            "the cluster reaches (`jupyter-deploy push`, or Model.package(...)) and deploy that "
            "reference (REGISTRY/REPOSITORY:TAG).")


def config_of(deployment: Any) -> ClusterConfig:
    """The configuration a Deployment was made with (its record, keys left out: the Secret
    keeps them)."""
    recorded = (deployment.metadata.annotations or {}).get(LABEL_CLUSTER)
    if not recorded:
        return native_default()
    data = json.loads(recorded)
    data.pop("keys", None)
    return ClusterConfig.from_json(data, f"the record of {deployment.metadata.name!r}")


def all_labels(deployment: Any) -> dict[str, str]:
    meta = deployment.metadata
    return {**(meta.annotations or {}), **(meta.labels or {})}


def new_keys(config: ClusterConfig) -> tuple[str, str]:
    return (config.primary_key or token.token_urlsafe(32),
            config.secondary_key or token.token_urlsafe(32))


def previous_deployment(old: Any, name: str, namespace: str) -> dict[str, Any]:
    """The Deployment manifest that puts the running version back (image, environment,
    resources and probes as they are now)."""
    template = old.spec.template
    container = template.spec.containers[0]
    env = {e.name: e.value for e in container.env or [] if e.value is not None
           and e.name != protocol.ENV_AUTH_KEY_FILES}
    recorded = (old.metadata.annotations or {}).get(LABEL_CLUSTER)
    data = json.loads(recorded) if recorded else native_default().to_json()
    data.pop("keys", None)
    data.pop("autoScaler", None)
    data["numReplicas"] = old.spec.replicas or 1
    config = ClusterConfig.from_json(data, f"the record of {name!r}")
    labels = {k: v for k, v in all_labels(old).items()
              if "kubernetes.io/" not in k and k != LABEL_CLUSTER}
    previous = made.deployment(name, container.image, config, env, labels,
                               namespace)
    if recorded and "autoScaler" in json.loads(recorded):
        previous["spec"].pop("replicas", None)  # the autoscaler owns the count
    return previous


def replicas_text(config: ClusterConfig) -> str:
    scale = config.autoscale
    if scale is not None:
        return (f"autoscale {scale.min_replicas} to {scale.max_replicas} replicas at "
                f"{scale.target_utilization} % CPU")
    return f"{config.effective_replicas()} replica(s)"


def reach_note(name: str, namespace: str) -> str:
    return (f"The service answers inside the cluster at "
            f"http://{name}.{namespace}.svc.cluster.local; this machine reaches it only "
            f"through `kubectl port-forward -n {namespace} service/{name} 8080:"
            f"{made.SERVICE_PORT}` (then http://127.0.0.1:8080).")
