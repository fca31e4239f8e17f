"""A deployment as Kubernetes manifests: plain dicts, checked against the published schemas.

One service is a Deployment (readiness and liveness probes on the server's route, requests and
limits, a rolling update that never drops a ready replica), a ClusterIP Service (port 80 to the
server's 5001), a HorizontalPodAutoscaler when autoscale is on, and — with auth on — an Opaque
Secret with the two keys, mounted read-only where ``JD_AUTH_KEY_FILES`` tells the server to look.
The functions here take no cluster and no Docker: the same dicts are written to a folder
(:func:`write_manifests`, with no key on disk) and applied by
:class:`~jupyter_deploy.targets.kubernetes.target.KubernetesTarget` (with the real keys).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from jupyter_deploy.config import LABEL_MANAGED
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.server import protocol
from jupyter_deploy.spec.cluster import DRAIN_SECONDS, STOP_GRACE_SECONDS, ClusterConfig
from jupyter_deploy.spec.record import LABEL_CLUSTER

Manifest = dict[str, Any]

CONTAINER_PORT = protocol.DEFAULT_PORT
SERVICE_PORT = 80
KEY_DIR = "/var/run/jd-keys"
KEY_NAMES = ("primary", "secondary")
KEY_FILES = tuple(f"{KEY_DIR}/{k}" for k in KEY_NAMES)
LABEL_NAME = "app.kubernetes.io/name"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY = "jupyter-deploy"
#: Where the autoscaler's refresh period is kept: Kubernetes sets it per cluster, not per HPA.
ANNOTATION_REFRESH = "jupyter-deploy.io/autoscale-refresh-seconds"
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def check_name(name: str) -> None:
    """Kubernetes names a Service with an RFC 1035 label; the Secret adds ``-keys``.

    Raises:
        ConfigurationError: ``name`` cannot name a Kubernetes Service.
    """
    if not _DNS_LABEL.match(name) or len(name) > 58:
        raise ConfigurationError(
            f"{name!r} cannot name a Kubernetes service: use at most 58 lowercase letters, digits "
            "and '-', starting with a letter and ending with a letter or digit")


def secret_name(name: str) -> str:
    """The Secret holding ``name``'s keys."""
    return f"{name}-keys"


def selector(name: str) -> dict[str, str]:
    """The labels that pick the service's pods (never changed after creation)."""
    return {LABEL_NAME: name}


def is_label(key: str, value: str) -> bool:
    """Whether Kubernetes takes ``key: value`` as a label (else it can only be an annotation)."""
    return bool(_LABEL_KEY.match(key) and _LABEL_VALUE.match(value))


