"""The table of cluster settings and their rules, shared by every way of spelling them.

Each setting of a cluster deployment is declared once in :data:`SETTINGS`: where it lives on
:class:`~jupyter_deploy.spec.cluster.ClusterConfig`, its SDK parameter and its deployment-config
JSON key. :func:`problems` checks flattened settings and words every message with the caller's
spelling (``num_replicas`` to SDK code, ``numReplicas`` to a JSON file), all problems at once as
the SDK does. :func:`resolve_autoscale` is the SDK's autoscale-by-default rule. No Docker here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from jupyter_deploy.errors import ConfigurationError

COMPUTE_TYPES = ("aks", "aci")
#: What a configuration's JSON shows instead of a key; refused when read back.
MASK = "********"
#: The SDK's rule for a Kubernetes namespace (an RFC 1123 label).
NAMESPACE_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class AutoScale:
    """Autoscaling bounds, with the SDK's defaults (1 to 10 replicas, 70 % CPU, every second)."""

    min_replicas: int = 1
    max_replicas: int = 10
    target_utilization: int = 70
    refresh_seconds: int = 1


@dataclass(frozen=True)
class LivenessProbe:
    """When the platform decides a replica is dead, with the SDK's defaults."""

    initial_delay_seconds: int = 310
    period_seconds: int = 10
    timeout_seconds: int = 2
    failure_threshold: int = 3
    success_threshold: int = 1


@dataclass(frozen=True)
class Setting:
    """One setting: its path on :class:`ClusterConfig`, its SDK parameter, its JSON key."""

    path: str
    sdk: str
    json: str
    kind: str  # "int", "number", "bool" or "str"
    optional: bool = False
    minimum: float | None = None  # inclusive
    positive: bool = False  # strictly greater than zero
    maximum: float | None = None


def _s(path: str, sdk: str, key: str, kind: str, **checks: Any) -> Setting:
    return Setting(path, sdk, key, kind, **checks)


SETTINGS: tuple[Setting, ...] = (
    _s("replicas", "num_replicas", "numReplicas", "int", optional=True, minimum=1),
    _s("autoscale.min_replicas", "autoscale_min_replicas", "autoScaler.minReplicas", "int",
       minimum=1),
    _s("autoscale.max_replicas", "autoscale_max_replicas", "autoScaler.maxReplicas", "int",
       minimum=1),
    _s("autoscale.target_utilization", "autoscale_target_utilization",
       "autoScaler.targetUtilization", "int", minimum=1, maximum=100),
    _s("autoscale.refresh_seconds", "autoscale_refresh_seconds",
       "autoScaler.refreshPeriodInSeconds", "int", minimum=1),
    _s("cpu_cores", "cpu_cores", "containerResourceRequirements.cpu", "number", positive=True),
    _s("memory_gb", "memory_gb", "containerResourceRequirements.memoryInGB", "number",
       positive=True),
    _s("cpu_cores_limit", "cpu_cores_limit", "containerResourceRequirements.cpuLimit", "number",
       optional=True, positive=True),
    _s("memory_gb_limit", "memory_gb_limit", "containerResourceRequirements.memoryInGBLimit",
       "number", optional=True, positive=True),
    _s("gpu_cores", "gpu_cores", "containerResourceRequirements.gpu", "int", minimum=0),
    _s("auth_enabled", "auth_enabled", "authEnabled", "bool"),
    _s("primary_key", "primary_key", "keys.primaryKey", "str", optional=True),
    _s("secondary_key", "secondary_key", "keys.secondaryKey", "str", optional=True),
    _s("scoring_timeout_ms", "scoring_timeout_ms", "scoringTimeoutMs", "int", minimum=1),
    _s("max_concurrent_requests_per_container", "replica_max_concurrent_requests",
       "maxConcurrentRequestsPerContainer", "int", minimum=1),
    _s("max_queue_wait_ms", "max_request_wait_time", "maxQueueWaitMs", "int", minimum=1),
    _s("liveness.initial_delay_seconds", "initial_delay_seconds",
       "livenessProbeRequirements.initialDelaySeconds", "int", minimum=1),
    _s("liveness.period_seconds", "period_seconds", "livenessProbeRequirements.periodSeconds",
       "int", minimum=1),
    _s("liveness.timeout_seconds", "timeout_seconds", "livenessProbeRequirements.timeoutSeconds",
       "int", minimum=1),
    _s("liveness.failure_threshold", "failure_threshold",
       "livenessProbeRequirements.failureThreshold", "int", minimum=1),
    _s("liveness.success_threshold", "success_threshold",
       "livenessProbeRequirements.successThreshold", "int", minimum=1),
    _s("description", "description", "description", "str", optional=True),
    _s("namespace", "namespace", "namespace", "str", optional=True),
    _s("publish_all_interfaces", "publish_all_interfaces", "publishAllInterfaces", "bool"),
)
#: Spellings by ClusterConfig path, for messages (``tags`` and ``autoscale`` are not in SETTINGS).
SDK_NAMES: dict[str, str] = {s.path: s.sdk for s in SETTINGS} | {
    "tags": "tags", "autoscale": "autoscale_enabled"}
