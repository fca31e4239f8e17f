"""The official ``kubernetes`` client, imported only when a cluster is used, and its errors as ours.

``kubernetes`` is an optional extra: the rest of jupyter_deploy (manifests on disk included) works
without it, so it is imported here, lazily, with a message saying how to install it. Every API call
goes through :func:`translate_api_errors`, the one place a cluster's answer becomes one of our
errors (a 404 never becomes a 500).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from jupyter_deploy.errors import (
    ConfigurationError,
    ConflictError,
    DeployError,
    NotFoundError,
)

T = TypeVar("T")
FIELD_MANAGER = "jupyter-deploy"
APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"


def kubernetes_module() -> Any:
    """``import kubernetes``, or say how to get it.

    Raises:
        ConfigurationError: the optional extra is not installed.
    """
    try:
        import kubernetes
    except ImportError as e:
        raise ConfigurationError(
            "the Kubernetes target needs the official client: pip install "
            "'jupyter_deploy[kubernetes]' (manifests can be written without it)") from e
    return kubernetes


@dataclass
class Apis:
    """The three API groups a service touches."""

    apps: Any
    core: Any
    autoscaling: Any


def connect(context: str | None) -> Apis:
    """API clients for a kubeconfig ``context`` (the current one when None).

    Raises:
        ConfigurationError: no kubeconfig, or no such context.
    """
    k8s = kubernetes_module()
    try:
        # KUBECONFIG read now, not when the client was imported (it caches it at import)
        api_client = k8s.config.new_client_from_config(
            config_file=os.environ.get("KUBECONFIG") or None, context=context)
    except (k8s.config.ConfigException, OSError, ValueError) as e:
        which = f"context {context!r}" if context else "the current context"
        raise ConfigurationError(
            f"cannot load {which} from the kubeconfig ({e}): check `kubectl config "
            "get-contexts`, or attach the target with the right context") from e
    return Apis(k8s.client.AppsV1Api(api_client), k8s.client.CoreV1Api(api_client),
                k8s.client.AutoscalingV2Api(api_client))


def _message(error: Any) -> str:
    try:
        return str(json.loads(error.body or "{}").get("message") or error.reason)
    except (ValueError, AttributeError):
        return str(getattr(error, "reason", "") or error)


def _translate(error: Any, action: str) -> DeployError:
    status, message = getattr(error, "status", None), _message(error)
    if status == 404:
        return NotFoundError(f"{action}: not found in the cluster ({message})")
    if status == 409:
        return ConflictError(f"{action}: {message}; another manager changed it, try again")
    if status in (401, 403):
        return ConfigurationError(
            f"{action}: the cluster refused (HTTP {status}: {message}): the kubeconfig user "
            "lacks the right; check with `kubectl auth can-i`")
    if status in (400, 422):
        return ConfigurationError(f"{action}: the cluster rejected it: {message}")
    return DeployError(f"{action}: the cluster answered HTTP {status}: {message}")


@contextlib.contextmanager
def translate_api_errors(action: str) -> Iterator[None]:
    """Turn the client's ``ApiException`` and connection errors into our errors.

    Raises:
        NotFoundError, ConflictError, ConfigurationError, DeployError: by HTTP status.
    """
    import urllib3

    k8s = kubernetes_module()
    try:
        yield
    except k8s.client.exceptions.ApiException as e:
        raise _translate(e, action) from e
    except (urllib3.exceptions.HTTPError, OSError) as e:
        raise ConfigurationError(
            f"{action}: the cluster does not answer ({e}): check the context with "
            "`kubectl cluster-info`") from e


def call(action: str, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``method(*args, **kwargs)`` with errors translated."""
    with translate_api_errors(action):
        return method(*args, **kwargs)


def call_or_none(action: str, method: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """Like :func:`call`, but None when the object does not exist."""
    try:
        return call(action, method, *args, **kwargs)
    except NotFoundError:
        return None
