"""The build step every deploy and package shares: resolve the base, write the context, build.

``deploy()``, ``Deployment.update()``, ``Model.package`` and ``%deploy --output`` all reach a
build context through :func:`write_context` and an image through :func:`build_package`, so the
engine's answer to "does the base image have conda" is asked in one place and handed to the build
layer (which never talks to the engine).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from jupyter_deploy.build.context import BuildContext, write_build_context
from jupyter_deploy.config import get_config
from jupyter_deploy.engine import images
from jupyter_deploy.engine.base_images import (
    engine_architecture,
    has_conda,
    python_version,
    resolve_base,
)
from jupyter_deploy.engine.default_base import ensure_default_base_image
from jupyter_deploy.spec.conda import conda_only
from jupyter_deploy.spec.environment import Environment
from jupyter_deploy.spec.package import PackageSpec

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    """A log that drops lines (the default when the caller wants no output)."""


def write_context(spec: PackageSpec, dest: Path, log: Log | None = None) -> BuildContext:
    """Write ``spec``'s build context into ``dest`` for the engine and base image at hand.

    Wheels are picked for the engine's architecture and the base image's Python (unless the
    environment names one); conda is looked for only when conda-only packages are asked for.

    Raises:
        EntryScriptError, DependencyError, ConfigurationError: bad inputs, before any build.
    """
    env = spec.environment
    if not env.user_managed and env.python_version is None and images.exists(env.base_image):
        found = python_version(env.base_image)
        if found:
            spec = replace(spec, environment=env.with_changes(python_version=found))
    conda = bool(conda_only(env.conda)) and not env.user_managed and has_conda(env)
    return write_build_context(spec, dest, log, base_has_conda=conda,
                               architecture=engine_architecture())


def build_package(
    spec: PackageSpec, log: Log = _quiet, labels: Mapping[str, str] | None = None,
    nocache: bool = False,
) -> images.BuiltImage:
    """Write ``spec``'s build context and build it into ``jupyter-deploy/<name>:<content hash>``.

    ``nocache`` rebuilds every layer (to measure, or to pick up a changed base image).

    Raises:
        EntryScriptError, DependencyError, BuildError, DockerUnavailableError.
    """
    spec = replace(spec, environment=resolve_base(spec.environment, log, labels))
    ensure_base_image(spec.environment, log)
    with tempfile.TemporaryDirectory(prefix="jd-context-") as tmp:
        context = write_context(spec, Path(tmp) / "context", log)
        tag = f"jupyter-deploy/{spec.name}:{context.digest}"
        log(f"Building {tag} …")
        built = images.build(str(context.path), tag, log=log, labels=labels, nocache=nocache)
    log(f"Built {tag} in {built.seconds:.1f} s ({built.cached_steps} steps from cache).")
    return built


def ensure_base_image(env: Environment, log: Log = _quiet) -> None:
    """Make the environment's base image present locally, pulling with its credentials if needed."""
    if env.base_image == get_config().default_base_image:
        ensure_default_base_image(log)
    elif not images.exists(env.base_image):
        log(f"Pulling base image {env.base_image} …")
        auth = env.registry.auth_config() if env.registry else None
        log(images.pull(env.base_image, auth_config=auth))


