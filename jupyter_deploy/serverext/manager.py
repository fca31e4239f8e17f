"""Server-side state of the sidebar: one catalog of registries, and the answers the REST API gives.

Every method is a plain blocking call over the core (inventory, catalog, images, deployments);
the handlers run them off the event loop. The manager adds only what a browser needs on top:
paging and filtering of long lists, and a ready-to-paste notebook snippet for each service.
Credentials stay here: they go to the engine with a pull and never into an answer. The one
exception is :meth:`DeployManager.keys`, asked for on purpose (the sidebar's "copy key"): a
service's own keys, to the user Jupyter's token already lets run code on this machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jupyter_deploy._version import __version__
from jupyter_deploy.config import get_config
from jupyter_deploy.engine.images import pull as pull_image
from jupyter_deploy.errors import (
    ConfigurationError,
    DeployError,
    ForeignContainerError,
    RegistryNotFoundError,
)
from jupyter_deploy.serverext.prebuilt_images import BaseImages
from jupyter_deploy.serverext.pulls import PullJobs
from jupyter_deploy.services import inventory
from jupyter_deploy.services.deployment import Deployment, DeploymentCollection
from jupyter_deploy.spec.environment import RegistryCredentials
from jupyter_deploy.spec.reference import ImageReference


class DeployManager:
    """What the ``/jupyter-deploy/…`` endpoints answer.

    Args:
        registries: registries to show besides the workspace's own (with their credentials).
        ttl: seconds the registry catalog keeps an answer before asking again.
    """

    def __init__(
        self, registries: Sequence[RegistryCredentials] | None = None, ttl: float = 5.0
    ) -> None:
        self._credentials = list(registries or [])
        self._ttl = ttl
        self._pulls = PullJobs()
        self._catalog: Any = None
        #: The prebuilt base images' answers (``GET base-images``, ``POST …/build``).
        self.base_images = BaseImages()

    @property
    def catalog(self) -> Any:
        """The registry catalog (made on first use)."""
        if self._catalog is None:
            from jupyter_deploy.registry.catalog import Catalog

            self._catalog = Catalog(self._credentials or None, ttl=self._ttl)
        return self._catalog

    def settings(self) -> dict[str, Any]:
        """Extension version, engine version and reachability, each registry's reachability."""
        return {"version": __version__, "engine": inventory.engine_info(),
                "registries": self.catalog.registries()}

    def registries(self) -> list[dict[str, Any]]:
        """Each registry with whether it answers."""
        return list(self.catalog.registries())

    def repositories(
        self, address: str, query: str = "", offset: int = 0, limit: int = 0
    ) -> dict[str, Any]:
        """A registry's repository names, filtered by ``query`` and paged (``limit`` 0 = all).

        Raises:
            RegistryNotFoundError: ``address`` is not one of the registries shown.
            RegistryError: the registry cannot be read.
        """
        names = sorted(self.catalog.repositories(self._known(address)))
        if query:
            names = [n for n in names if query.lower() in n.lower()]
        page = names[offset:offset + limit] if limit > 0 else names[offset:]
        return {"address": address, "total": len(names), "offset": offset, "repositories": page}

    def tags(self, address: str, repository: str) -> dict[str, Any]:
        """A repository's tags with digest, size, creation time and platforms.

        Raises:
            RegistryNotFoundError: an unknown registry or repository.
            RegistryError: the registry cannot be read.
        """
        return {"address": address, "repository": repository,
                "tags": self.catalog.tags(self._known(address), repository)}

    def images(self) -> list[dict[str, Any]]:
        """Images in the local engine."""
        return list(self.catalog.local_images())

    def containers(self) -> list[dict[str, Any]]:
        """Every container, ours marked, with a scoring snippet for each service."""
        found = inventory.list_containers()
        for item in found:
            item["snippet"] = scoring_snippet(item["service"]) if item["service"] else None
        return found

    def container(self, ref: str) -> dict[str, Any]:
        """One container's details."""
        item = inventory.get_container(ref)
        item["snippet"] = scoring_snippet(item["service"]) if item["service"] else None
        return item

    def logs(self, ref: str, lines: int = 200) -> dict[str, Any]:
        """The last ``lines`` lines of a container's log, as ``{"id", "logs"}``.

        Raises:
            ConfigurationError, ServiceNotFoundError, DockerUnavailableError.
        """
        return {"id": ref, "logs": inventory.logs(ref, lines)}

    def stats(self, ref: str) -> dict[str, Any]:
        """Memory and CPU of one running container.

        Raises:
            ConfigurationError, ServiceNotFoundError, DockerUnavailableError.
        """
        return inventory.container_stats(ref)

    def act(self, ref: str, action: str, not_ours: bool = False) -> dict[str, Any]:
        """Run ``stop``, ``restart`` or ``remove`` on a container.

        A container this project did not make is acted on only when ``not_ours`` says the user
        confirmed it: it may be another tool's or another person's.

        Raises:
            ConfigurationError: an unknown action or a malformed reference.
            ForeignContainerError: the container is not ours and ``not_ours`` is false.
            ServiceNotFoundError: no such container.
        """
        if action not in ("stop", "restart", "remove"):
            raise ConfigurationError(f"unknown action {action!r}: use stop, restart or remove.")
        summary = inventory.get_container(ref)
        if not summary["ours"] and not not_ours:
            raise ForeignContainerError(
                f"container {summary['name']!r} was not made by jupyter_deploy, so it was not "
                f"touched: to {action} it anyway, confirm that it is not ours "
                '(send {"not_ours": true}).'
            )
        if action == "stop":
            return self.container(inventory.stop(ref)["id"])
        if action == "restart":
            return self.container(inventory.restart(ref)["id"])
        inventory.remove(ref)
        return {"id": ref, "removed": True}

    def services(self) -> list[dict[str, Any]]:
        """Every service on every target of this engine (local, and Swarm when it is on): name,
        target, state, replicas ``healthy/desired``, whether it asks for a key, and a snippet."""
        return [_service_summary(s) for s in DeploymentCollection().list()]

    def scale(self, name: str, replicas: Any) -> dict[str, Any]:
        """Run ``replicas`` copies of service ``name``; answer its new summary.

        Raises:
            ConfigurationError: ``replicas`` is not a whole number, or the target cannot run that
            many (the local engine runs one).
            ServiceNotFoundError: no such service.
        """
        if isinstance(replicas, bool) or not isinstance(replicas, int):
            raise ConfigurationError(
                f'send {{"replicas": N}} with N a whole number of 1 or more, not {replicas!r}.')
        service = _service(name)
        service.scale(replicas)
        return _service_summary(service)

    def keys(self, name: str) -> dict[str, Any]:
        """The primary and secondary keys of service ``name`` (auth on).

        Raises:
            ConfigurationError: the service has no keys (deployed without auth, or on the local
            target).
            ServiceNotFoundError: no such service.
        """
        primary, secondary = _service(name).get_keys()
        return {"name": name, "primary_key": primary, "secondary_key": secondary}

    def start_pull(self, reference: str) -> dict[str, Any]:
        """Start pulling ``reference`` in the background; poll :meth:`pull_job` for progress.

        Raises:
            ImageReferenceError: a malformed reference.
        """
        ImageReference.parse(reference)
        job = self._pulls.start(reference, self._auth_for(reference), self.catalog.invalidate)
        return job.snapshot()

    def pull_job(self, job_id: str) -> dict[str, Any]:
        """A pull's progress and outcome.

        Raises:
            ServiceNotFoundError: no such pull.
        """
        return self._pulls.get(job_id).snapshot()

    def cancel_pull(self, job_id: str) -> dict[str, Any]:
        """Cancel a pull; its snapshot says ``cancelled`` once the engine let go.

        Raises:
            ServiceNotFoundError: no such pull.
        """
        job = self._pulls.get(job_id)
        job.cancel()
        job.wait(10)
        return job.snapshot()

    def pull(self, reference: str) -> dict[str, Any]:
        """Pull an image into the engine, with the credentials of its registry if we have them.

        Raises:
            ImageReferenceError: a malformed reference.
            PullError, RegistryAuthError, ImageNotFoundError, DockerUnavailableError.
        """
        ImageReference.parse(reference)
        status = pull_image(reference, auth_config=self._auth_for(reference))
        self.catalog.invalidate()
        return {"reference": reference, "status": status}

    @property
    def addresses(self) -> list[str]:
        """The registries shown: those configured, or the workspace registry."""
        given = [c.address for c in self._credentials if c.address]
        return given or [get_config().registry_address]

    def _known(self, address: str) -> str:
        """``address`` if it is one of ours: the server never browses arbitrary hosts."""
        if address not in self.addresses:
            raise RegistryNotFoundError(
                f"{address!r} is not a registry this server shows: add it to "
                "c.DeployConfig.sidebar_registries in the Jupyter server config."
            )
        return address

    def _auth_for(self, reference: str) -> dict[str, str] | None:
        for cred in self._credentials:
            if cred.address and reference.startswith(f"{cred.address}/"):
                return cred.auth_config()
        return None


def _service(name: str) -> Deployment:
    """The service ``name`` on any target (a malformed name is a 400, not a lookup)."""
    return DeploymentCollection().get(inventory.check_container_ref(name))


def _service_summary(service: Deployment) -> dict[str, Any]:
    """What the sidebar shows of a service; never keys. One that vanished meanwhile is
    ``Deleted``."""
    try:
        summary = service.summary()
    except DeployError:
        summary = {"name": service.name, "state": "Deleted", "image": "", "port": None,
                   "scoring_uri": None, "target": service.target.kind, "replicas": "0/0",
                   "auth": False}
    return {**summary, "snippet": scoring_snippet(service.name)}


def scoring_snippet(service: str) -> str:
    """Python a notebook can run to score the service (its name, never any credential)."""
    return (
        "import jupyter_deploy as jd\n\n"
        f"service = jd.services.get({service!r})\n"
        "result = service.score([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]])\n"
        "result.value\n"
    )
