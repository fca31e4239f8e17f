"""The one image-reference grammar: ``[registry/]repository[:tag][@digest]``.

Every front end and every core call that takes an image name checks it here, before any pull, push
or run, so a bad name is our :class:`~jupyter_deploy.errors.ImageReferenceError` with one message
and one set of limits (Distribution's), never a confusing engine message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jupyter_deploy.errors import (
    ImageReferenceError,
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


#: Docker Hub's names in references and logins; Docker assumes it when a reference names none.
DOCKER_HUB = "docker.io"
HUB_NAMES = ("docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com")


def registry_key(address: str | None) -> str:
    """An address reduced to what identifies a registry: no scheme, no path, Hub's names as one.

    ``https://index.docker.io/v1/`` and ``docker.io`` are the same registry; ``127.0.0.1:5000``
    and ``127.0.0.1:5001`` are not.
    """
    text = re.sub(r"^[a-z]+://", "", (address or "").strip().lower()).split("/")[0]
    return DOCKER_HUB if text in HUB_NAMES else text


def registry_of(ref: str) -> str:
    """The registry an image reference points at (Docker Hub when it names none).

    Raises:
        ImageReferenceError: ``ref`` is not a valid reference.
    """
    return registry_key(ImageReference.parse(ref).registry or DOCKER_HUB)


def same_registry(first: str | None, second: str | None) -> bool:
    """Whether two addresses name one registry (an empty one names none)."""
    return bool(first and second) and registry_key(first) == registry_key(second)
