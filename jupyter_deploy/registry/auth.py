"""Who we are to a registry: finding credentials, and answering its ``WWW-Authenticate`` challenges.

Registries ask for credentials in one of two ways (Distribution's token spec): ``Basic`` (send the
username and password on every request) or ``Bearer`` (trade them at a token server, the challenge's
``realm``, for a short-lived token scoped to one repository and action). This module does both for
:mod:`jupyter_deploy.registry.client`, and finds the credentials to use: given in the call, an
environment's ``base_image_registry``, or the user's Docker config and credential helpers (through
docker-py, so ``docker login`` works here too). Credentials stay in memory; nothing here logs,
stores or prints a password.
"""

from __future__ import annotations

import base64
import os
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import docker.auth
import docker.errors
import requests

from jupyter_deploy.config import get_config
from jupyter_deploy.errors import RegistryAuthError, RegistryUnreachableError
from jupyter_deploy.spec.environment import Environment, RegistryCredentials
from jupyter_deploy.spec.reference import same_registry

#: The one definition of the environment variables a registry login may come from (the CLI, the
#: magics and the workspace all read these, and only through :func:`login_from_environment`).
USERNAME_VARIABLE = "JUPYTER_DEPLOY_REGISTRY_USERNAME"
PASSWORD_VARIABLE = "JUPYTER_DEPLOY_REGISTRY_PASSWORD"

_PARAM = re.compile(r'([A-Za-z_]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))')
#: Tokens are renewed this many seconds before they expire.
_EXPIRY_MARGIN = 5.0


@dataclass(frozen=True)
class Challenge:
    """One parsed ``WWW-Authenticate`` header: the scheme (lower case) and its parameters."""

    scheme: str
    params: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, header: str) -> Challenge:
        """``Bearer realm="…",service="…",scope="…"`` → ``Challenge("bearer", {...})``."""
        scheme, _, rest = header.strip().partition(" ")
        params = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
                  for m in _PARAM.finditer(rest)}
        return cls(scheme.lower(), params)


def resolve_credentials(
    address: str, given: RegistryCredentials | None = None,
    environment: Environment | None = None, docker_config: str | None = None,
) -> RegistryCredentials:
    """The credentials to use for ``address``, anonymous when none are found.

    Looked up in order: ``given`` (with a username and password), the environment's
    ``registry`` when its address matches, then the Docker config (``~/.docker/config.json`` or
    ``docker_config``) with its credential helpers.

    Raises:
        RegistryAuthError: a credential helper failed.
    """
    if given is not None and given.has_login:
        return RegistryCredentials(given.address or address, given.username, given.password)
    registry = environment.registry if environment else None
    if registry is not None and registry.has_login and same_registry(registry.address, address):
        return registry
    found = from_docker_config(address, docker_config)
    return found or RegistryCredentials(address)


def from_docker_config(address: str, config_path: str | None = None) -> RegistryCredentials | None:
    """Credentials ``docker login`` stored for ``address`` (config file or credential helper).

    Raises:
        RegistryAuthError: the credential helper named in the config failed.
    """
    try:
        config = docker.auth.load_config(config_path=config_path)
        entry: dict[str, Any] | None = config.resolve_authconfig(address)
    except docker.errors.DockerException as e:
        raise RegistryAuthError(
            f"the Docker credential helper for {address} failed ({type(e).__name__}): "
            "run `docker login` again or pass a username and password."
        ) from e
    if not entry:
        return None
    username = entry.get("Username") or entry.get("username")
    password = entry.get("Password") or entry.get("password")
    if not (username and password):
        return None
    return RegistryCredentials(address, str(username), str(password))


