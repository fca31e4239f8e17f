"""A registry login reaches its own registry and no other, on every path that sends one.

Two real registries: a private Distribution registry with a login (the workspace registry for
these tests), and a recording one that answers every request with a Basic challenge and keeps
each ``Authorization`` header it is sent. Pull, push, ``registry ls``, base-image resolution and
the sidebar's pull are pointed at the recording one while the private one's login is at hand
(the login variables, an environment's ``registry``, the sidebar's configured registries): the
private password never arrives there. Docker's own config here holds no login for it.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from registry_helpers import running_registry

import jupyter_deploy
from jupyter_deploy.cli.main import main
from jupyter_deploy.config import get_config
from jupyter_deploy.engine import images
from jupyter_deploy.engine.client import docker_client
from jupyter_deploy.errors import DeployError
from jupyter_deploy.registry.auth import PASSWORD_VARIABLE, USERNAME_VARIABLE
from jupyter_deploy.registry.local import LocalRegistry, write_htpasswd
from jupyter_deploy.serverext.manager import DeployManager
from jupyter_deploy.services.building import ensure_base_image
from jupyter_deploy.spec.environment import Environment, RegistryCredentials

USER, PASSWORD = "alice", "private-registry-only-7f3a"


class RecordingRegistry:
    """Answers 401 (Basic) to everything on a free loopback port; keeps what it was sent."""

    def __init__(self) -> None:
        self.authorizations: list[str] = []
        seen = self.authorizations

        class Handler(BaseHTTPRequestHandler):
            def _challenge(self) -> None:
                if "Authorization" in self.headers:
                    seen.append(self.headers["Authorization"])
                body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="recording"')
                self.send_header("Docker-Distribution-API-Version", "registry/2.0")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = _challenge

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def passwords_seen(self) -> list[str]:
        """The decoded Basic credentials (and any other scheme as sent)."""
        found = []
        for header in self.authorizations:
            scheme, _, value = header.partition(" ")
            found.append(base64.b64decode(value).decode() if scheme == "Basic" else header)
        return found

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def a_recording_registry() -> Iterator[RecordingRegistry]:
    registry = RecordingRegistry()
    yield registry
    registry.close()


@pytest.fixture
def a_private_workspace_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, test_labels: dict[str, str]
) -> Iterator[LocalRegistry]:
    """A registry with a login, made the workspace registry; the login in the variables."""
    htpasswd = write_htpasswd(tmp_path / "htpasswd", {USER: PASSWORD})
    with running_registry(tmp_path / "private", htpasswd=htpasswd) as registry:
        monkeypatch.setattr(get_config(), "registry_address", registry.address)
        monkeypatch.setenv(USERNAME_VARIABLE, USER)
        monkeypatch.setenv(PASSWORD_VARIABLE, PASSWORD)
        yield registry


def _never_sent(recorder: RecordingRegistry) -> None:
    assert not any(PASSWORD in seen for seen in recorder.passwords_seen()), recorder.authorizations


def test_the_login_variables_work_for_the_workspace_registry(
    a_private_workspace_registry: LocalRegistry, tmp_path: Path, test_labels: dict[str, str],
    a_service_name: str,
) -> None:
    # Given an image pushed with the login (the variables name no registry: they are its)
    ref = f"{a_private_workspace_registry.address}/creds/{a_service_name}:1"
    images.build(str(_tiny(tmp_path)), ref, labels=test_labels)
    assert main(["push", ref]) == 0
    docker_client().images.remove(ref)
    # Then a pull with the same variables succeeds: they do reach their own registry
    assert main(["pull", ref]) == 0


def _tiny(folder: Path) -> Path:
    (folder / "tiny").mkdir(exist_ok=True)
    (folder / "tiny" / "a.txt").write_text("a\n")
    (folder / "tiny" / "Dockerfile").write_text("FROM scratch\nCOPY a.txt /a.txt\n")
    return folder / "tiny"


def test_pull_and_push_elsewhere_go_without_the_login(
    a_private_workspace_registry: LocalRegistry, a_recording_registry: RecordingRegistry,
    tmp_path: Path, test_labels: dict[str, str], a_service_name: str,
) -> None:
    ref = f"{a_recording_registry.address}/creds/{a_service_name}:1"
    login = RegistryCredentials(a_private_workspace_registry.address, USER, PASSWORD)
    # When the CLI pulls from the other registry with the variables set
    assert main(["pull", ref]) == 1
    # And the engine layer is handed the private login for a pull and a push there
    with pytest.raises(DeployError):
        images.pull(ref, auth_config=login.auth_config())
    images.build(str(_tiny(tmp_path)), ref, labels=test_labels)
    with pytest.raises(DeployError):
        images.push(ref, auth_config=login.auth_config())
    # Then the other registry was asked, and never saw the password
    _never_sent(a_recording_registry)


def test_the_pull_magic_goes_without_the_login_elsewhere(
    a_private_workspace_registry: LocalRegistry, a_recording_registry: RecordingRegistry,
    a_service_name: str,
) -> None:
    shell = InteractiveShell.instance()
    jupyter_deploy.load_ipython_extension(shell)
    result = shell.run_cell(f"%deploy_pull {a_recording_registry.address}/x/{a_service_name}:1",
                            store_history=False)
    assert result.error_in_exec is not None
    _never_sent(a_recording_registry)


def test_registry_listing_elsewhere_goes_without_the_login(
    a_private_workspace_registry: LocalRegistry, a_recording_registry: RecordingRegistry,
) -> None:
    # When another registry is listed with the variables set
    assert main(["registry", "ls", a_recording_registry.address]) == 1
    # Then it was asked without the private login
    _never_sent(a_recording_registry)


def test_a_base_image_elsewhere_is_pulled_without_the_environments_login(
    a_private_workspace_registry: LocalRegistry, a_recording_registry: RecordingRegistry,
    a_service_name: str,
) -> None:
    # Given an environment whose login is for the private registry, but whose base is elsewhere
    env = Environment(
        base_image=f"{a_recording_registry.address}/base/{a_service_name}:1",
        registry=RegistryCredentials(a_private_workspace_registry.address, USER, PASSWORD))
    # When its base image is resolved, the pull fails there, without the login
    with pytest.raises(DeployError):
        ensure_base_image(env)
    _never_sent(a_recording_registry)


def test_the_sidebars_pull_elsewhere_goes_without_the_login(
    a_private_workspace_registry: LocalRegistry, a_recording_registry: RecordingRegistry,
    a_service_name: str,
) -> None:
    # Given a sidebar configured with the private login and the other registry
    manager = DeployManager([
        RegistryCredentials(a_private_workspace_registry.address, USER, PASSWORD),
        RegistryCredentials(a_recording_registry.address)])
    # When it pulls from the other registry
    with pytest.raises(DeployError):
        manager.pull(f"{a_recording_registry.address}/x/{a_service_name}:1")
    # Then the login stayed home
    _never_sent(a_recording_registry)
