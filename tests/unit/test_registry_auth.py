"""Where credentials come from, and how engine pull/push failures become our errors."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from jupyter_deploy.config import get_config
from jupyter_deploy.engine.images import consume_stream, own_login
from jupyter_deploy.engine.refusals import engine_error
from jupyter_deploy.errors import (
    ImageNotFoundError,
    PullError,
    PushError,
    RegistryAuthError,
    RegistryUnreachableError,
)
from jupyter_deploy.registry.auth import (
    PASSWORD_VARIABLE,
    USERNAME_VARIABLE,
    from_docker_config,
    login_from_environment,
    resolve_credentials,
)
from jupyter_deploy.spec.environment import Environment, RegistryCredentials

SECRET = "s3cret-from-config"


@pytest.fixture
def a_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Docker config with one stored login and one credential helper on PATH."""
    helper = tmp_path / "bin" / "docker-credential-jdtest"
    helper.parent.mkdir()
    helper.write_text('#!/bin/sh\nread server\nif [ "$server" = "broken.test" ]; then exit 1; fi\n'
                      'echo \'{"ServerURL":"\'$server\'","Username":"helper-user",'
                      '"Secret":"helper-secret"}\'\n')
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{helper.parent}:{os.environ['PATH']}")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "auths": {"stored.test:5000": {"auth": base64.b64encode(f"carol:{SECRET}".encode())
                                       .decode()}},
        "credHelpers": {"helped.test": "jdtest", "broken.test": "jdtest"},
    }))
    return config


def test_a_docker_login_is_found(a_docker_config: Path) -> None:
    # When credentials are looked up for a registry `docker login` stored
    found = from_docker_config("stored.test:5000", str(a_docker_config))
    # Then they are there, masked in the repr
    assert found is not None and (found.username, found.password) == ("carol", SECRET)
    assert SECRET not in repr(found)


def test_a_credential_helper_is_asked(a_docker_config: Path) -> None:
    found = from_docker_config("helped.test", str(a_docker_config))
    assert found is not None and (found.username, found.password) == ("helper-user",
                                                                      "helper-secret")


def test_a_failing_credential_helper_is_an_auth_error(a_docker_config: Path) -> None:
    with pytest.raises(RegistryAuthError, match="credential helper"):
        from_docker_config("broken.test", str(a_docker_config))


def test_credentials_are_looked_up_in_order(a_docker_config: Path) -> None:
    # Given a login in the call, one in an environment and one in Docker's config
    given = RegistryCredentials(None, "dave", "given-pass")
    env = Environment(registry=RegistryCredentials("stored.test:5000", "erin", "env-pass"))
    config = str(a_docker_config)
    # Then the call's wins, then the environment's (same address only), then Docker's
    assert resolve_credentials("stored.test:5000", given, env, config).username == "dave"
    assert resolve_credentials("stored.test:5000", None, env, config).username == "erin"
    assert resolve_credentials("http://stored.test:5000/", None, env, config).username == "erin"
    assert resolve_credentials("stored.test:5000", None, None, config).username == "carol"
    assert not resolve_credentials("nowhere.test", None, env, config).has_login


def test_engine_messages_become_our_errors() -> None:
    ref = "127.0.0.1:5000/a/b:1"
    refused = 'Get "http://127.0.0.1:5000/v2/": dial tcp 127.0.0.1:5000: connection refused'
    assert isinstance(engine_error("pull", ref, refused), RegistryUnreachableError)
    assert isinstance(engine_error("push", ref, "unauthorized: authentication required"),
                      RegistryAuthError)
    assert isinstance(engine_error("pull", ref, "manifest unknown"), ImageNotFoundError)
    assert isinstance(engine_error("pull", ref, "disk full"), PullError)
    pushed = engine_error("push", ref, "blob upload invalid", log="a: Pushing")
    assert isinstance(pushed, PushError) and pushed.push_log == "a: Pushing"


def test_a_push_stream_with_an_error_raises_after_reading_it_all() -> None:
    # Given a push stream with an error in the middle
    read: list[Mapping[str, Any]] = []

    def stream() -> Iterator[Mapping[str, Any]]:
        events = [{"status": "The push refers to repository [x]"},
                  {"status": "Preparing", "id": "l1", "progressDetail": {}},
                  {"error": "blob upload unknown", "errorDetail": {"message": "blob"}},
                  {"status": "late line"}]
        for event in events:
            read.append(event)
            yield event

    # When it is consumed, Then it raises our PushError with the log, and nothing was left unread
    with pytest.raises(PushError) as failed:
        consume_stream(stream(), None, lambda text, log: engine_error("push", "x:1", text, log))
    assert len(read) == 4
    assert "The push refers to repository [x]" in failed.value.push_log


@pytest.mark.parametrize(("ref", "sent"), [
    ("127.0.0.1:5000/base/python:3.11", True),
    ("127.0.0.1:5001/base/python:3.11", False),      # another port is another registry
    ("other.example:5000/base/python:3.11", False),
    ("python:3.11", False),                           # Docker Hub
])
def test_a_login_goes_only_with_references_to_its_own_registry(ref: str, sent: bool) -> None:
    # Given the login of the registry at 127.0.0.1:5000
    login = RegistryCredentials("127.0.0.1:5000", "reader", "s3cret").auth_config()
    # Then the engine layer hands it over for that registry's images only
    assert (own_login(ref, login) is not None) is sent


def test_a_login_that_names_no_registry_is_never_sent() -> None:
    unbound = RegistryCredentials(None, "reader", "s3cret").auth_config()
    assert own_login("127.0.0.1:5000/base/python:3.11", unbound) is None


def test_hub_logins_match_hub_references_under_any_of_its_names() -> None:
    login = RegistryCredentials("https://index.docker.io/v1/", "me", "pw").auth_config()
    assert own_login("library/python:3.11", login) is not None


def test_the_login_variables_belong_to_the_workspace_registry_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(USERNAME_VARIABLE, "bob")
    monkeypatch.setenv(PASSWORD_VARIABLE, "from-env")
    workspace = get_config().registry_address
    assert login_from_environment(workspace) == RegistryCredentials(workspace, "bob", "from-env")
    assert login_from_environment("127.0.0.1:5999") is None
