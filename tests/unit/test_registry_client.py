"""The registry client on a fake HTTP transport: pagination, auth handshakes, manifests, errors.

The fake is a ``requests`` adapter mounted on the client's session, answering from a routing
function, so these tests need no network and no engine.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter

from jupyter_deploy.errors import (
    CatalogUnavailableError,
    ImageReferenceError,
    RegistryAuthError,
    RegistryError,
    RegistryNotFoundError,
    RegistryUnreachableError,
)
from jupyter_deploy.registry.auth import Challenge
from jupyter_deploy.registry.client import (
    DOCKER_MANIFEST,
    OCI_INDEX,
    ImageReference,
    RegistryClient,
)
from jupyter_deploy.spec.environment import RegistryCredentials

Route = Callable[[requests.PreparedRequest], tuple[int, Mapping[str, str], Any]]
SECRET = "hunter2-secret"


class FakeTransport(BaseAdapter):
    """Answers every request with ``route(request)`` and remembers what was sent."""

    def __init__(self, route: Route) -> None:
        super().__init__()
        self.route = route
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append(request)
        status, headers, body = self.route(request)
        response = requests.Response()
        response.status_code = status
        response.headers.update(headers)
        response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response.url = str(request.url)
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to close."""


def a_client(route: Route, credentials: RegistryCredentials | None = None,
             address: str = "registry.test:5000") -> tuple[RegistryClient, FakeTransport]:
    session = requests.Session()
    transport = FakeTransport(route)
    session.mount("http://", transport)
    session.mount("https://", transport)
    return RegistryClient(address, credentials, session=session), transport


def test_references_are_split_and_checked() -> None:
    # When references are parsed, Then registries, tags and digests are told apart
    assert ImageReference.parse("ubuntu") == ImageReference(None, "ubuntu")
    assert ImageReference.parse("127.0.0.1:5000/a/b:1") == ImageReference(
        "127.0.0.1:5000", "a/b", "1")
    assert ImageReference.parse("library/x:2").registry is None
    assert ImageReference.parse("localhost/x").registry == "localhost"
    digest = "sha256:" + "a" * 64
    assert ImageReference.parse(f"x@{digest}").reference == digest
    for bad in ("Upper/case", "bad ref", "x:", "a//b", "x:" + "t" * 200, ""):
        with pytest.raises(ImageReferenceError):
            ImageReference.parse(bad)


def test_challenges_keep_quoted_commas() -> None:
    # When a Bearer challenge with a two-action scope is parsed
    challenge = Challenge.parse(
        'Bearer realm="https://auth.test/token",service="reg",scope="repository:a/b:pull,push"')
    # Then every parameter is whole
    assert challenge.scheme == "bearer"
    assert challenge.params == {"realm": "https://auth.test/token", "service": "reg",
                                "scope": "repository:a/b:pull,push"}
    assert Challenge.parse('Basic realm="x"').scheme == "basic"


def test_the_catalog_is_followed_page_by_page() -> None:
    # Given a registry answering three pages, linked relatively and absolutely
    pages = {None: (["a", "b"], '</v2/_catalog?last=b&n=2>; rel="next"'),
             "b": (["c", "d"], '<https://registry.test:5000/v2/_catalog?last=d&n=2>; rel="next"'),
             "d": (["e"], "")}

    def route(request: requests.PreparedRequest) -> tuple[int, Mapping[str, str], Any]:
        last = parse_qs(urlsplit(str(request.url)).query).get("last", [None])[0]
        names, link = pages[last]
        return 200, {"Link": link} if link else {}, {"repositories": names}

    client, transport = a_client(route)
    # When the repositories are listed, Then every page was read once
    assert client.repositories(page_size=2) == ["a", "b", "c", "d", "e"]
    assert len(transport.sent) == 3


