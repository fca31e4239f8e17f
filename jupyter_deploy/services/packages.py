"""Model packages: a scoring image stored in the workspace registry, or its build context on disk.

Packaging is deploying without running: the same
:func:`~jupyter_deploy.services.building.build_package` makes the image, which is then tagged
``<registry>/package:<content hash>`` and pushed, so any engine that reaches the registry can
``docker pull`` it. The other form writes the complete build context whose Dockerfile starts
``FROM`` an image in the workspace registry, so a plain ``docker build --network none`` on any
machine with access to that registry gives the same image.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from jupyter_deploy.build.context import BuildContext
from jupyter_deploy.engine import images
from jupyter_deploy.engine.base_images import publish, resolve_base
from jupyter_deploy.engine.client import docker_client, translate_docker_errors
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.services.building import build_package, ensure_base_image, write_context
from jupyter_deploy.spec.cluster import ClusterConfig
from jupyter_deploy.spec.environment import RegistryCredentials
from jupyter_deploy.spec.package import PackageSpec
from jupyter_deploy.spec.reference import ImageReference

Log = Callable[[str], None]
PACKAGE_REPOSITORY = "package"


def _quiet(_: str) -> None:
    """A log that drops lines."""


@dataclass(frozen=True)
class Package:
    """A built package (``location`` set) or a generated build context (``context`` set)."""

    spec: PackageSpec
    registry: RegistryCredentials
    location: str | None = None
    context: BuildContext | None = None
    log: tuple[str, ...] = field(default=(), repr=False)

    def pull(self, on_line: Log = print) -> str:
        """Pull the package image into the local engine; print and return the ``Status:`` line.

        Raises:
            ConfigurationError: this package is a Dockerfile, not an image.
            PullError, RegistryAuthError, ImageNotFoundError: the pull failed.
        """
        if self.location is None:
            raise ConfigurationError(
                "this package is a Dockerfile (generate_dockerfile=True): save() it and "
                "`docker build` the folder, or package again without generate_dockerfile."
            )
        status = images.pull(self.location, auth_config=self.registry.auth_config())
        on_line(status)
        return status

    def save(self, dest: str | Path) -> Path:
        """Copy the build context (Dockerfile, wheels, server, models, app) into ``dest``."""
        target = Path(dest)
        if self.context is None:
            with tempfile.TemporaryDirectory(prefix="jd-save-") as tmp:
                context = write_context(self.spec, Path(tmp) / "context")
                _replace_folder(context.path, target)
        else:
            _replace_folder(self.context.path, target)
        return target


def package_image(
    spec: PackageSpec, registry: str, log: Log = _quiet, labels: Mapping[str, str] | None = None,
    repository: str = PACKAGE_REPOSITORY, tag: str | None = None,
) -> Package:
    """Build ``spec`` and push it as ``<registry>/<repository>:<tag or content hash>``.

    The local copy named after the registry is removed after the push (or a failed push), so
    ``pull()`` really fetches it from the registry and no half-made name is left behind; the
    build's own tag and every layer stay in the engine for the cache.

    Raises:
        EntryScriptError, DependencyError, BuildError: before or while building.
        RegistryError, PushError: the push failed.
    """
    spec = replace(spec, environment=resolve_base(spec.environment, log, labels))
    built = build_package(spec, log, labels)
    tag = tag or images.split_tag(built.tag)[1]
    location = f"{registry}/{repository}:{tag}"
    with translate_docker_errors(f"tagging {built.tag} as {location}"):
        docker_client().images.get(built.tag).tag(f"{registry}/{repository}", tag)
    log(f"Pushing {location} …")
    try:
        log(images.push(location))
    finally:
        with translate_docker_errors(f"untagging {location}"):
            docker_client().images.remove(location)
    log(f"Package {location} is in the workspace registry.")
    return Package(spec, RegistryCredentials(address=registry), location=location)


def package_dockerfile(
    spec: PackageSpec, registry: str, dest: Path, log: Log = _quiet,
    labels: Mapping[str, str] | None = None,
) -> Package:
    """Write ``spec``'s build context into ``dest`` with its base image in ``registry``.

    A base image with no registry host (the default one, or one built from a
    ``base_dockerfile``) is pushed to ``registry`` first and the Dockerfile names it there.

    Raises:
        EntryScriptError, DependencyError: bad inputs.
        RegistryError, PushError: the base image could not be pushed.
    """
    env = resolve_base(spec.environment, log, labels)
    ensure_base_image(env, log)
    if env.registry is None or not env.registry.address:
        base = publish(env.base_image, registry, labels)
        credentials = RegistryCredentials(address=registry)
        env = env.with_changes(base_image=base)
    else:
        credentials = env.registry
    spec = replace(spec, environment=env)
    context = write_context(spec, dest, log)
    log(f"Wrote the build context of {spec.name} to {dest} (FROM {env.base_image}).")
    return Package(spec, credentials, context=context)


def _replace_folder(source: Path, target: Path) -> None:
    if target.resolve() == source.resolve():
        return
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)


def publish_image(image: str, registry: str, repository: str, log: Log = _quiet) -> str:
    """``image`` pushed as ``<registry>/<repository>:<its tag>`` (a reference a cluster pulls).

    Raises:
        RegistryError, PushError: the push failed.
    """
    tag = images.split_tag(image)[1] or "latest"
    location = f"{registry}/{repository}:{tag}"
    with translate_docker_errors(f"tagging {image} as {location}"):
        docker_client().images.get(image).tag(f"{registry}/{repository}", tag)
    log(f"Pushing {location} …")
    log(images.push(location))
    return location


def kubernetes_package(
    name: str, image: str, dest: str | Path, config: ClusterConfig | None = None,
    env: Mapping[str, str] | None = None, labels: Mapping[str, str] | None = None,
    log: Log = _quiet,
) -> list[Path]:
    """Kubernetes manifests (Deployment, Service, autoscaler, key Secret without values) for
    ``image`` — which must already be in a registry the cluster reaches — written to ``dest``.

    Raises:
        ConfigurationError: an image with no registry host, or a name Kubernetes refuses.
    """
    from jupyter_deploy.targets.kubernetes.manifests import write_manifests

    if not ImageReference.parse(image).registry:
        raise ConfigurationError(
            f"{image} exists only in this engine, and a cluster pulls images from a registry: "
            "push it first (a package image already is in the workspace registry).")
    written = write_manifests(dest, name, image, config or ClusterConfig(), dict(env or {}),
                              dict(labels or {}))
    log(f"Wrote {len(written)} manifests to {dest} (apply with `kubectl apply -f {dest}`; the "
        "Secret file says how to put the keys in).")
    return written
