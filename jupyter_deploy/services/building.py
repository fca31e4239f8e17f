"""The build step every deploy and package shares: resolve the base, write the context, build.

``deploy()``, ``Deployment.update()``, ``Model.package`` and ``%deploy --output`` all reach a
build context through :func:`write_context` and an image through :func:`build_package`, so the
engine's answer to "does the base image have conda" is asked in one place and handed to the build
layer (which never talks to the engine).

Images are built with the engine's BuildKit when it has one, so the wheels reach the install
step through a bind mount; otherwise (or with ``JUPYTER_DEPLOY_BUILDER=classic``) with the
classic builder and the portable Dockerfile, the one saved folders always get. Either way the
build runs with no network, unless conda has to download its packages.

With BuildKit an environment is built once into an image of its own,
``jupyter-deploy/environments:<hash of base image and wheels>``, which every service with those
dependencies starts from; a service's build then sends only the server, models and code. It
goes when the last service image built on it is removed with its service.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Literal

from jupyter_deploy.build.context import (
    BuildContext,
    write_build_context,
    write_environment_context,
)
from jupyter_deploy.build.installer import FALLBACK_NOTICE, Installer
from jupyter_deploy.config import LABEL_PREFIX, get_config
from jupyter_deploy.engine import buildkit, images, prebuilt
from jupyter_deploy.engine.base_images import (
    engine_architecture,
    has_conda,
    python_version,
    resolve_base,
)
from jupyter_deploy.engine.default_base import ensure_default_base_image
from jupyter_deploy.errors import DeployError
from jupyter_deploy.spec.conda import conda_only
from jupyter_deploy.spec.environment import Environment
from jupyter_deploy.spec.package import PackageSpec

Log = Callable[[str], None]
_logger = logging.getLogger(__name__)
Builder = Literal["buildkit", "classic"]
#: Set to ``classic`` to build with the classic builder even where BuildKit is available.
BUILDER_VARIABLE = "JUPYTER_DEPLOY_BUILDER"
#: Where environments' own images go (BuildKit), tagged by what they hold.
ENVIRONMENT_REPOSITORY = "jupyter-deploy/environments"
#: On an environment's image, and so on every service image built on it: that image's tag.
LABEL_ENVIRONMENT = f"{LABEL_PREFIX}.environment"


def _quiet(_: str) -> None:
    """A log that drops lines (the default when the caller wants no output)."""


def write_context(spec: PackageSpec, dest: Path, log: Log | None = None,
                  installer: Installer = "uv", mounts: bool = False) -> BuildContext:
    """Write ``spec``'s build context into ``dest`` for the engine and base image at hand.

    Wheels are picked for the engine's architecture and the base image's Python (unless the
    environment names one); conda is looked for only when conda-only packages are asked for.
    Without ``mounts`` the Dockerfile is the portable one any ``docker build`` takes.

    The seeds' prebuilt image names become the offline catalogue's (built when missing), so a
    saved folder names an image this engine has.

    Raises:
        EntryScriptError, DependencyError, ConfigurationError: bad inputs, before any build.
    """
    spec, conda = _resolve_environment(spec, log or _quiet)
    return write_build_context(spec, dest, log, base_has_conda=conda,
                               architecture=engine_architecture(), installer=installer,
                               mounts=mounts)


def _resolve_environment(spec: PackageSpec, log: Log) -> tuple[PackageSpec, bool]:
    """``spec`` with the prebuilt catalogue's base and the base image's Python filled in, and
    whether conda is needed and present (the engine's answers, asked here only)."""
    env = prebuilt.resolve(spec.environment, log)
    spec = replace(spec, environment=env)
    if not env.user_managed and env.python_version is None and images.exists(env.base_image):
        found = python_version(env.base_image)
        if found:
            spec = replace(spec, environment=env.with_changes(python_version=found))
    return spec, bool(conda_only(env.conda)) and not env.user_managed and has_conda(env)


def build_package(
    spec: PackageSpec, log: Log = _quiet, labels: Mapping[str, str] | None = None,
    nocache: bool = False, installer: Installer = "uv", builder: Builder | None = None,
) -> images.BuiltImage:
    """Write ``spec``'s build context and build it into ``jupyter-deploy/<name>:<content hash>``.

    ``nocache`` rebuilds every layer (to measure, or to pick up a changed base image).
    ``installer`` and ``builder`` pick the install tool and the engine's builder (BuildKit when
    the engine has it, unless ``JUPYTER_DEPLOY_BUILDER=classic``); the defaults are the fast ones.

    Raises:
        EntryScriptError, DependencyError, BuildError, DockerUnavailableError.
    """
    spec = replace(spec, environment=resolve_base(spec.environment, log, labels))
    ensure_base_image(spec.environment, log)
    mounts = (builder or default_builder()) == "buildkit"
    # conda downloads its packages during the build; nothing else may reach the network
    network = None if conda_only(spec.environment.conda) else "none"
    with tempfile.TemporaryDirectory(prefix="jd-context-") as tmp:
        if mounts:
            spec, conda = _resolve_environment(spec, log)
            environment = build_environment(spec.environment, Path(tmp) / "environment", log,
                                            conda, installer, nocache, network)
            context = write_build_context(spec, Path(tmp) / "context", log, conda,
                                          engine_architecture(), installer, mounts, environment)
        else:
            context = write_context(spec, Path(tmp) / "context", log, installer, mounts)
        tag = f"jupyter-deploy/{spec.name}:{context.digest}"
        log(f"Building {tag} …")
        build = buildkit.build if mounts else images.build
        built = build(str(context.path), tag, log=log, labels=labels, nocache=nocache,
                      network_mode="none" if mounts else network)
    _warn_on_fallback(built.log, log)
    log(f"Built {tag} in {built.seconds:.1f} s ({built.cached_steps} steps from cache).")
    return built


def build_environment(
    env: Environment, dest: Path, log: Log = _quiet, base_has_conda: bool = False,
    installer: Installer = "uv", nocache: bool = False, network: str | None = "none",
) -> str | None:
    """The tag of ``env``'s own image (BuildKit), built from a context written in ``dest``
    unless the engine has it already; None for a user-managed environment (nothing to install).

    Raises:
        DependencyError, BuildError, DockerUnavailableError.
    """
    context = write_environment_context(env, dest, log, base_has_conda, engine_architecture(),
                                        installer)
    if context is None:
        return None
    # the base image's id too: a base rebuilt under the same name makes another environment
    digest = hashlib.sha256(f"{context.digest} {images.image_id(env.base_image)}".encode())
    tag = f"{ENVIRONMENT_REPOSITORY}:{digest.hexdigest()[:16]}"
    if not nocache and images.exists(tag):
        log(f"Environment {tag} is built already (its dependencies did not change).")
        return tag
    log(f"Building the environment {tag} …")
    built = buildkit.build(str(context.path), tag, log=log, labels={LABEL_ENVIRONMENT: tag},
                           nocache=nocache, network_mode=network)
    _warn_on_fallback(built.log, log)
    return tag


def prune_environment(tag: str) -> None:
    """Remove the environment image ``tag`` once no other image is built on it.

    Housekeeping after the user's own action succeeded: an engine that refuses (a container
    someone runs from it) is noted in Python's log, not raised.
    """
    try:
        images.remove_unless_shared(tag, LABEL_ENVIRONMENT)
    except DeployError as e:
        _logger.warning("kept the environment image %s: %s", tag, e)


def _warn_on_fallback(build_log: str, log: Log) -> None:
    if FALLBACK_NOTICE in build_log:
        log("warning: uv could not install the requirements and pip did; uv's reason is in the "
            "build log above.")


def default_builder() -> Builder:
    """BuildKit when the engine has it (and ``JUPYTER_DEPLOY_BUILDER`` does not say classic)."""
    chosen = os.environ.get(BUILDER_VARIABLE, "").strip().lower()
    if chosen in ("buildkit", "classic"):
        return "buildkit" if chosen == "buildkit" else "classic"
    return "buildkit" if buildkit.available() else "classic"


def ensure_base_image(env: Environment, log: Log = _quiet) -> None:
    """Make the environment's base image present locally, pulling with its credentials if needed."""
    if env.base_image == get_config().default_base_image:
        ensure_default_base_image(log)
    elif not images.exists(env.base_image):
        log(f"Pulling base image {env.base_image} …")
        auth = env.registry.auth_config() if env.registry else None
        log(images.pull(env.base_image, auth_config=auth))