def test_a_next_page_on_another_host_is_refused() -> None:
    # Given a registry whose Link points elsewhere
    def route(request: requests.PreparedRequest) -> tuple[int, Mapping[str, str], Any]:
        return 200, {"Link": '<https://evil.test/v2/_catalog?last=a>; rel="next"'}, {
            "repositories": ["a"]}

    client, transport = a_client(route)
    # When the catalog is listed, Then it stops with our error and never asks the other host
    with pytest.raises(RegistryError, match="another host"):
        client.repositories()
    assert all(urlsplit(str(r.url)).hostname == "registry.test" for r in transport.sent)


def test_a_registry_without_a_catalog_says_what_to_do() -> None:
    client, _ = a_client(lambda r: (404, {}, {"errors": [{"code": "NOT_FOUND", "message": "x"}]}))
    with pytest.raises(CatalogUnavailableError, match="--repository"):
        client.repositories()


def test_bearer_tokens_are_fetched_once_per_scope_and_never_leak() -> None:
    # Given a registry that wants a Bearer token from a token server checking Basic credentials
    issued: list[str] = []

    def route(request: requests.PreparedRequest) -> tuple[int, Mapping[str, str], Any]:
        url = urlsplit(str(request.url))
        if url.hostname == "auth.test":
            expected = "Basic " + base64.b64encode(f"bob:{SECRET}".encode()).decode()
            if request.headers.get("Authorization") != expected:
                return 401, {}, {}
            issued.append(parse_qs(url.query)["scope"][0])
            return 200, {}, {"access_token": "tok-1", "expires_in": 300}
        if request.headers.get("Authorization") == "Bearer tok-1":
            return 200, {}, {"name": "a/b", "tags": ["1", "2"]}
        challenge = ('Bearer realm="https://auth.test/token",service="reg",'
                     'scope="repository:a/b:pull"')
        return 401, {"WWW-Authenticate": challenge}, {"errors": [{"code": "UNAUTHORIZED"}]}

    login = RegistryCredentials("registry.test:5000", "bob", SECRET)
    client, _ = a_client(route, login)
    # When tags are listed twice
    first, second = client.tags("a/b"), client.tags("a/b")
    # Then one token served both, and the password shows nowhere
    assert first == second == ["1", "2"]
    assert issued == ["repository:a/b:pull"]
    assert SECRET not in repr(client) and SECRET not in repr(client.auth)


def test_a_refused_token_is_an_auth_error_without_the_password() -> None:
    def route(request: requests.PreparedRequest) -> tuple[int, Mapping[str, str], Any]:
        if urlsplit(str(request.url)).hostname == "auth.test":
            return 401, {}, {}
        return 401, {"WWW-Authenticate": 'Bearer realm="https://auth.test/t",service="s"'}, {}

    client, _ = a_client(route, RegistryCredentials("registry.test:5000", "bob", SECRET))
    with pytest.raises(RegistryAuthError) as refused:
        client.ping()
    assert SECRET not in str(refused.value) and "bob" in str(refused.value)


def test_basic_auth_is_sent_up_front_once_asked_for() -> None:
    # Given a registry that answers a Basic challenge
    def route(request: requests.PreparedRequest) -> tuple[int, Mapping[str, str], Any]:
        if request.headers.get("Authorization", "").startswith("Basic "):
            return 200, {}, {"name": "a", "tags": ["x"]}
        return 401, {"WWW-Authenticate": 'Basic realm="r"'}, {}

    client, transport = a_client(route, RegistryCredentials("registry.test:5000", "u", SECRET))
    # When two calls are made, Then only the first one was challenged
    client.tags("a")
    client.tags("a")
    assert len(transport.sent) == 3


def test_anonymous_access_to_a_basic_registry_asks_for_a_login() -> None:
    client, _ = a_client(lambda r: (401, {"WWW-Authenticate": 'Basic realm="r"'}, {}))
    with pytest.raises(RegistryAuthError, match="needs a login"):
        client.ping()