JSON_NAMES: dict[str, str] = {s.path: s.json for s in SETTINGS} | {
    "tags": "tags", "autoscale": "autoScaler.autoscaleEnabled"}


# -- validation ----------------------------------------------------------------------------

_KINDS: dict[str, tuple[type, ...]] = {
    "int": (int,), "number": (int, float), "bool": (bool,), "str": (str,)}
_KIND_WORDS = {"int": "a whole number", "number": "a number", "bool": "true or false",
               "str": "a string"}


def _type_problem(value: Any, setting: Setting, name: str) -> str | None:
    if value is None:
        return None if setting.optional else f"{name} must be {_KIND_WORDS[setting.kind]}"
    wrong_bool = isinstance(value, bool) and setting.kind != "bool"
    if wrong_bool or not isinstance(value, _KINDS[setting.kind]):
        return f"{name} must be {_KIND_WORDS[setting.kind]}, got {value!r}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{name} must be a finite number, got {value!r}"
    return None


def _range_problem(value: Any, setting: Setting, name: str) -> str | None:
    if value is None or setting.kind in ("bool", "str"):
        return None
    if setting.positive and value <= 0:
        return f"{name} must be greater than zero, got {value}"
    if setting.minimum is not None and value < setting.minimum:
        return f"{name} must be at least {setting.minimum:g}, got {value}"
    if setting.maximum is not None and value > setting.maximum:
        return f"{name} must be at most {setting.maximum:g}, got {value}"
    return None


def problems(values: Mapping[str, Any], names: Mapping[str, str]) -> list[str]:
    """Everything wrong with flattened settings (path → value), spelled with ``names``.

    Types are checked first; value rules only run once every type is right.
    """
    autoscaled = values.get("autoscale") is not None
    found = []
    for s in SETTINGS:
        if s.path.startswith("autoscale.") and not autoscaled:
            continue
        found.append(_type_problem(values.get(s.path), s, names[s.path]))
    found += _shape_problems(values)
    if any(found):
        return [p for p in found if p]
    for s in SETTINGS:
        found.append(_range_problem(values.get(s.path), s, names[s.path]))
    return [p for p in found if p] + _rule_problems(values, names)


def _shape_problems(values: Mapping[str, Any]) -> list[str | None]:
    found: list[str | None] = []
    if values.get("compute_type") not in COMPUTE_TYPES:
        found.append(f"compute_type must be one of {', '.join(COMPUTE_TYPES)}, "
                     f"got {values.get('compute_type')!r}")
    tags = values.get("tags", ())
    if not all(isinstance(t, tuple) and len(t) == 2 and all(isinstance(x, str) for x in t)
               for t in tags):
        found.append(f"tags must map strings to strings, got {tags!r}")
    return found


