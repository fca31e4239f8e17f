"""The deploy-target seam: the one small interface a :class:`Deployment` reaches its machine by.

A deployment does not know whether its service is a container on this engine, a Swarm service or a
Kubernetes Deployment: it holds a target and the target's *instance* (an opaque handle — a
docker-py ``Container`` for the local engine) and calls only the methods below. A new target
(a cluster) implements this protocol and every front end works with it unchanged, because the
front ends only ever talk to :class:`~jupyter_deploy.services.deployment.Deployment`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from jupyter_deploy.engine.containers import RunOptions

Log = Callable[[str], None]


@runtime_checkable
class DeployTarget(Protocol):
    """Where services run. Every method raises our :class:`~jupyter_deploy.errors.DeployError`s."""

    #: Short name shown to users and kept in records: ``local``, ``swarm``, ``kubernetes``.
    kind: str
    #: ``replace`` itself proves the new version before the old one stops serving (a rolling
    #: update with rollback), so a redeploy needs no trial instance beside the running one.
    safe_replace: bool

    def configured(self, config: Any) -> DeployTarget:
        """This target with a deployment configuration (a
        :class:`~jupyter_deploy.spec.cluster.ClusterConfig`, or the local one) for what it
        creates next.

        Raises:
            ConfigurationError: a setting this target cannot honour, named.
        """
        ...

    # -- finding ---------------------------------------------------------------------------
    def find(self, name: str) -> Any | None:
        """The instance named ``name`` (ours or not), or None."""
        ...

    def list(self, label: str) -> Sequence[Any]:
        """Every instance carrying ``label``, running or not."""
        ...

    def labels(self, instance: Any) -> Mapping[str, str]:
        """The instance's labels (where its :class:`ServiceRecord` lives)."""
        ...

    # -- lifecycle -------------------------------------------------------------------------
    def check(self) -> None:
        """Raise at once, before anything is built, when services made here would be
        unreachable from this machine (never let that surface as a readiness timeout)."""
        ...

    def create(self, image: str, options: RunOptions, log: Log) -> Any:
        """Start ``image`` as a new instance named ``options.name``; do not wait for it."""
        ...

    def replace(self, instance: Any, image: str, options: RunOptions, log: Log,
                ready: Callable[[Any], None]) -> Any:
        """Swap ``instance`` for one running ``image`` on the same endpoint, with rollback.

        ``ready(new)`` raises when the new instance does not come up; the target then puts the
        previous version back in service before re-raising.
        """
        ...

    def remove(self, instance: Any, image: bool = False) -> None:
        """Remove the instance (and its image when ``image``)."""
        ...

    def stop(self, instance: Any) -> None:
        """Stop gracefully; :meth:`start` brings it back on the same endpoint."""
        ...

    def start(self, instance: Any) -> None:
        """Start a stopped instance again."""
        ...

    def kill(self, instance: Any) -> None:
        """Stop at once."""
        ...

    def restart(self, instance: Any) -> None:
        """Restart the server process (``init()`` runs again)."""
        ...

    def keep_alive(self, instance: Any) -> None:
        """The service answered: the platform brings it back after its own restart, until the
        user stops it."""
        ...

    def scale(self, instance: Any, replicas: int) -> None:
        """Run ``replicas`` copies behind the one endpoint."""
        ...

    def copy_files(self, instance: Any, folder: str, files: Mapping[str, Path]) -> None:
        """Put host ``files`` (archive name → path) into ``folder`` of the running service."""
        ...

    # -- reading ---------------------------------------------------------------------------
    def status(self, instance: Any) -> str:
        """The platform's own word for the instance (running, exited, …)."""
        ...

    def state(self, instance: Any, health_path: str) -> str:
        """One of :data:`~jupyter_deploy.services.deployment.STATES`, probing ``health_path``."""
        ...

    def replica_counts(self, instance: Any) -> tuple[int, int]:
        """``(healthy, desired)`` replicas."""
        ...

    def get_keys(self, instance: Any) -> tuple[str, str]:
        """The primary and secondary keys of a service deployed with auth on.

        Raises:
            ConfigurationError: the service has no keys.
        """
        ...

    def regen_key(self, instance: Any, key: str, set_key: str | None = None) -> None:
        """Give ``key`` ("Primary" or "Secondary") a new value (``set_key``, or a random one);
        callers using the other key see no failed request meanwhile."""
        ...

    def endpoint(self, instance: Any) -> str:
        """The base URL the service answers on (``http://127.0.0.1:<port>``)."""
        ...

    def logs(self, instance: Any, lines: int | None = None) -> str:
        """The last ``lines`` lines of the service's log."""
        ...

    def log_position(self, instance: Any) -> str:
        """An opaque marker of where the log ends now (to show only newer lines while waiting)."""
        ...

    def wait_until_ready(self, instance: Any, health_path: str, timeout: float | None,
                         log: Log | None, after: str) -> None:
        """Block until ``health_path`` answers, streaming log lines after the ``after`` marker;
        raise with the log as soon as it cannot."""
        ...
