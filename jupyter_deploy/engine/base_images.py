"""Custom base images: build one from a user's Dockerfile, publish it to a registry, use it.

Users pre-install slow software once in a base image (the seeds' miniconda sample) and reuse it
for every deployment. Building streams the log and ends with one summary line with the elapsed
time, as ``az acr build`` does. An environment that gives a ``base_dockerfile`` instead of a
``base_image`` gets its base built here first, tagged by the hash of the Dockerfile, so a second
deployment reuses it. Registry credentials are passed to the engine in memory only. The seeds'
prebuilt inference images resolve to the offline catalogue's (:mod:`.prebuilt`) here too.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import docker.errors

from jupyter_deploy.config import LABEL_MANAGED, cache_dir
from jupyter_deploy.engine import images, prebuilt
from jupyter_deploy.engine.client import docker_client, translate_docker_errors
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.spec.environment import Environment, RegistryCredentials

Log = Callable[[str], None]
BASE_REPOSITORY = "jupyter-deploy/base"


@dataclass(frozen=True)
class BaseImage:
    """A built (and maybe pushed) base image."""

    ref: str
    id: str
    seconds: float
    log: str
    pushed: bool = False

    @property
    def summary(self) -> str:
        """``Run ID: <id> was successful after 0m12s`` (the seeds' wording)."""
        minutes, seconds = divmod(round(self.seconds), 60)
        short = self.id.removeprefix("sha256:")[:12]
        return f"Run ID: {short} was successful after {minutes}m{seconds:02d}s ({self.ref})"


def build_base(
    dockerfile: str | Path, tag: str, context: str | Path | None = None,
    registry: RegistryCredentials | None = None, push: bool = False, log: Log = print,
    labels: Mapping[str, str] | None = None,
) -> BaseImage:
    """Build ``dockerfile`` (a path or its text) as ``tag`` and optionally push it.

    Args:
        dockerfile: A Dockerfile path, or Dockerfile text.
        tag: The image name; when ``push``, it should start with the registry's address.
        context: The build context folder (default: the Dockerfile's folder, or an empty one).
        registry: Credentials for the push (and the ``FROM`` pull), kept in memory.
        push: Push the image after building it.
        log: Receives each build line, then the summary.
        labels: Labels for the image.

    Raises:
        BuildError: a step failed (the log's tail is in the message).
        RegistryAuthError, RegistryError, PushError: the push failed.
    """
    text, folder = _dockerfile_and_context(dockerfile, context)
    with tempfile.TemporaryDirectory(prefix="jd-base-") as tmp:
        root = Path(tmp) / "context"
        if folder:
            shutil.copytree(folder, root, ignore=shutil.ignore_patterns(".git"))
        root.mkdir(exist_ok=True)
        (root / "Dockerfile").write_text(text)
        built = images.build(str(root), tag, log=log, labels=labels)
    result = BaseImage(tag, built.id, built.seconds, built.log)
    if push:
        auth = registry.auth_config() if registry else None
        log(images.push(tag, auth_config=auth))
        result = BaseImage(tag, built.id, built.seconds, built.log, pushed=True)
    log(result.summary)
    return result


def resolve_base(
    env: Environment, log: Log = print, labels: Mapping[str, str] | None = None
) -> Environment:
    """``env`` with a ``base_image`` to build on: its ``base_dockerfile`` built when it has one.

    The seeds' prebuilt images (``mcr.microsoft.com/azureml/onnxruntime:latest``…), named as the
    base image or in the base Dockerfile's ``FROM``, are replaced by the offline ones of
    :mod:`.prebuilt` first (built once when missing), with a line in ``log`` saying so.

    Raises:
        ConfigurationError: a seeds' image that cannot be had here, or needs a missing GPU.
        BuildError: the base Dockerfile (or a prebuilt base) does not build.
    """
    env = prebuilt.resolve(env, log)
    if not env.base_dockerfile or (env.base_image and images.exists(env.base_image)):
        return env
    digest = hashlib.sha256(env.base_dockerfile.encode()).hexdigest()[:16]
    tag = f"{BASE_REPOSITORY}:{digest}"
    if not images.exists(tag):
        log(f"Building the base image {tag} from the environment's base_dockerfile …")
        build_base(env.base_dockerfile, tag, log=log, labels=labels)
    return env.with_changes(base_image=tag)


def publish(ref: str, registry: str, labels: Mapping[str, str] | None = None) -> str:
    """Tag the local image ``ref`` into ``registry`` (same path) and push it; return the new ref.

    An image already named in ``registry`` is returned as is.

    Raises:
        ImageNotFoundError: no local image ``ref``.
        RegistryError, PushError: the push failed.
    """
    if ref.startswith(f"{registry}/"):
        return ref
    repository, tag = images.split_tag(ref)
    target = f"{registry}/{repository}:{tag}"
    with translate_docker_errors(f"tagging {ref} as {target}"):
        docker_client().images.get(ref).tag(f"{registry}/{repository}", tag)
    images.push(target)
    return target


def _dockerfile_and_context(
    dockerfile: str | Path, context: str | Path | None
) -> tuple[str, Path | None]:
    if isinstance(dockerfile, Path) or "\n" not in str(dockerfile):
        path = Path(dockerfile)
        if not path.is_file():
            raise ConfigurationError(f"Dockerfile {path} does not exist: check the path.")
        return path.read_text(), Path(context) if context else path.parent
    return str(dockerfile), Path(context) if context else None


def has_conda(env: Environment) -> bool:
    """Whether the environment's base image has conda (its Dockerfile or its ``Env`` says so).

    Only asked when the environment lists conda-only packages; the answer is passed to the build
    layer, which never talks to the engine itself.
    """
    if env.base_dockerfile and "conda" in env.base_dockerfile.lower():
        return True
    with translate_docker_errors(f"inspecting {env.base_image}"):
        try:
            config = docker_client().images.get(env.base_image).attrs.get("Config") or {}
        except docker.errors.ImageNotFound:
            return False
    return any("conda" in v.lower() for v in config.get("Env") or [])


_PYTHON_PROBE = ["python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]


def python_version(image: str) -> str | None:
    """The ``major.minor`` of the image's ``python3``, or None when it has none.

    Asked once per image id (a container that prints it, with no network) and remembered in
    the cache folder, so a later deploy on the same base costs a file read.
    """
    client = docker_client()
    with translate_docker_errors(f"inspecting {image}"):
        image_id = client.images.get(image).id
    memory = cache_dir() / "image-python.json"
    known = json.loads(memory.read_text()) if memory.exists() else {}
    if image_id not in known:
        known[image_id] = _probe_python(image)
        memory.write_text(json.dumps(known, indent=1, sort_keys=True))
    found = known[image_id]
    return str(found) if found else None


def _probe_python(image: str) -> str | None:
    """Run ``python3`` in ``image`` once (no network) and read its version; always clean up."""
    with translate_docker_errors(f"asking {image} for its Python"):
        container = docker_client().containers.create(
            image, _PYTHON_PROBE, entrypoint=[], network_mode="none",
            labels={LABEL_MANAGED: "true"})
        try:
            try:
                container.start()
            except docker.errors.APIError as e:
                if "executable file not found" in str(e) or "no such file" in str(e).lower():
                    return None
                raise
            if container.wait(timeout=60).get("StatusCode") != 0:
                return None
            text = container.logs(stdout=True, stderr=False).decode().strip()
        finally:
            container.remove(force=True)
    return text if text.count(".") == 1 else None


def engine_architecture() -> str:
    """The machine the engine runs (``x86_64``, ``aarch64``…), as the engine says."""
    with translate_docker_errors("asking the engine for its architecture"):
        return str(docker_client().info().get("Architecture") or "x86_64")