def _rule_problems(values: Mapping[str, Any], names: Mapping[str, str]) -> list[str]:
    def n(path: str) -> str:
        return names.get(path, path)

    found: list[str | None] = []
    if values.get("autoscale") is not None and values.get("replicas") is not None:
        found.append(f"{n('autoscale')} and {n('replicas')} were both given: autoscaling picks "
                     f"the number of replicas, so drop one of them")
    low, high = values.get("autoscale.min_replicas"), values.get("autoscale.max_replicas")
    if low is not None and high is not None and low > high:
        found.append(f"{n('autoscale.min_replicas')} ({low}) cannot be greater than "
                     f"{n('autoscale.max_replicas')} ({high})")
    for limit, request in (("cpu_cores_limit", "cpu_cores"), ("memory_gb_limit", "memory_gb")):
        if values.get(limit) is not None and values[limit] < values[request]:
            found.append(f"{n(limit)} ({values[limit]}) must be greater than or equal to "
                         f"{n(request)} ({values[request]})")
    for key in ("primary_key", "secondary_key"):
        found.append(_key_problem(values, key, n(key), n("auth_enabled")))
    namespace = values.get("namespace")
    if namespace is not None and not NAMESPACE_PATTERN.match(namespace):
        found.append(f"{n('namespace')} {namespace!r} is not a Kubernetes namespace: up to "
                     "63 lowercase letters, digits and '-', starting and ending with a letter "
                     "or digit")
    if values.get("publish_all_interfaces") and not values.get("auth_enabled"):
        found.append(f"{n('publish_all_interfaces')} exposes the service on every interface: "
                     f"turn {n('auth_enabled')} on too")
    return [p for p in found if p]


def _key_problem(values: Mapping[str, Any], key: str, name: str, auth: str) -> str | None:
    value = values.get(key)
    if value is None:
        return None
    if not values.get("auth_enabled"):
        return f"{name} was given but {auth} is off: turn {auth} on or drop the key"
    if value == MASK:
        return f"{name} is the masked placeholder {MASK}: put the real key or remove it"
    if not value or any(c.isspace() or not c.isprintable() for c in value):
        return f"{name} must be a non-empty string without spaces"
    return None


def flatten(config: Any) -> dict[str, Any]:
    """A ClusterConfig's settings by path (``autoscale.min_replicas``…)."""
    values: dict[str, Any] = {f.name: getattr(config, f.name) for f in fields(config)}
    for prefix in ("autoscale", "liveness"):
        part = values[prefix]
        if part is not None:
            values.update({f"{prefix}.{f.name}": getattr(part, f.name) for f in fields(part)})
    return values


def resolve_autoscale(compute_type: str, enabled: bool | None, replicas: int | None,
                      bounds: Mapping[str, Any], names: Mapping[str, str]
                      ) -> tuple[AutoScale | None, bool]:
    """The SDK's autoscale rule: ``(autoscale, explicit)`` from what the user said.

    ``bounds`` holds the autoscale fields the user gave (``min_replicas``…; None = not given).
    On AKS, no ``num_replicas`` and no word about autoscale means autoscale on, with defaults —
    recorded as not explicit, so targets without an autoscaler may run the minimum instead.

    Raises:
        ConfigurationError: bounds without autoscale on, or autoscale off without replicas.
    """
    given = {k: v for k, v in bounds.items() if v is not None}
    if enabled:
        return AutoScale(**given), True
    errors = [f"{names['autoscale.' + k]} was given without enabling autoscale: turn "
              f"{names['autoscale']} on" for k in given]
    if enabled is False and replicas is None:
        errors.append(f"{names['autoscale']} is off but {names['replicas']} was not given: "
                      "say how many replicas to run")
    if errors:
        raise ConfigurationError("; ".join(errors))
    if enabled is None and replicas is None and compute_type == "aks":
        return AutoScale(), False
    return None, False
