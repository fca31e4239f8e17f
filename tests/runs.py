"""What makes an engine resource this test run's own: the run id, the label, and removal by them.

Every name a test gives carries :data:`RUN_ID`; every container and image a test makes through
the library carries the label ``TEST_LABEL=RUN_ID``. Removal goes by exactly these, so two runs on
one engine never remove each other's things, and a user's own containers are never touched.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable

TEST_LABEL = "jupyter_deploy.test"
RUN_ID = uuid.uuid4().hex[:10]


def remove_this_runs_containers() -> None:
    """Containers labelled with this run's id, or whose names hold it."""
    from jupyter_deploy.engine.client import docker_client

    client = docker_client()
    labelled = client.containers.list(all=True, filters={"label": f"{TEST_LABEL}={RUN_ID}"})
    # The name filter matches substrings: keep only names that really hold this run's id.
    named = [c for c in client.containers.list(all=True, filters={"name": RUN_ID})
             if RUN_ID in c.name]
    for container in {c.id: c for c in [*labelled, *named]}.values():
        with contextlib.suppress(Exception):
            container.remove(force=True)


def remove_this_runs_images() -> None:
    """Images labelled with this run's id, and tags whose names hold it."""
    from jupyter_deploy.engine.client import docker_client

    client = docker_client()
    for image in client.images.list(filters={"label": f"{TEST_LABEL}={RUN_ID}"}):
        # An image shared with a concurrent run may still be in use: leave it then.
        with contextlib.suppress(Exception):
            client.images.remove(image.id, force=True)
    remove_tags(lambda tag: RUN_ID in tag)


def environment_images() -> set[str]:
    """The tags of the environments' own images on the engine now (shared by every service
    with the same dependencies, so they carry no run's label)."""
    from jupyter_deploy.engine.client import docker_client
    from jupyter_deploy.services.building import ENVIRONMENT_REPOSITORY

    return {tag for image in docker_client().images.list(ENVIRONMENT_REPOSITORY)
            for tag in image.tags}


def remove_unused_environments(tags: set[str]) -> None:
    """Of the environment images ``tags`` (those this run made), the ones no image is built on
    any more (one still in use, by a user's service or a concurrent run's, stays)."""
    from jupyter_deploy.services.building import prune_environment

    for tag in tags:
        with contextlib.suppress(Exception):
            prune_environment(tag)


def remove_tags(mine: Callable[[str], bool]) -> None:
    """Untag every local image tag ``mine`` accepts (an image goes when its last tag does)."""
    from jupyter_deploy.engine.client import docker_client

    client = docker_client()
    for image in client.images.list():
        for tag in image.tags:
            if mine(tag):
                with contextlib.suppress(Exception):
                    client.images.remove(tag)


def remove_this_runs_swarm_services() -> None:
    """Swarm services, secrets and networks labelled with this run's id (none when the engine
    is not a swarm manager)."""
    from jupyter_deploy.engine.client import docker_client

    client = docker_client()
    if not (client.info().get("Swarm") or {}).get("ControlAvailable"):
        return
    mine = {"label": f"{TEST_LABEL}={RUN_ID}"}
    for service in client.services.list(filters=mine):
        with contextlib.suppress(Exception):
            service.remove()
    for secret in client.secrets.list(filters=mine):
        with contextlib.suppress(Exception):
            secret.remove()
    for network in client.networks.list(filters=mine):
        with contextlib.suppress(Exception):
            network.remove()
