"""The one cluster deployment spec: how many replicas, what resources, which keys.

The SDK has two cluster configurations (``AksWebservice.deploy_configuration`` and
``AciWebservice.deploy_configuration``) and the CLI a JSON file for each (``az ml model deploy
--dc``). All three land here, in one frozen :class:`ClusterConfig` that every cluster target
(Swarm, Kubernetes) reads — so a setting means the same thing however it was spelled. Each setting
is declared once in :data:`~jupyter_deploy.spec.cluster_settings.SETTINGS` with its SDK parameter
and its JSON key, and validation speaks the caller's spelling: ``num_replicas`` to SDK code,
``numReplicas`` to a JSON file.

Keys are credentials: ``repr`` and :meth:`ClusterConfig.to_json` mask them. No Docker here.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.spec.cluster_settings import (
    COMPUTE_TYPES,
    JSON_NAMES,
    MASK,
    SDK_NAMES,
    SETTINGS,
    AutoScale,
    LivenessProbe,
    flatten,
    problems,
    resolve_autoscale,
)

__all__ = ["COMPUTE_TYPES", "MASK", "SETTINGS", "AutoScale", "ClusterConfig", "LivenessProbe",
           "LocalDeployConfig", "describe", "load_deployment_config", "parse_deployment_config",
           "unsupported"]

#: Seconds a replica on a cluster target keeps serving after it is told to stop, its health
#: route down (the server's drain, ``JD_DRAIN_SECONDS``): longer than a load balancer takes to
#: take it out of rotation — HAProxy's check fails twice 1 s apart, a Kubernetes endpoint goes
#: within a second or two — so no request meets a connection the replica closed.
DRAIN_SECONDS = 4
#: Seconds a replica has to finish after its drain before it is killed.
STOP_GRACE_SECONDS = DRAIN_SECONDS + 10


@dataclass(frozen=True, repr=False)
class ClusterConfig:
    """How a service runs on a cluster target; checked on creation.

    ``compute_type`` says where it came from (``aks`` or ``aci``: their defaults differ, e.g.
    auth). ``autoscale`` is set when autoscaling is on; ``autoscale_explicit`` tells a user's
    request from the AKS default (autoscale whenever ``num_replicas`` is left out), so a target
    without an autoscaler refuses only the former. ``publish_all_interfaces`` opts into
    publishing beyond 127.0.0.1 (it requires auth). The keys never show in ``repr`` or JSON.

    Raises:
        ConfigurationError: every problem at once, named as the SDK names its parameters.
    """

    compute_type: str = "aks"
    replicas: int | None = None
    autoscale: AutoScale | None = None
    autoscale_explicit: bool = False
    cpu_cores: float = 0.1
    memory_gb: float = 0.5
    cpu_cores_limit: float | None = None
    memory_gb_limit: float | None = None
    gpu_cores: int = 0
    auth_enabled: bool = True
    primary_key: str | None = None
    secondary_key: str | None = None
    scoring_timeout_ms: int = 60000
    max_concurrent_requests_per_container: int = 1
    max_queue_wait_ms: int = 500
    liveness: LivenessProbe = field(default_factory=LivenessProbe)
    tags: tuple[tuple[str, str], ...] = ()
    description: str | None = None
    namespace: str | None = None
    publish_all_interfaces: bool = False

    def __post_init__(self) -> None:
        errors = problems(flatten(self), SDK_NAMES)
        if errors:
            raise ConfigurationError("invalid cluster deployment configuration: "
                                     + "; ".join(errors))

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("_key") and value is not None:
                value = MASK
            shown.append(f"{f.name}={value!r}")
        return f"ClusterConfig({', '.join(shown)})"

    def effective_replicas(self) -> int:
        """How many replicas run at first: ``replicas``, else the autoscaler's minimum, else 1."""
        if self.replicas is not None:
            return self.replicas
        return self.autoscale.min_replicas if self.autoscale else 1

    def with_keys(self, primary: str | None, secondary: str | None) -> ClusterConfig:
        """The same configuration holding these keys (e.g. freshly generated ones)."""
        return replace(self, primary_key=primary, secondary_key=secondary)

    def to_json(self) -> dict[str, Any]:
        """The deployment-config JSON (``--dc``) of this configuration, keys masked."""
        return _to_json(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], source: str = "deployment config"
                  ) -> ClusterConfig:
        """Read a deployment-config JSON document whose ``computeType`` is ``aks`` or ``aci``.

        Raises:
            ConfigurationError: naming ``source`` and the offending key (unknown keys, wrong
                types, values the SDK refuses, settings only Azure can honour).
        """
        return _from_json(data, source)


