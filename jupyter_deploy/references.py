"""Image references, and what the engine's refusals of a pull or push mean.

Both sit between the engine and a registry: a reference is checked before any pull or push (a bad
one is our :class:`~jupyter_deploy.errors.ImageReferenceError`, not a confusing engine message),
and the text of a refused pull or push (a dead address, a wrong password, a missing tag) becomes
the matching :class:`~jupyter_deploy.errors.RegistryError`, with what to do next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import (
    DeployError,
    ImageNotFoundError,
    ImageReferenceError,
    PullError,
    PushError,
    RegistryAuthError,
    RegistryUnreachableError,
)

_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?"  # noqa: E501
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"^(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)"
    rf"(?::(?P<tag>[\w][\w.-]{{0,127}}))?(?:@(?P<digest>{_DIGEST}))?$"
)


@dataclass(frozen=True)
class ImageReference:
    """``[registry/]repository[:tag][@digest]``, split and checked (Distribution's grammar)."""

    registry: str | None
    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, ref: str) -> ImageReference:
        """Split ``ref``; the first part is a registry when it has a ``.``, a ``:`` or is localhost.

        Raises:
            ImageReferenceError: ``ref`` is not a valid image reference.
        """
        match = _REFERENCE.match(ref.strip())
        if not match or len(ref) > 255:
            raise ImageReferenceError(
                f"{ref!r} is not a valid image reference: use [registry/]repository[:tag] with a "
                "lower-case repository, e.g. 127.0.0.1:5000/models/iris:1"
            )
        domain, path = match.group("domain"), match.group("path")
        if domain and not ("." in domain or ":" in domain or domain == "localhost"):
            if not re.fullmatch(_COMPONENT, domain):
                raise ImageReferenceError(f"{ref!r}: the repository must be lower case")
            domain, path = None, f"{domain}/{path}"
        return cls(domain, path, match.group("tag"), match.group("digest"))

    @property
    def reference(self) -> str:
        """What to ask the registry for: the digest, else the tag, else ``latest``."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        name = f"{self.registry}/{self.repository}" if self.registry else self.repository
        tag = f":{self.tag}" if self.tag else ""
        return name + tag + (f"@{self.digest}" if self.digest else "")


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
