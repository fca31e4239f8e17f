"""The answers behind ``/jupyter-deploy/base-images`` (the routes are in :mod:`.base_images`).

``list`` is the catalogue as ``jupyter-deploy base-images ls --json`` gives it (name, what is
inside, the seeds' names it stands for, size, built or not), plus the seeds' images that cannot
be had and what to use instead; ``build`` makes one (and what it builds on). Builds run one at a
time, so two clicks build once.
"""

from __future__ import annotations

import threading
from typing import Any

from jupyter_deploy.engine import prebuilt
from jupyter_deploy.errors import NotFoundError
from jupyter_deploy.spec.base_catalog import CATALOG, UNAVAILABLE


class BaseImages:
    """The answers of the two endpoints, over :mod:`jupyter_deploy.engine.prebuilt`."""

    def __init__(self) -> None:
        self._building = threading.Lock()

    def list(self) -> dict[str, Any]:
        """Every catalogue entry as this engine has it, and the images that cannot be had.

        Raises:
            DockerUnavailableError: no engine.
        """
        return {"images": [image.to_dict() for image in prebuilt.list_images()],
                "unavailable": [{"name": u.seed_name, "reason": u.reason, "instead": u.instead}
                                for u in UNAVAILABLE]}

    def build(self, name: str) -> dict[str, Any]:
        """Build the entry ``name`` unless the engine has it; answer its row.

        Raises:
            NotFoundError: no such entry.
            DependencyError, BuildError, DockerUnavailableError: the build failed.
        """
        base = next((b for b in CATALOG if b.name == name), None)
        if base is None:
            known = ", ".join(b.name for b in CATALOG)
            raise NotFoundError(f"no prebuilt base image called {name!r}: pick one of {known}.")
        with self._building:
            prebuilt.ensure(base)
        return prebuilt.status(base).to_dict()