@dataclass(frozen=True)
class LocalDeployConfig:
    """A deployment config for the local engine: ``{"computeType": "local", "port": N}``."""

    port: int | None = None


def unsupported(config: ClusterConfig, supported: Iterable[str]) -> list[str]:
    """The settings ``config`` uses that are not in ``supported`` (ClusterConfig field names).

    A setting is *used* when it asks for something: replicas, explicit autoscale (the AKS
    default-on autoscaler is not a request), resources other than the defaults, auth, keys…
    Targets turn the list into an error with :func:`describe`.
    """
    neutral = ClusterConfig(auth_enabled=False)
    used = []
    for f in fields(config):
        if f.name in ("compute_type", "autoscale_explicit"):
            continue
        if f.name == "autoscale":
            asked = config.autoscale is not None and config.autoscale_explicit
        else:
            asked = getattr(config, f.name) != getattr(neutral, f.name)
        if asked and f.name not in set(supported):
            used.append(f.name)
    return used


def describe(field_name: str) -> str:
    """A field as users spell it: ``num_replicas`` (SDK) / ``numReplicas`` (JSON)."""
    sdk = SDK_NAMES.get(field_name, field_name)
    key = JSON_NAMES.get(field_name, field_name)
    if field_name == "liveness":
        sdk, key = "period_seconds, initial_delay_seconds…", "livenessProbeRequirements"
    return sdk if sdk == key else f"{sdk} ({key} in a deployment-config JSON)"


# -- the deployment-config JSON ------------------------------------------------------------

#: Keys the SDK's CLI reads that only Azure can honour (accepted when false/empty).
AZURE_ONLY = frozenset({
    "appInsightsEnabled", "dataCollection", "tokenAuthEnabled", "location", "sslEnabled",
    "sslCertificate", "sslKey", "cname", "dnsNameLabel", "vaultBaseUrl", "keyName", "keyVersion",
    "vnetName", "subnetName", "properties", "versionName", "trafficPercentile"})
_SECTIONS = ("autoScaler", "containerResourceRequirements", "livenessProbeRequirements", "keys")
_KNOWN: dict[str, set[str]] = {"": {"computeType", "tags", "gpuCores", "computeTargetName",
                                    *_SECTIONS}}
for _setting in SETTINGS:
    _section, _, _key = _setting.json.rpartition(".")
    _KNOWN.setdefault(_section, set()).add(_key)
_KNOWN["autoScaler"].add("autoscaleEnabled")