def test_an_index_shows_its_platforms_and_the_amd64_image() -> None:
    # Given an OCI index with arm64 and amd64 entries
    config = {"created": "2026-01-01T00:00:00Z", "os": "linux", "architecture": "amd64",
              "config": {"Labels": {"k": "v"}}}
    index = {"mediaType": OCI_INDEX, "manifests": [
        {"digest": "sha256:arm", "platform": {"os": "linux", "architecture": "arm64",
                                              "variant": "v8"}},
        {"digest": "sha256:amd", "platform": {"os": "linux", "architecture": "amd64"}}]}
    image = {"mediaType": DOCKER_MANIFEST, "config": {"digest": "sha256:cfg", "size": 10},
             "layers": [{"size": 100}, {"size": 50}]}

    def route(request: requests.PreparedRequest) -> tuple[int, Mapping[str, str], Any]:
        path = urlsplit(str(request.url)).path
        bodies = {"/v2/a/manifests/1": (index, "sha256:idx"),
                  "/v2/a/manifests/sha256:amd": (image, "sha256:amd"),
                  "/v2/a/blobs/sha256:cfg": (config, "sha256:cfg")}
        body, digest = bodies[path]
        return 200, {"Docker-Content-Digest": digest}, body

    client, _ = a_client(route)
    # When its details are read
    details = client.details("a", "1")
    # Then the platforms are the index's, the rest the amd64 image's
    assert details.platforms == ["linux/arm64/v8", "linux/amd64"]
    assert (details.digest, details.size, details.labels) == ("sha256:idx", 160, {"k": "v"})
    assert details.created == "2026-01-01T00:00:00Z"


def test_deleting_where_it_is_disabled_says_how_to_enable_it() -> None:
    client, _ = a_client(lambda r: (405, {}, {"errors": [{"code": "UNSUPPORTED"}]}))
    with pytest.raises(RegistryError, match=r"delete\.enabled"):
        client.delete("a", "sha256:" + "0" * 64)


def test_a_missing_tag_and_a_dead_host_have_their_own_errors() -> None:
    client, _ = a_client(lambda r: (404, {}, {"errors": [{"code": "MANIFEST_UNKNOWN"}]}))
    with pytest.raises(RegistryNotFoundError, match="MANIFEST_UNKNOWN"):
        client.manifest("a", "nope")

    def refuse(request: requests.PreparedRequest) -> tuple[int, Mapping[str, str], Any]:
        raise requests.ConnectionError("refused")

    dead, _ = a_client(refuse)
    with pytest.raises(RegistryUnreachableError, match="nothing answers"):
        dead.ping()


def test_loopback_registries_speak_http_and_others_https() -> None:
    assert RegistryClient("127.0.0.1:5000").base_url == "http://127.0.0.1:5000"
    assert RegistryClient("localhost:5000").base_url == "http://localhost:5000"
    assert RegistryClient("registry.example:443").base_url == "https://registry.example:443"
    assert RegistryClient("http://box:5000/").base_url == "http://box:5000"
    assert RegistryClient("docker.io").base_url == "https://registry-1.docker.io"


def test_threads_challenged_together_share_one_token() -> None:
    # Given a Bearer registry and eight threads asking at once
    from concurrent.futures import ThreadPoolExecutor

    issued: list[str] = []

    def route(request: requests.PreparedRequest) -> tuple[int, Mapping[str, str], Any]:
        if urlsplit(str(request.url)).hostname == "auth.test":
            issued.append("token")
            return 200, {}, {"token": "tok-2"}
        if request.headers.get("Authorization") == "Bearer tok-2":
            return 200, {}, {"name": "a", "tags": ["1"]}
        return 401, {"WWW-Authenticate": 'Bearer realm="https://auth.test/t",service="s"'}, {}

    client, _ = a_client(route, RegistryCredentials("registry.test:5000", "bob", SECRET))
    # When they all list tags
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: client.tags("a"), range(32)))
    # Then every call succeeded on one token
    assert answers == [["1"]] * 32
    assert issued == ["token"]


def test_an_answer_that_is_not_json_is_a_registry_error() -> None:
    client, _ = a_client(lambda r: (200, {}, b"<html>a login page</html>"))
    with pytest.raises(RegistryError, match="not JSON"):
        client.tags("a")
