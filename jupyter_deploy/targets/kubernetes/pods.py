"""Reading a Deployment's pods: rollout progress, failures worth stopping for, merged logs.

Kubernetes never rolls a bad version back by itself: with ``maxUnavailable: 0`` a new pod that
never gets ready just stalls the rollout while the old pods keep serving. So the target watches
the pods and gives up as soon as one of them cannot work (a crash loop, an image that cannot be
pulled), with that pod's log — never by waiting for a timeout that says nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from jupyter_deploy.errors import ContainerError, ContainerNotReadyError
from jupyter_deploy.targets.kubernetes.client import Apis, call
from jupyter_deploy.targets.kubernetes.manifests import selector

Log = Callable[[str], None]
#: Waiting reasons after which a pod will not start without a change.
FATAL_REASONS = frozenset({"CrashLoopBackOff", "ErrImagePull", "ImagePullBackOff",
                           "InvalidImageName", "CreateContainerConfigError",
                           "CreateContainerError"})
CONTAINER = "scoring"


@dataclass(frozen=True)
class Progress:
    """Where a rollout stands."""

    ready: int
    desired: int
    done: bool
    stalled: str = ""  # the reason Kubernetes gave up (progress deadline), if it did


def progress(deployment: Any) -> Progress:
    """The rollout of ``deployment`` (a ``V1Deployment``) as read from its status."""
    status, desired = deployment.status, deployment.spec.replicas or 0
    ready = (status.ready_replicas or 0) if status else 0
    if status is None:
        return Progress(ready, desired, False)
    current = (status.observed_generation or 0) >= (deployment.metadata.generation or 0)
    done = (current and (status.updated_replicas or 0) >= desired and ready >= desired
            and (status.replicas or 0) <= desired and not status.unavailable_replicas)
    stalled = ""
    for condition in status.conditions or []:
        if condition.type == "Progressing" and condition.reason == "ProgressDeadlineExceeded":
            stalled = condition.message or condition.reason
    return Progress(ready, desired, done, stalled)


def pods(apis: Apis, name: str, namespace: str) -> list[Any]:
    """The service's pods (every version)."""
    label = ",".join(f"{k}={v}" for k, v in selector(name).items())
    found = call(f"listing the pods of {name!r}", apis.core.list_namespaced_pod, namespace,
                 label_selector=label)
    return list(found.items or [])


def failure(pod: Any) -> str:
    """Why ``pod`` cannot work (a fatal waiting reason), or ''."""
    for status in (pod.status.container_statuses or []) if pod.status else []:
        waiting = status.state.waiting if status.state else None
        if waiting is not None and waiting.reason in FATAL_REASONS:
            return f"{waiting.reason}: {waiting.message or 'no message'}"
    return ""


def _parse_time(stamp: str) -> float:
    """An RFC 3339 log timestamp (nanoseconds allowed) as seconds since the epoch."""
    head = stamp.rstrip("Z")[:26]
    try:
        when = datetime.strptime(head, "%Y-%m-%dT%H:%M:%S.%f" if "." in head
                                 else "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return 0.0
    return when.replace(tzinfo=timezone.utc).timestamp()


def merged_logs(apis: Apis, name: str, namespace: str, lines: int | None = None,
                after: float | None = None) -> list[str]:
    """Every pod's log in time order, each line prefixed with its pod's name."""
    entries: list[tuple[float, str]] = []
    for pod in pods(apis, name, namespace):
        pod_name = pod.metadata.name
        kwargs: dict[str, Any] = {"container": CONTAINER, "timestamps": True}
        if lines:
            kwargs["tail_lines"] = lines
        text = call(f"reading the log of pod {pod_name}", apis.core.read_namespaced_pod_log,
                    pod_name, namespace, **kwargs)
        for line in str(text or "").splitlines():
            stamp, _, rest = line.partition(" ")
            when = _parse_time(stamp)
            if after is None or when > after:
                entries.append((when, f"{pod_name} | {rest}"))
    merged = [text for _, text in sorted(entries, key=lambda e: e[0])]
    return merged[-lines:] if lines else merged


def await_rollout(apis: Apis, name: str, namespace: str, timeout: float, log: Log | None,
                  after: float | None, poll: float) -> None:
    """Until every replica of the current version is ready; stream pod logs after ``after``.

    Raises:
        ContainerError: a pod cannot work (crash loop, image pull) or the rollout stalled.
        ContainerNotReadyError: not done within ``timeout``.
    """
    deadline, shown = time.monotonic() + timeout, 0
    while True:
        if log is not None:
            fresh = merged_logs(apis, name, namespace, after=after)
            for line in fresh[shown:]:
                log(line)
            shown = max(shown, len(fresh))
        read = call(f"reading deployment {name!r}", apis.apps.read_namespaced_deployment,
                    name, namespace)
        state = progress(read)
        if state.done:
            return
        broken = [(p.metadata.name, failure(p)) for p in pods(apis, name, namespace)]
        broken = [(pod, why) for pod, why in broken if why]
        if broken or state.stalled:
            pod, why = broken[0] if broken else ("", state.stalled)
            logs = "\n".join(merged_logs(apis, name, namespace, 60))
            raise ContainerError(f"{name!r} cannot become ready: {pod + ' ' if pod else ''}"
                                 f"{why}. The end of its log:\n{logs}", logs=logs)
        if time.monotonic() > deadline:
            raise ContainerNotReadyError(
                f"{state.ready} of {state.desired} replicas of {name!r} are ready after "
                f"{timeout:.0f} s: read its logs, or raise DeployConfig.ready_timeout.",
                logs="\n".join(merged_logs(apis, name, namespace, 60)))
        time.sleep(poll)
