"""``%deploy_pull``'s two concerns: whose credentials to use, and showing the pull's progress.

Credentials are looked up in the order a notebook user expects — what the magic line gave, then
``JUPYTER_DEPLOY_REGISTRY_USERNAME``/``…_PASSWORD``, then an environment defined in this session
for the same registry, then Docker's own config — and are handed to the engine only: never
printed, never part of a message. Progress uses the registries layer's aggregator, drawn as an
ipywidgets bar in a Jupyter kernel (``jupyter_deploy.widgets.progress``) and as text otherwise.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from jupyter_deploy.engine import images
from jupyter_deploy.engine.progress import ProgressAggregator, text_progress
from jupyter_deploy.registry.auth import login_from_environment, resolve_credentials
from jupyter_deploy.spec.environment import Environment, RegistryCredentials
from jupyter_deploy.spec.reference import registry_of


def credentials_for(
    image: str, given: RegistryCredentials | None = None,
    environments: Iterable[Environment] = (),
) -> RegistryCredentials:
    """The credentials to pull ``image`` with (anonymous when none are found).

    Raises:
        ImageReferenceError: a malformed reference. RegistryAuthError: a credential helper failed.
    """
    address = registry_of(image)
    if given is not None and given.has_login:
        return RegistryCredentials(address, given.username, given.password)
    from_variables = login_from_environment(address)
    if from_variables is not None:
        return from_variables
    for env in environments:
        found = resolve_credentials(address, environment=env) if env.registry else None
        if found is not None and found.has_login:
            return found
    return resolve_credentials(address)


def progress_display(title: str, shell: Any = None) -> ProgressAggregator:
    """An aggregator drawn as a widget bar in a Jupyter kernel, as text elsewhere."""
    if shell is not None and getattr(shell, "kernel", None) is not None:
        from IPython.display import display

        from jupyter_deploy.widgets.progress import ProgressBar

        bar = ProgressBar(title)
        display(bar)
        return bar.aggregator()
    return text_progress(sys.stdout)


def pull_with_progress(
    image: str, credentials: RegistryCredentials,
    on_event: Callable[[Mapping[str, Any]], None] | None = None, shell: Any = None,
) -> str:
    """Pull ``image`` with ``credentials``, drawing progress; return ``docker pull``'s status line.

    Raises:
        RegistryAuthError: wrong or missing credentials (no password in the message).
        ImageNotFoundError, PullError, RegistryUnreachableError, ImageReferenceError.
    """
    progress = on_event or progress_display(f"Pulling {image}", shell)
    status = images.pull(image, auth_config=credentials.auth_config(), on_event=progress)
    if isinstance(progress, ProgressAggregator):
        progress.finish()
    return status
