"""The whole error hierarchy of jupyter_deploy, under one root.

Every layer raises these (never bare ``Exception`` or docker-py's own errors), so front ends
need one ``except DeployError`` to turn any failure into a short message. Each class carries an
``http_status`` that the REST layer uses as is, and the context a user needs to act (a build
log, a container's log tail, a server's answer). Messages say what to do next.
"""

from __future__ import annotations


class DeployError(Exception):
    """Root of every error jupyter_deploy raises on purpose."""

    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(DeployError):
    """A setting or argument is wrong before anything ran (bad port, bad name, ...)."""

    http_status = 400


class EnvironmentSpecError(ConfigurationError):
    """An environment definition (YAML, JSON, conda file, fields) is invalid.

    ``key`` names the offending field as a dotted path when one is known, ``line`` its line
    (1-based) in the file or text it came from.
    """

    def __init__(self, message: str, key: str | None = None, line: int | None = None) -> None:
        where = f"line {line}: " if line else ""
        super().__init__(f"{where}{key}: {message}" if key else f"{where}{message}")
        self.key = key
        self.line = line


class EntryScriptError(ConfigurationError):
    """The entry script (``score.py``) is missing or lacks ``init()``/``run()``."""


class DependencyError(DeployError):
    """A Python package could not be resolved or downloaded for the image's platform."""

    http_status = 422

    def __init__(self, message: str, requirements: tuple[str, ...] = (), log: str = "") -> None:
        super().__init__(message)
        self.requirements = requirements
        self.log = log


class DockerUnavailableError(DeployError):
    """No Docker engine answers; the message says how to start one."""

    http_status = 503


class ImageNotFoundError(DeployError):
    """An image reference names nothing locally or in its registry."""

    http_status = 404


class BaseImageError(DeployError):
    """The default base image could not be made offline (debootstrap or tar failed)."""

    http_status = 500


class BuildError(DeployError):
    """``docker build`` failed; ``build_log`` keeps the whole log."""

    http_status = 422

    def __init__(self, message: str, build_log: str = "") -> None:
        super().__init__(message)
        self.build_log = build_log


class RegistryError(DeployError):
    """A registry could not be reached or answered with an error."""

    http_status = 502


class RegistryAuthError(RegistryError):
    """A registry refused the credentials (or needs some). Never carries the password."""

    http_status = 401


class RegistryUnreachableError(RegistryError):
    """Nothing answers at a registry's address (refused, timed out, not HTTP)."""

    http_status = 503


class RegistryNotFoundError(RegistryError):
    """A registry answered 404 for a repository, tag, manifest or blob."""

    http_status = 404


class CatalogUnavailableError(RegistryError):
    """A registry has no ``/v2/_catalog``; known repositories can still be read by name."""

    http_status = 501


class ImageReferenceError(RegistryError):
    """An image reference (``[registry/]repository[:tag][@digest]``) is malformed."""

    http_status = 400


class PushError(RegistryError):
    """A push stream reported an error; ``push_log`` keeps the stream's text."""

    def __init__(self, message: str, push_log: str = "") -> None:
        super().__init__(message)
        self.push_log = push_log


class PullError(RegistryError):
    """A pull stream reported an error; ``pull_log`` keeps the stream's text."""

    def __init__(self, message: str, pull_log: str = "") -> None:
        super().__init__(message)
        self.pull_log = pull_log


class PullCancelledError(PullError):
    """A pull was cancelled by the user; the engine dropped it with our connection."""

    http_status = 409


class ContainerError(DeployError):
    """A container failed (exited, crashed in ``init()``); carries its log tail and exit code."""

    http_status = 500

    def __init__(self, message: str, logs: str = "", exit_status: int | None = None) -> None:
        super().__init__(message)
        self.logs = logs
        self.exit_status = exit_status


class PortInUseError(ContainerError):
    """The requested host port is taken; the message names who holds it."""

    http_status = 409


class ContainerNotReadyError(ContainerError):
    """A container did not become healthy in time (it is still running)."""

    http_status = 504


class ForeignContainerError(DeployError):
    """A destructive action on a container this project did not make, without explicit consent."""

    http_status = 409


class NotFoundError(DeployError):
    """The engine has nothing of that name or id (a network, a volume, …)."""

    http_status = 404


class ServiceNotFoundError(NotFoundError):
    """No service (container) of that name or id exists."""


class ConflictError(DeployError):
    """The engine refused because of its current state (a name in use, a container running)."""

    http_status = 409


class ScoringError(DeployError):
    """The scoring endpoint answered with an error or could not be reached."""

    http_status = 502

    def __init__(self, message: str, status_code: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body