def split_labels(name: str, labels: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(labels, annotations): ours and every caller label that is a valid Kubernetes label go to
    labels (selectable); the rest (a JSON service record…) to annotations.

    Raises:
        ConfigurationError: a key Kubernetes accepts neither as label nor annotation.
    """
    kept = {**selector(name), LABEL_MANAGED_BY: MANAGED_BY, LABEL_MANAGED: "true"}
    notes: dict[str, str] = {}
    for key, value in labels.items():
        if not _LABEL_KEY.match(key):
            raise ConfigurationError(f"label {key!r} is not a valid Kubernetes key: use letters, "
                                     "digits, '-', '_' and '.', with an optional DNS prefix and /")
        (kept if is_label(key, value) else notes)[key] = value
    return kept, notes


def _metadata(name: str, labels: Mapping[str, str], annotations: Mapping[str, str],
              namespace: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def quantity_cpu(cores: float) -> str:
    """CPU cores as a Kubernetes quantity in millicores (``0.1`` → ``100m``)."""
    return f"{max(1, round(cores * 1000))}m"


def quantity_memory(gb: float) -> str:
    """The SDK's GB as a Kubernetes quantity in MiB (``0.5`` → ``512Mi``)."""
    return f"{max(1, round(gb * 1024))}Mi"


def _resources(config: ClusterConfig) -> dict[str, dict[str, str]]:
    requests = {"cpu": quantity_cpu(config.cpu_cores), "memory": quantity_memory(config.memory_gb)}
    limits = {"cpu": quantity_cpu(config.cpu_cores_limit or config.cpu_cores),
              "memory": quantity_memory(config.memory_gb_limit or config.memory_gb)}
    if config.gpu_cores:
        requests["nvidia.com/gpu"] = limits["nvidia.com/gpu"] = str(config.gpu_cores)
    return {"requests": requests, "limits": limits}


def _probes(config: ClusterConfig) -> dict[str, dict[str, Any]]:
    """Readiness gates traffic from the first second; liveness waits ``initial_delay_seconds``
    (a slow ``init()`` is not a dead replica). Kubernetes requires ``successThreshold: 1`` on a
    liveness probe, so the configured success threshold applies to readiness."""
    live = config.liveness
    check = {"httpGet": {"path": protocol.HEALTH_PATH, "port": CONTAINER_PORT}}
    common = {"periodSeconds": live.period_seconds, "timeoutSeconds": live.timeout_seconds,
              "failureThreshold": live.failure_threshold}
    return {
        "readinessProbe": {**check, **common, "successThreshold": live.success_threshold},
        "livenessProbe": {**check, "initialDelaySeconds": live.initial_delay_seconds, **common,
                          "successThreshold": 1},
    }


def _container(name: str, image: str, config: ClusterConfig, env: Mapping[str, str]
               ) -> dict[str, Any]:
    variables = {protocol.ENV_TIMEOUT_MS: str(config.scoring_timeout_ms),
                 protocol.ENV_DRAIN_SECONDS: str(DRAIN_SECONDS), **env}
    if config.auth_enabled:
        variables[protocol.ENV_AUTH_KEY_FILES] = ",".join(KEY_FILES)
    container: dict[str, Any] = {
        "name": "scoring", "image": image, "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": CONTAINER_PORT, "protocol": "TCP"}],
        "env": [{"name": k, "value": v} for k, v in sorted(variables.items())],
        "resources": _resources(config), **_probes(config),
    }
    if config.auth_enabled:
        container["volumeMounts"] = [{"name": "keys", "mountPath": KEY_DIR, "readOnly": True}]
    return container


def deployment(name: str, image: str, config: ClusterConfig, env: Mapping[str, str],
               labels: Mapping[str, str], namespace: str | None = None) -> Manifest:
    """The Deployment: its replica count unless an autoscaler owns it."""
    kept, notes = split_labels(name, labels)
    notes[LABEL_CLUSTER] = json.dumps(config.to_json(), sort_keys=True)  # keys masked
    pod: dict[str, Any] = {"containers": [_container(name, image, config, env)],
                           "terminationGracePeriodSeconds": STOP_GRACE_SECONDS}
    if config.auth_enabled:
        # Both keys listed: a pod does not start until the Secret holds them (fail closed).
        pod["volumes"] = [{"name": "keys", "secret": {
            "secretName": secret_name(name), "defaultMode": 0o444,
            "items": [{"key": k, "path": k} for k in KEY_NAMES]}}]
    spec: dict[str, Any] = {}
    if config.autoscale is None:
        spec["replicas"] = config.effective_replicas()
    spec |= {
        "selector": {"matchLabels": selector(name)},
        "strategy": {"type": "RollingUpdate",
                     "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
        "template": {"metadata": {"labels": kept}, "spec": pod},
    }
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": _metadata(name, kept, notes, namespace), "spec": spec}


def service(name: str, config: ClusterConfig, labels: Mapping[str, str],
            namespace: str | None = None) -> Manifest:
    """Port 80 in front of every ready pod; a LoadBalancer only when all interfaces were asked
    for (``publish_all_interfaces``, which requires auth)."""
    kept, _ = split_labels(name, labels)
    kind = "LoadBalancer" if config.publish_all_interfaces else "ClusterIP"
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": _metadata(name, kept, {}, namespace),
            "spec": {"type": kind, "selector": selector(name),
                     "ports": [{"name": "http", "port": SERVICE_PORT, "targetPort": "http",
                                "protocol": "TCP"}]}}


