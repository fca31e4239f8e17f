"""A client for the Registry HTTP API v2 / OCI distribution spec, for browsing without the engine.

The engine can pull and push but cannot list what a registry holds; the sidebar, the magics and
``jupyter-deploy registry ls`` need exactly that. :class:`RegistryClient` speaks the API with
``requests``: ``/v2/`` ping, ``_catalog`` and tag lists followed page by page through ``Link``
headers (never to another host), manifests of every kind (Docker v2, OCI, and both index formats)
with their config blobs, uploads and delete by digest. Every HTTP answer goes through one
``_raise_for_status``, so every failure is one of our :class:`~jupyter_deploy.errors.RegistryError`
classes with a message saying what to do next, and never a password.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from jupyter_deploy.errors import (
    CatalogUnavailableError,
    ImageReferenceError,
    RegistryAuthError,
    RegistryError,
    RegistryNotFoundError,
    RegistryUnreachableError,
)
from jupyter_deploy.registry.auth import Authenticator
from jupyter_deploy.spec.environment import RegistryCredentials
from jupyter_deploy.spec.reference import ImageReference

__all__ = ["ImageReference", "Manifest", "RegistryClient", "TagDetails"]

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
INDEX_TYPES = (DOCKER_MANIFEST_LIST, OCI_INDEX)
ACCEPT = ", ".join((OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST))

_LINK_NEXT = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?')


@dataclass(frozen=True)
class Manifest:
    """A manifest or an index as served: media type, digest, parsed body."""

    media_type: str
    digest: str
    body: Mapping[str, Any]

    @property
    def is_index(self) -> bool:
        """Whether this lists per-platform manifests instead of layers."""
        return self.media_type in INDEX_TYPES or "manifests" in self.body

    @property
    def config_digest(self) -> str | None:
        """The config blob's digest (the engine's image id); None for an index."""
        config = self.body.get("config") or {}
        return str(config["digest"]) if "digest" in config else None

    @property
    def size(self) -> int:
        """Compressed bytes a pull transfers: the layers plus the config blob."""
        parts = [*self.body.get("layers", []), self.body.get("config") or {}]
        return sum(int(p.get("size", 0)) for p in parts)

    @property
    def platforms(self) -> list[str]:
        """``os/architecture[/variant]`` of an index's entries (empty for a single manifest)."""
        return [_platform(m.get("platform") or {}) for m in self.body.get("manifests", [])]


@dataclass(frozen=True)
class TagDetails:
    """What the sidebar shows for one tag."""

    repository: str
    tag: str
    digest: str
    size: int
    created: str | None
    platforms: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    media_type: str = ""
    config_digest: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the catalog's ``tags()`` rows)."""
        return {"repository": self.repository, "tag": self.tag, "digest": self.digest,
                "size": self.size, "created": self.created, "platforms": list(self.platforms),
                "labels": dict(self.labels), "media_type": self.media_type,
                "config_digest": self.config_digest}