class Authenticator:
    """Answers one registry's challenges; caches Bearer tokens per scope. Thread-safe.

    Args:
        credentials: who to log in as (anonymous when it has no login).
        timeout: seconds for a token request.
        session: the ``requests`` session for token requests (a new one by default).
    """

    def __init__(self, credentials: RegistryCredentials, timeout: float = 10.0,
                 session: requests.Session | None = None) -> None:
        self.credentials = credentials
        self.timeout = timeout
        self._session = session or requests.Session()
        self._basic = False
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Authenticator({self.credentials!r})"

    def headers(self, scope: str) -> dict[str, str]:
        """The ``Authorization`` header to send for ``scope`` before any challenge, if known."""
        if self._basic:
            return {"Authorization": self._basic_header()}
        with self._lock:
            token = self._tokens.get(scope)
        if token and token[1] > time.monotonic():
            return {"Authorization": f"Bearer {token[0]}"}
        return {}

    def answer(self, challenge_header: str, scope: str) -> dict[str, str]:
        """The header that answers a 401's challenge (fetching a token when it is Bearer).

        Raises:
            RegistryAuthError: no credentials for Basic, or the token server refused them.
            RegistryUnreachableError: the token server does not answer.
        """
        challenge = Challenge.parse(challenge_header)
        if challenge.scheme == "basic":
            if not self.credentials.has_login:
                raise RegistryAuthError(self._needs_login())
            self._basic = True
            return {"Authorization": self._basic_header()}
        if challenge.scheme != "bearer" or "realm" not in challenge.params:
            raise RegistryAuthError(f"unsupported authentication challenge {challenge.scheme!r}")
        with self._lock:  # one fetch per scope even when many threads were challenged at once
            cached = self._tokens.get(scope)
            if cached and cached[1] > time.monotonic() and not _rejects(challenge, cached[0]):
                return {"Authorization": f"Bearer {cached[0]}"}
            token, lifetime = self._fetch_token(challenge)
            self._tokens[scope] = (token, time.monotonic() + lifetime - _EXPIRY_MARGIN)
        return {"Authorization": f"Bearer {token}"}

    def _fetch_token(self, challenge: Challenge) -> tuple[str, float]:
        params = {k: v for k, v in challenge.params.items() if k in ("service", "scope")}
        auth = self._login()
        try:
            response = self._session.get(challenge.params["realm"], params=params, auth=auth,
                                         timeout=self.timeout)
        except requests.RequestException as e:
            raise RegistryUnreachableError(
                f"the token server {challenge.params['realm']} does not answer "
                f"({type(e).__name__}): check the registry's auth settings or the network."
            ) from e
        if response.status_code in (401, 403):
            raise RegistryAuthError(self._refused() if auth else self._needs_login())
        if not response.ok:
            raise RegistryAuthError(
                f"the token server {challenge.params['realm']} answered {response.status_code}."
            )
        return _token_of(response)

    def _login(self) -> tuple[str, str] | None:
        if not self.credentials.has_login:
            return None
        assert self.credentials.username is not None and self.credentials.password is not None
        return (self.credentials.username, self.credentials.password)

    def _basic_header(self) -> str:
        login = self._login()
        if login is None:
            raise RegistryAuthError(self._needs_login())
        return "Basic " + base64.b64encode(":".join(login).encode()).decode("ascii")

    def _needs_login(self) -> str:
        return (f"{self.credentials.address} needs a login: pass a username and password "
                "(--username/--password-stdin, RegistryCredentials) or run `docker login`.")

    def _refused(self) -> str:
        return (f"{self.credentials.address} refused the login of user "
                f"{self.credentials.username!r}: check the username and password.")

    def refused_message(self) -> str:
        """What to tell a user whose request was refused even after answering the challenge."""
        return self._refused() if self.credentials.has_login else self._needs_login()


def _rejects(challenge: Challenge, token: str) -> bool:
    """Whether the challenge says the token we hold was refused (rather than not sent)."""
    return "error" in challenge.params and bool(token)


def _token_of(response: requests.Response) -> tuple[str, float]:
    try:
        body = response.json()
        token = body.get("token") or body.get("access_token")
        lifetime = float(body.get("expires_in") or 60)
    except (ValueError, AttributeError, TypeError) as e:
        raise RegistryAuthError("the token server's answer is not a token document") from e
    if not token:
        raise RegistryAuthError("the token server answered without a token")
    return str(token), lifetime


def login_from_environment(address: str) -> RegistryCredentials | None:
    """The login in :data:`USERNAME_VARIABLE` / :data:`PASSWORD_VARIABLE`, for ``address`` only
    when it is the workspace registry (``DeployConfig.registry_address``).

    The variables name no registry, so they belong to one: the workspace's. Any other host gets
    what Docker's config holds for it, or nothing — never these.
    """
    username, password = os.environ.get(USERNAME_VARIABLE), os.environ.get(PASSWORD_VARIABLE)
    if not (username and password) or not same_registry(address, get_config().registry_address):
        return None
    return RegistryCredentials(address, username, password)