def _object(value: Any, where: str, source: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{source}: {where} must be a JSON object, got {value!r}")
    return value


def _refuse_unknown(data: Mapping[str, Any], section: str, source: str) -> None:
    known = _KNOWN[section]
    for key, value in data.items():
        where = f"{section}.{key}" if section else key
        if key in known:
            continue
        if not section and key in AZURE_ONLY:
            if value in (None, False, "", {}, []):
                continue
            raise ConfigurationError(f"{source}: {key} is an Azure-only setting that "
                                     "jupyter_deploy cannot honour: remove it")
        close = difflib.get_close_matches(key, sorted(known), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ConfigurationError(f"{source}: unknown key {where}{hint}; known keys here: "
                                 f"{', '.join(sorted(known))}")


def _json_values(data: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Every setting present in ``data``, by ClusterConfig path (sections checked)."""
    _refuse_unknown(data, "", source)
    sections = {"": data}
    for name in _SECTIONS:
        sections[name] = _object(data.get(name, {}), name, source)
        _refuse_unknown(sections[name], name, source)
    values: dict[str, Any] = {}
    for s in SETTINGS:
        section, _, key = s.json.rpartition(".")
        if key in sections[section]:
            values[s.path] = sections[section][key]
    if "gpuCores" in data:  # the SDK's CLI reads the GPU count from the top level
        if "gpu_cores" in values:
            raise ConfigurationError(f"{source}: gpuCores and containerResourceRequirements.gpu "
                                     "were both given: keep one")
        values["gpu_cores"] = data["gpuCores"]
    return values


def _from_json(data: Any, source: str) -> ClusterConfig:
    data = _object(data, "a deployment config", source)
    kind = data.get("computeType")
    if not isinstance(kind, str) or kind.lower() not in COMPUTE_TYPES:
        raise ConfigurationError(f"{source}: computeType must be one of "
                                 f"{', '.join(COMPUTE_TYPES)}, got {kind!r}")
    if data.get("computeTargetName"):
        raise ConfigurationError(f"{source}: computeTargetName is not read from the file: name "
                                 "the target with --ct NAME (or deployment_target=…)")
    values = _json_values(data, source)
    values["compute_type"] = kind.lower()
    values.setdefault("auth_enabled", kind.lower() == "aks")
    tags = _object(data.get("tags") or {}, "tags", source)
    values["tags"] = tuple((k, v) for k, v in tags.items())
    enabled = _object(data.get("autoScaler", {}), "autoScaler", source).get("autoscaleEnabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise ConfigurationError(f"{source}: autoScaler.autoscaleEnabled must be true or false, "
                                 f"got {enabled!r}")
    return _build(values, enabled, JSON_NAMES, source)


_NESTED = ("autoscale", "autoscale_explicit", "liveness")


def _build(values: dict[str, Any], enabled: bool | None, names: Mapping[str, str],
           source: str) -> ClusterConfig:
    """A ClusterConfig from flat settings (absent ones take the defaults), every problem named
    with ``names``."""
    defaults = flatten(ClusterConfig())
    values = {k: v for k, v in defaults.items() if "." in k or k not in _NESTED} | values
    bounds = {f.name: values.pop(f"autoscale.{f.name}", None) for f in fields(AutoScale)}
    try:
        autoscale, explicit = resolve_autoscale(values["compute_type"], enabled,
                                                values.get("replicas"), bounds, names)
    except ConfigurationError as e:
        raise ConfigurationError(f"{source}: {e}") from e
    values["autoscale"] = autoscale
    if autoscale is not None:
        values.update({f"autoscale.{f.name}": getattr(autoscale, f.name)
                       for f in fields(autoscale)})
    errors = problems(values, names)
    if errors:
        raise ConfigurationError(f"{source}: " + "; ".join(errors))
    liveness = {k.partition(".")[2]: v for k, v in values.items() if k.startswith("liveness.")}
    top = {k: v for k, v in values.items() if "." not in k and k not in _NESTED}
    return ClusterConfig(**top, autoscale=autoscale, autoscale_explicit=explicit,
                         liveness=LivenessProbe(**liveness))


def _to_json(config: ClusterConfig) -> dict[str, Any]:
    data: dict[str, Any] = {"computeType": config.compute_type}
    scale = config.autoscale
    if scale is not None and (config.autoscale_explicit or config.compute_type != "aks"
                              or scale != AutoScale()):
        data["autoScaler"] = {"autoscaleEnabled": True, "minReplicas": scale.min_replicas,
                              "maxReplicas": scale.max_replicas,
                              "refreshPeriodInSeconds": scale.refresh_seconds,
                              "targetUtilization": scale.target_utilization}
    elif config.replicas is not None or (scale is None and config.compute_type == "aks"):
        data["numReplicas"] = config.effective_replicas()  # on AKS, no count means autoscale
    data["authEnabled"] = config.auth_enabled
    flat = flatten(config)
    for s in SETTINGS:
        value = flat.get(s.path)
        if s.path in ("replicas", "auth_enabled") or s.path.startswith("autoscale."):
            continue
        if value is None or (s.kind == "bool" and not value) or (s.path == "gpu_cores"
                                                                  and not value):
            continue
        section, _, key = s.json.rpartition(".")
        target = data.setdefault(section, {}) if section else data
        target[key] = MASK if s.path.endswith("_key") else value
    if config.tags:
        data["tags"] = dict(config.tags)
    return data


def parse_deployment_config(data: Any, source: str = "deployment config"
                            ) -> ClusterConfig | LocalDeployConfig:
    """A deployment-config document: ``computeType`` aks/aci, or local (also a bare ``port``).

    Raises:
        ConfigurationError: naming ``source`` and the offending key.
    """
    data = _object(data, "a deployment config", source)
    kind = data.get("computeType")
    if (kind is None and set(data) <= {"port"}) or str(kind).lower() == "local":
        unknown = set(data) - {"computeType", "port"}
        if unknown:
            raise ConfigurationError(f"{source}: unknown key {sorted(unknown)[0]} for a local "
                                     "deployment; known keys here: computeType, port")
        port = data.get("port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int)
                                 or not 1 <= port <= 65535):
            raise ConfigurationError(f"{source}: port must be a number from 1 to 65535, "
                                     f"got {port!r}")
        return LocalDeployConfig(port)
    if kind is None:
        raise ConfigurationError(f'{source}: no computeType: add "computeType": "aks", "aci" '
                                 'or "local"')
    return ClusterConfig.from_json(data, source)


def load_deployment_config(path: str | Path) -> ClusterConfig | LocalDeployConfig:
    """Read a deployment-config JSON file (``--dc``).

    Raises:
        ConfigurationError: the file cannot be read or is not a valid deployment config.
    """
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise ConfigurationError(f"cannot read the deployment config {path}: {e}") from e
    return parse_deployment_config(data, str(path))