class RegistryClient:
    """One registry's HTTP API. Thread-safe; one connection pool and token cache per client.

    Args:
        address: ``host[:port]``, optionally with ``http://`` or ``https://``; loopback
            addresses default to plain HTTP (as the engine treats them), others to HTTPS.
        credentials: login to use; anonymous when None or without a username/password.
        timeout: seconds per request (connecting is capped at 3 s so a dead host fails fast).
        pool_size: concurrent connections kept open.
        session: a ``requests`` session to use instead of a new one (tests mount fakes on it).
    """

    def __init__(self, address: str, credentials: RegistryCredentials | None = None,
                 timeout: float = 15.0, pool_size: int = 16,
                 session: requests.Session | None = None) -> None:
        self.base_url = _base_url(address)
        self.address = urlsplit(self.base_url).netloc
        self.timeout = (min(3.0, timeout), timeout)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self._session = session
        self.auth = Authenticator(credentials or RegistryCredentials(self.address), timeout,
                                  session)
        self._configs: dict[str, dict[str, Any]] = {}
        self._configs_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RegistryClient({self.base_url!r}, {self.auth.credentials!r})"

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    # -- browsing ------------------------------------------------------------------------------

    def ping(self) -> None:
        """Check that the registry answers ``/v2/`` and accepts our credentials.

        Raises:
            RegistryUnreachableError, RegistryAuthError, RegistryError.
        """
        self._request("GET", "/v2/", scope="registry:ping:*", what="checking the registry")

    def repositories(self, page_size: int = 1000) -> list[str]:
        """Every repository in ``_catalog``, page after page.

        Raises:
            CatalogUnavailableError: the registry offers no catalog (browse known names instead).
            RegistryUnreachableError, RegistryAuthError, RegistryError.
        """
        try:
            return self._paged(f"/v2/_catalog?n={page_size}", "repositories",
                               "registry:catalog:*", "listing repositories")
        except RegistryNotFoundError as e:
            raise CatalogUnavailableError(
                f"{self.address} does not list its repositories (no /v2/_catalog): name the "
                "repository you want (--repository R, or tags(address, repository))."
            ) from e

    def tags(self, repository: str, page_size: int = 1000) -> list[str]:
        """Every tag of ``repository``, page after page.

        Raises:
            RegistryNotFoundError: no such repository.
            RegistryUnreachableError, RegistryAuthError, RegistryError.
        """
        return self._paged(f"/v2/{repository}/tags/list?n={page_size}", "tags",
                           _scope(repository), f"listing the tags of {repository}")

    def manifest(self, repository: str, reference: str) -> Manifest:
        """The manifest (or index) ``repository:reference`` as served, with its digest.

        Raises:
            RegistryNotFoundError, RegistryUnreachableError, RegistryAuthError, RegistryError.
        """
        response = self._request(
            "GET", f"/v2/{repository}/manifests/{reference}", scope=_scope(repository),
            what=f"reading {repository}:{reference}", headers={"Accept": ACCEPT})
        body = _json(response, f"reading {repository}:{reference}")
        digest = response.headers.get("Docker-Content-Digest") or _sha256(response.content)
        media_type = body.get("mediaType") or response.headers.get("Content-Type", "")
        return Manifest(str(media_type).split(";")[0], digest, body)

    def config(self, repository: str, digest: str) -> dict[str, Any]:
        """An image's config blob (created date, architecture, labels); cached by digest."""
        with self._configs_lock:
            cached = self._configs.get(digest)
        if cached is not None:
            return cached
        response = self._request("GET", f"/v2/{repository}/blobs/{digest}",
                                 scope=_scope(repository), what=f"reading config {digest[:19]}")
        config = _json(response, f"reading config {digest[:19]}")
        with self._configs_lock:
            self._configs[digest] = config
        return config

    def details(self, repository: str, tag: str) -> TagDetails:
        """Digest, size, created date, platforms and labels of ``repository:tag``.

        For an index the size, date and labels are those of its linux/amd64 entry (or its first).

        Raises:
            RegistryNotFoundError, RegistryUnreachableError, RegistryAuthError, RegistryError.
        """
        top = self.manifest(repository, tag)
        image, platforms = top, top.platforms
        if top.is_index:
            chosen = _pick_platform(top.body.get("manifests", []))
            image = self.manifest(repository, chosen) if chosen else top
        config = self.config(repository, image.config_digest) if image.config_digest else {}
        if not platforms and config:
            platforms = [_platform(config)]
        labels = (config.get("config") or {}).get("Labels") or {}
        return TagDetails(repository, tag, top.digest, image.size, config.get("created"),
                          platforms, dict(labels), top.media_type, image.config_digest)

    # -- writing -------------------------------------------------------------------------------

    def delete(self, repository: str, reference: str) -> str:
        """Delete a manifest (a tag is resolved to its digest first); return the digest.

        Raises:
            RegistryError: the registry does not allow deletes (``storage.delete.enabled``).
            RegistryNotFoundError, RegistryUnreachableError, RegistryAuthError.
        """
        digest = reference if ":" in reference else self.manifest(repository, reference).digest
        self._request("DELETE", f"/v2/{repository}/manifests/{digest}",
                      scope=_scope(repository, "delete"), what=f"deleting {repository}@{digest}")
        return digest

    def upload_blob(self, repository: str, data: bytes) -> str:
        """Upload ``data`` as a blob (skipped when present); return its digest.

        Raises:
            RegistryUnreachableError, RegistryAuthError, RegistryError.
        """
        digest = _sha256(data)
        scope, what = _scope(repository, "pull,push"), f"uploading a blob to {repository}"
        if self._exists(f"/v2/{repository}/blobs/{digest}", scope):
            return digest
        start = self._request("POST", f"/v2/{repository}/blobs/uploads/", scope=scope, what=what)
        location = urljoin(self.base_url, start.headers["Location"])
        self._request("PUT", location, scope=scope, what=what, params={"digest": digest},
                      data=data, headers={"Content-Type": "application/octet-stream"})
        return digest

    def mount_blob(self, repository: str, digest: str, source: str) -> None:
        """Make blob ``digest`` of ``source`` part of ``repository`` without copying it.

        Raises:
            RegistryError: the registry cannot mount it (upload it instead).
        """
        response = self._request(
            "POST", f"/v2/{repository}/blobs/uploads/", scope=_scope(repository, "pull,push"),
            what=f"mounting a blob into {repository}", params={"mount": digest, "from": source})
        if response.status_code != 201:
            raise RegistryError(f"{self.address} did not mount {digest[:19]} into {repository}")

    def put_manifest(self, repository: str, reference: str, manifest: Mapping[str, Any]) -> str:
        """Store ``manifest`` under a tag or digest; return its digest.

        Raises:
            RegistryUnreachableError, RegistryAuthError, RegistryError.
        """
        data = json.dumps(manifest, separators=(",", ":")).encode()
        media_type = str(manifest.get("mediaType") or OCI_MANIFEST)
        self._request("PUT", f"/v2/{repository}/manifests/{reference}",
                      scope=_scope(repository, "pull,push"), data=data,
                      what=f"storing {repository}:{reference}",
                      headers={"Content-Type": media_type})
        return _sha256(data)

    # -- HTTP ----------------------------------------------------------------------------------

    def _exists(self, path: str, scope: str) -> bool:
        try:
            self._request("HEAD", path, scope=scope, what="checking a blob")
        except RegistryNotFoundError:
            return False
        return True

    def _paged(self, path: str, key: str, scope: str, what: str) -> list[str]:
        items: list[str] = []
        url: str | None = urljoin(self.base_url, path)
        while url:
            response = self._request("GET", url, scope=scope, what=what)
            items.extend(_json(response, what).get(key) or [])
            url = self._next_page(response)
        return items

    def _next_page(self, response: requests.Response) -> str | None:
        match = _LINK_NEXT.search(response.headers.get("Link", ""))
        if not match:
            return None
        url = urljoin(response.url, match.group(1))
        here, there = urlsplit(self.base_url), urlsplit(url)
        if (there.scheme, there.netloc) != (here.scheme, here.netloc):
            raise RegistryError(
                f"{self.address} pointed its next page at another host ({there.netloc}); "
                "refusing to follow it. Check the registry's proxy settings."
            )
        return url

    def _request(self, method: str, path: str, scope: str, what: str,
                 headers: Mapping[str, str] | None = None, **kwargs: Any) -> requests.Response:
        url = urljoin(self.base_url, path)
        sent = {**(headers or {}), **self.auth.headers(scope)}
        response = self._send(method, url, sent, what, kwargs)
        if response.status_code == 401 and "WWW-Authenticate" in response.headers:
            answer = self.auth.answer(response.headers["WWW-Authenticate"], scope)
            response = self._send(method, url, {**(headers or {}), **answer}, what, kwargs)
        self._raise_for_status(response, what)
        return response

    def _send(self, method: str, url: str, headers: Mapping[str, str], what: str,
              kwargs: Mapping[str, Any]) -> requests.Response:
        try:
            return self._session.request(method, url, headers=dict(headers),
                                         timeout=self.timeout, **kwargs)
        except requests.RequestException as e:
            raise RegistryUnreachableError(
                f"{what}: nothing answers at {self.base_url} ({type(e).__name__}). Check the "
                "address, or start the workspace registry with `jupyter-deploy registry start`."
            ) from e

    def _raise_for_status(self, response: requests.Response, what: str) -> None:
        """Turn any non-2xx answer into our error, with the registry's own error text."""
        status = response.status_code
        if status < 400:
            return
        detail = _error_text(response)
        if status in (401, 403):
            raise RegistryAuthError(f"{what}: {self.auth.refused_message()} ({detail})")
        if status == 404:
            raise RegistryNotFoundError(f"{what}: {self.address} has no such thing ({detail}).")
        if status == 405:
            raise RegistryError(f"{what}: {self.address} does not allow this ({detail}); "
                                "deleting needs storage.delete.enabled in its config.")
        raise RegistryError(f"{what}: {self.address} answered {status} ({detail}).")


