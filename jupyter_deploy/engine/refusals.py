"""What the engine's refusals of a pull or push mean, as our errors.

The engine reports a failed pull or push as free text in its progress stream; this turns that text
(a dead address, a wrong password, a missing tag) into the matching
:class:`~jupyter_deploy.errors.RegistryError`, with what to do next.
"""

from __future__ import annotations

from jupyter_deploy.errors import (
    DeployError,
    ImageNotFoundError,
    PullError,
    PushError,
    RegistryAuthError,
    RegistryUnreachableError,
)
from jupyter_deploy.spec.reference import ImageReference

_UNREACHABLE = ("connection refused", "dial tcp", "no such host", "i/o timeout",
                "no route to host", "server gave http response to https client")
_UNAUTHORIZED = ("unauthorized", "authentication required", "no basic auth credentials",
                 "access denied", "denied:")
_MISSING = ("not found", "manifest unknown", "name unknown")


def engine_error(action: str, ref: str, text: str, log: str = "") -> DeployError:
    """Our error for a failed engine ``pull``/``push`` of ``ref``, from the engine's message."""
    lowered = text.lower()
    registry = ImageReference.parse(ref).registry or "docker.io"
    if any(s in lowered for s in _UNREACHABLE):
        return RegistryUnreachableError(
            f"{action} {ref}: the registry {registry} does not answer ({text.strip()[:200]}). "
            "Check the address, or start the workspace registry: `jupyter-deploy registry start`."
        )
    if any(s in lowered for s in _UNAUTHORIZED):
        return RegistryAuthError(
            f"{action} {ref}: {registry} refused the credentials: check the username and "
            "password (or run `docker login`)."
        )
    if action == "pull" and any(s in lowered for s in _MISSING):
        return ImageNotFoundError(f"{ref} was not found in {registry}: check the name and tag.")
    if action == "pull":
        return PullError(f"pulling {ref} failed: {text}", pull_log=log)
    return PushError(f"pushing {ref} failed: {text}", push_log=log)