def autoscaler(name: str, config: ClusterConfig, labels: Mapping[str, str],
               namespace: str | None = None) -> Manifest | None:
    """The HorizontalPodAutoscaler (CPU utilization), or None without autoscale."""
    scale = config.autoscale
    if scale is None:
        return None
    kept, _ = split_labels(name, labels)
    notes = {ANNOTATION_REFRESH: str(scale.refresh_seconds)}
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": _metadata(name, kept, notes, namespace),
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                        "name": name},
                     "minReplicas": scale.min_replicas, "maxReplicas": scale.max_replicas,
                     "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu", "target": {"type": "Utilization",
                                                   "averageUtilization":
                                                       scale.target_utilization}}}]}}


def secret(name: str, labels: Mapping[str, str], keys: tuple[str, str] | None,
           namespace: str | None = None) -> Manifest:
    """The Opaque Secret with the keys; without ``keys`` it carries none (for files on disk)."""
    kept, _ = split_labels(name, labels)
    made: Manifest = {"apiVersion": "v1", "kind": "Secret",
                      "metadata": _metadata(secret_name(name), kept, {}, namespace),
                      "type": "Opaque"}
    if keys is not None:
        made["stringData"] = dict(zip(KEY_NAMES, keys, strict=True))
    return made


def manifests(name: str, image: str, config: ClusterConfig, env: Mapping[str, str],
              labels: Mapping[str, str], keys: tuple[str, str] | None = None,
              namespace: str | None = None) -> list[Manifest]:
    """Every manifest of one service, in apply order (Secret, Deployment, Service, HPA).

    ``namespace`` is used when the configuration names none.

    Raises:
        ConfigurationError: ``name`` or a label cannot be used in Kubernetes.
    """
    check_name(name)
    where = config.namespace or namespace
    made = [secret(name, labels, keys, where)] if config.auth_enabled else []
    made += [deployment(name, image, config, env, labels, where),
             service(name, config, labels, where)]
    scaler = autoscaler(name, config, labels, where)
    return made + ([scaler] if scaler else [])


_SECRET_HEADER = """\
# The keys of {name} are NOT in this file, on purpose: keys never go to disk.
# Create the Secret with them before applying the other files, e.g.
#   kubectl create secret generic {secret} {ns}\\
#     --from-literal=primary="$(openssl rand -base64 32)" \\
#     --from-literal=secondary="$(openssl rand -base64 32)"
# Until the Secret holds both keys the pods do not start (their volume lists both keys,
# which the server reads from {key_dir}). Applying this file afterwards only sets labels.
"""


def write_manifests(dest_dir: str | Path, name: str, image: str, config: ClusterConfig,
                    env: Mapping[str, str], labels: Mapping[str, str],
                    namespace: str | None = None) -> list[Path]:
    """Write the manifests as YAML files in ``dest_dir``, one per object, without key values.

    Raises:
        ConfigurationError: ``name`` or a label cannot be used in Kubernetes.
    """
    folder = Path(dest_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for manifest in manifests(name, image, config, env, labels, None, namespace):
        kind = manifest["kind"]
        filename = {"HorizontalPodAutoscaler": "hpa"}.get(kind, kind.lower())
        path = folder / f"{filename}.yaml"
        header = ""
        if kind == "Secret":
            where = manifest["metadata"].get("namespace")
            header = _SECRET_HEADER.format(name=name, secret=secret_name(name), key_dir=KEY_DIR,
                                           ns=f"--namespace {where} " if where else "")
        path.write_text(header + dump_yaml([manifest]))
        written.append(path)
    return written


class _PlainDumper(yaml.SafeDumper):
    """Writes a shared sub-dict twice instead of as a YAML alias (``&id001``/``*id001``)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(objects: Sequence[Manifest]) -> str:
    """Objects as a YAML stream, keys in the order they were built (stable for golden files)."""
    return yaml.dump_all(list(objects), Dumper=_PlainDumper, sort_keys=False,
                         default_flow_style=False, width=1000)