#: Docker Hub's names in image references, and the host its registry API answers on.
_HUB_NAMES = ("docker.io", "index.docker.io", "registry.hub.docker.com")
_HUB_API = "registry-1.docker.io"


def _base_url(address: str) -> str:
    address = address.strip().rstrip("/")
    if not address:
        raise ImageReferenceError("a registry address is empty: use host:port")
    if "://" in address:
        return address
    address = _HUB_API if address in _HUB_NAMES else address
    host = urlsplit(f"//{address}").hostname or ""
    local = host == "localhost" or host.startswith("127.") or host == "::1"
    return f"{'http' if local else 'https'}://{address}"


def _scope(repository: str, actions: str = "pull") -> str:
    return f"repository:{repository}:{actions}"


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _platform(spec: Mapping[str, Any]) -> str:
    parts = [spec.get("os"), spec.get("architecture"), spec.get("variant")]
    return "/".join(str(p) for p in parts if p)


def _pick_platform(entries: Iterable[Mapping[str, Any]]) -> str | None:
    entries = list(entries)
    for entry in entries:
        if _platform(entry.get("platform") or {}).startswith("linux/amd64"):
            return str(entry["digest"])
    return str(entries[0]["digest"]) if entries else None


def _json(response: requests.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as e:
        raise RegistryError(f"{what}: the answer is not JSON; is this a registry?") from e
    if not isinstance(body, dict):
        raise RegistryError(f"{what}: the registry's answer is not a JSON object")
    return body


def _error_text(response: requests.Response) -> str:
    try:
        errors = response.json().get("errors") or []
        text = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
    except (ValueError, AttributeError):
        text = ""
    return text or f"HTTP {response.status_code}"
