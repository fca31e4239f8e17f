"""The one door to the Docker engine: a connected client, and docker-py errors turned into ours.

Connection follows docker-py's ``from_env()`` (``DOCKER_HOST``, ``DOCKER_TLS_VERIFY``, …), so Docker
Desktop, a remote engine or the locally provisioned ``dockerd`` all work the same. Every other
module calls :func:`docker_client` and wraps engine calls in :func:`translate_docker_errors`, so
no ``docker.errors.*`` ever reaches a user.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from urllib.parse import urlsplit

import docker
import docker.errors
import requests.exceptions

from jupyter_deploy.errors import (
    ConfigurationError,
    ConflictError,
    DeployError,
    DockerUnavailableError,
    ImageNotFoundError,
    NotFoundError,
    ServiceNotFoundError,
)

#: What to tell a user whose engine does not answer.
HOW_TO_START = (
    "Start one with `jupyter-deploy setup` (installs and starts dockerd when run as root on "
    "Debian/Ubuntu), or start Docker Desktop, or point DOCKER_HOST at a running engine."
)

_client: docker.DockerClient | None = None


def docker_client(timeout: int = 120) -> docker.DockerClient:
    """The one docker-py client, made (and pinged) once per process.

    Later calls reuse it without another round trip; when the engine goes away, the next engine
    call fails inside :func:`translate_docker_errors`, which forgets the client so the call after
    that connects afresh (an engine restart needs nothing else).

    Raises:
        DockerUnavailableError: no engine answers at the configured address.
    """
    global _client
    if _client is not None:
        return _client
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except Exception as e:
        raise DockerUnavailableError(
            f"No Docker engine is reachable at {engine_address()} ({_cause(e)}). {HOW_TO_START}"
        ) from e
    _client = client
    return client


def reset_client() -> None:
    """Forget the cached client (after the engine restarted, or in tests)."""
    global _client
    _client = None


def engine_reachable() -> bool:
    """Whether an engine answers now (one ping), without raising."""
    try:
        with translate_docker_errors("asking the engine"):
            docker_client().ping()
    except DeployError:
        reset_client()
        return False
    return True


@contextlib.contextmanager
def translate_docker_errors(what: str) -> Iterator[None]:
    """Run engine calls, turning docker-py and connection errors into :class:`DeployError`.

    ``what`` names the action for the message ("starting container 'x'").
    """
    try:
        yield
    except DeployError:
        raise
    except docker.errors.ImageNotFound as e:
        raise ImageNotFoundError(f"{what}: image not found ({_explain(e)})") from e
    except docker.errors.NotFound as e:
        found = ServiceNotFoundError if "container" in _explain(e).lower() else NotFoundError
        raise found(f"{what}: not found ({_explain(e)})") from e
    except docker.errors.APIError as e:
        if e.status_code == 409:
            raise ConflictError(f"{what}: the engine refused: {_explain(e)}") from e
        if e.status_code in (400, 422):
            raise ConfigurationError(f"{what}: {_explain(e)}") from e
        raise DeployError(f"{what}: the engine answered {_explain(e)}") from e
    except requests.exceptions.Timeout as e:
        raise DockerUnavailableError(
            f"{what}: the Docker engine did not answer in time ({_short(e)}): it may be busy "
            "(a large build or pull); try again, or check `docker info`."
        ) from e
    except (requests.exceptions.RequestException, docker.errors.DockerException) as e:
        reset_client()
        raise DockerUnavailableError(
            f"{what}: lost the Docker engine ({_short(e)}). {HOW_TO_START}"
        ) from e


def engine_host() -> str | None:
    """The machine the engine runs on when it is another one (``DOCKER_HOST=tcp://h:2376`` or
    ``ssh://user@h``), else None: a socket, a named pipe or a loopback address is this machine."""
    url = urlsplit(engine_address())
    if url.scheme not in ("tcp", "ssh", "http", "https") or not url.hostname:
        return None
    local = url.hostname in ("localhost", "::1") or url.hostname.startswith("127.")
    return None if local else url.hostname


def engine_address() -> str:
    """Where docker-py looks for the engine (``DOCKER_HOST`` or the default socket)."""
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def _cause(e: BaseException) -> str:
    """The root cause in a few words, not docker-py's nested exception text."""
    text = str(e)
    for needle, words in (("FileNotFoundError", "no socket there"),
                          ("ConnectionRefused", "connection refused"),
                          ("PermissionError", "permission denied: add your user to the "
                                              "'docker' group or use sudo"),
                          ("timed out", "timed out")):
        if needle in text:
            return words
    return _short(e)


def _explain(e: docker.errors.APIError) -> str:
    return str(e.explanation or e)


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:200] if text else type(e).__name__
