"""Bearer token auth against a real registry configured with ``auth.token``.

The registry trusts the test token server's certificate; the client must follow the
``WWW-Authenticate: Bearer realm=…,service=…,scope=…`` challenge, log in at the realm, and use
the token (answered as ``token`` or ``access_token``) for the scope it was granted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_helpers import a_free_port, build_tiny_image, running_registry
from tokenserver import ISSUER, SERVICE, TokenServer

from jupyter_deploy.engine import images
from jupyter_deploy.errors import RegistryAuthError
from jupyter_deploy.registry.catalog import Catalog
from jupyter_deploy.registry.client import RegistryClient
from jupyter_deploy.registry.local import LocalRegistry, TokenAuth
from jupyter_deploy.spec.environment import RegistryCredentials

USER, PASSWORD = "bob", "token-test-password"


@pytest.fixture(scope="module")
def a_token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenServer]:
    server = TokenServer(a_free_port(), tmp_path_factory.mktemp("tokens"), {USER: PASSWORD})
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def a_token_registry(
    a_token_server: TokenServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalRegistry]:
    token = TokenAuth(a_token_server.realm, SERVICE, ISSUER, a_token_server.cert_path)
    with running_registry(tmp_path_factory.mktemp("token-registry"), token=token) as registry:
        yield registry


def test_a_token_registry_is_browsed_with_bearer_tokens(
    a_token_server: TokenServer, a_token_registry: LocalRegistry,
    test_labels: dict[str, str], tmp_path: Path,
) -> None:
    # Given an image the engine pushed with the login (the engine does its own token dance)
    address = a_token_registry.address
    ref = f"{address}/jdtest/tokened:{next(iter(test_labels.values()))}"
    build_tiny_image(tmp_path, ref, test_labels)
    login = RegistryCredentials(address, USER, PASSWORD)
    images.push(ref, auth_config=login.auth_config())
    a_token_server.requests.clear()
    # When our client lists the catalog and the tag's details with the same login
    catalog = Catalog([login], ttl=0)
    repositories = catalog.repositories(address)
    rows = catalog.tags(address, "jdtest/tokened")
    # Then it worked through tokens scoped to exactly what it asked for, one per scope
    assert "jdtest/tokened" in repositories
    assert rows[0]["labels"]["org.jupyter-deploy.purpose"] == "registry-test"
    scopes = [tuple(r["scope"]) for r in a_token_server.requests]
    assert ("registry:catalog:*",) in scopes
    assert ("repository:jdtest/tokened:pull",) in scopes
    assert len(scopes) == len(set(scopes))


def test_an_access_token_answer_works_too(
    a_token_server: TokenServer, a_token_registry: LocalRegistry
) -> None:
    # Given a token server that answers `access_token` instead of `token`
    a_token_server.token_field = "access_token"
    try:
        # When a fresh client pings and lists
        client = RegistryClient(a_token_registry.address,
                                RegistryCredentials(a_token_registry.address, USER, PASSWORD))
        client.ping()
        # Then it is let in
        assert isinstance(client.repositories(), list)
    finally:
        a_token_server.token_field = "token"


def test_a_wrong_password_at_the_token_server_is_an_auth_error(
    a_token_registry: LocalRegistry,
) -> None:
    # Given a login with a wrong password
    address = a_token_registry.address
    wrong = RegistryCredentials(address, USER, "definitely-wrong")
    # When the catalog is listed, Then the token server's refusal is ours, without the password
    with pytest.raises(RegistryAuthError) as refused:
        RegistryClient(address, wrong).repositories()
    assert "definitely-wrong" not in str(refused.value)
    assert "refused the login" in str(refused.value)
