"""The catalogue's prebuilt base images in the engine: listed, built once, named by the seeds.

Each image is tagged ``jupyter-deploy/prebuilt-<name>:<hash of its Dockerfile>``, so whether it
is built is one look-up with no network, and a changed catalogue (or a kernel with another ONNX
Runtime) makes a new tag instead of reusing a stale one. Building needs only the host's package
index: the entries it builds on first (the default base image, then e.g. ``minimal``), then the
wheels, then a build with no network, as a package's. The images carry no test or deployment
labels: like the default base image they are kept, and every later build reuses them.

:func:`resolve` is the hook :func:`~jupyter_deploy.engine.base_images.resolve_base` calls first:
an environment that names one of the seeds' prebuilt images (and whose engine does not have it)
gets ours, with one line saying so; one that cannot be had, or the CUDA image on an engine
without a GPU, is refused before anything is built.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_deploy.build.base_dockerfiles import (
    LABEL_PACKAGES,
    image_digest,
    write_base_context,
)
from jupyter_deploy.config import get_config
from jupyter_deploy.engine import buildkit, images
from jupyter_deploy.engine.client import docker_client, translate_docker_errors
from jupyter_deploy.engine.default_base import ensure_default_base_image
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.spec.base_catalog import (
    CATALOG,
    PrebuiltBase,
    Unavailable,
    lineage,
    lookup,
    notice,
)
from jupyter_deploy.spec.environment import Environment
from jupyter_deploy.spec.models.requirements import installed_version, requirement_name

Log = Callable[[str], None]
#: Set (to anything but 0) when the engine gives containers GPUs by a way ``docker info`` does not
#: show (``--gpus`` through the NVIDIA hook, CDI): the CUDA image is then not refused.
ASSUME_GPU_VARIABLE = "JUPYTER_DEPLOY_ASSUME_GPU"
_FROM = re.compile(r"^(\s*FROM\s+(?:--\S+\s+)*)(\S+)", re.IGNORECASE | re.MULTILINE)


def _quiet(_: str) -> None:
    """A log that drops lines."""


@dataclass(frozen=True)
class PrebuiltImage:
    """A catalogue entry as this engine has it: its tag, and whether (and how big) it is built."""

    base: PrebuiltBase
    tag: str
    requirements: tuple[str, ...]
    built: bool
    size: int | None = None
    packages: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready row for the CLI, the REST layer and the widgets."""
        size = _size_text(self.size) if self.size is not None else f"≈ {self.base.approx_size}"
        return {"name": self.base.name, "image": self.tag, "stands_for": list(self.base.seed_names),
                "inside": self.base.title, "requirements": list(self.requirements),
                "packages": self.packages, "built": self.built, "size_bytes": self.size,
                "size": size, "gpu": self.base.gpu}


def _size_text(size: int) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"


def host_versions(base: PrebuiltBase) -> dict[str, str]:
    """What the kernel has installed of ``base``'s ``follow_host`` distributions."""
    found = {requirement_name(name): installed_version(name) for name in base.follow_host}
    return {name: version for name, version in found.items() if version}


def plan(base: PrebuiltBase) -> tuple[str, tuple[str, ...], str]:
    """``(tag, requirements, parent image)`` of ``base`` here, worked out with no engine call."""
    parent = get_config().default_base_image
    for step in lineage(base):
        requirements = step.pinned(host_versions(step))
        tag = f"{step.repository}:{image_digest(step, parent, requirements)}"
        if step is base:
            return tag, requirements, parent
        parent = tag
    raise AssertionError("lineage() always ends with the entry itself")


def status(base: PrebuiltBase) -> PrebuiltImage:
    """Whether ``base`` is built in this engine, and its size and packages if so.

    Raises:
        DockerUnavailableError: no engine.
    """
    tag, requirements, _ = plan(base)
    with translate_docker_errors(f"looking up {tag}"):
        found = docker_client().images.list(name=tag)
    if not found:
        return PrebuiltImage(base, tag, requirements, built=False)
    labels = found[0].labels or {}
    return PrebuiltImage(base, tag, requirements, True, int(found[0].attrs.get("Size") or 0),
                         str(labels.get(LABEL_PACKAGES, "")))


def list_images() -> list[PrebuiltImage]:
    """Every catalogue entry, as this engine has it."""
    return [status(base) for base in CATALOG]


def ensure(base: PrebuiltBase, log: Log = _quiet) -> str:
    """``base``'s image, built (with what it builds on) when the engine does not have it yet.

    Raises:
        DependencyError: a requirement has no wheel for the image's platform.
        BuildError: a build step failed.
        BaseImageError, DockerUnavailableError: no default base image, no engine.
    """
    ensure_default_base_image(_quiet)
    for step in lineage(base):
        tag, _, _ = plan(step)
        if not images.exists(tag):
            build(step, log)
    return plan(base)[0]


def build(base: PrebuiltBase, log: Log = _quiet, nocache: bool = False) -> images.BuiltImage:
    """Build ``base`` (its parent must exist: :func:`ensure` sees to that) with no network.

    Raises:
        DependencyError, BuildError, DockerUnavailableError.
    """
    tag, requirements, parent = plan(base)
    if not images.exists(parent):
        raise ConfigurationError(f"{base.name} builds on {parent}, which this engine does not "
                                 f"have: run `jupyter-deploy base-images build {base.name}`.")
    mounts = buildkit.available()
    log(f"Building the prebuilt base {tag} ({base.name}: {', '.join(requirements)}) …")
    with tempfile.TemporaryDirectory(prefix="jd-prebuilt-") as tmp:
        context = write_base_context(
            base, parent, requirements, Path(tmp) / "context",
            python_version=get_config().image_python_version,
            architecture=engine_info().get("Architecture") or "x86_64", mounts=mounts, log=log)
        builder = buildkit.build if mounts else images.build
        built = builder(str(context.path), tag, log=log, network_mode="none", nocache=nocache)
    log(f"Built {tag} in {built.seconds:.0f} s.")
    return built


# -- the hook: the seeds' names resolve to ours -------------------------------------------------


def resolve(env: Environment, log: Log = print) -> Environment:
    """``env`` with the seeds' prebuilt image (if it names one the engine lacks) replaced by ours.

    A ``base_dockerfile`` whose ``FROM`` names one gets ours in its place the same way.

    Raises:
        ConfigurationError: the image cannot be had here (TensorRT, OpenVINO's VPUs, an unknown
            tag), or needs a GPU this engine does not have — before anything is built.
        DependencyError, BuildError: our image could not be built.
    """
    if env.base_dockerfile:
        text = _FROM.sub(lambda m: m.group(1) + _stand_in(m.group(2), log), env.base_dockerfile)
        return env if text == env.base_dockerfile else env.with_changes(base_dockerfile=text)
    ref = _stand_in(env.base_image, log)
    return env if ref == env.base_image else env.with_changes(base_image=ref)


def _stand_in(ref: str, log: Log) -> str:
    found = lookup(ref)
    if found is None or images.exists(ref):
        return ref
    if isinstance(found, Unavailable):
        raise found.error(ref)
    if found.gpu:
        check_gpu(found, ref, engine_info())
    tag = ensure(found, log)
    log(notice(ref, tag, found))
    return tag


def check_gpu(base: PrebuiltBase, ref: str, info: Mapping[str, Any]) -> None:
    """Refuse ``base`` (named ``ref``) when the engine ``info`` describes gives containers no GPU.

    Raises:
        ConfigurationError: no GPU for containers (the message says what to do instead).
    """
    why = no_gpu_reason(info)
    if why is None:
        return
    cpu = next((n for b in CATALOG if b.name == "onnxruntime" for n in b.seed_names), "")
    raise ConfigurationError(
        f"{ref} runs ONNX Runtime on an NVIDIA GPU, and this Docker engine gives containers no "
        f"GPU ({why}). Use {cpu} (the same ONNX Runtime on the CPU) here instead. To build the "
        f"CUDA base anyway, for another machine: `jupyter-deploy base-images build {base.name}`; "
        f"to deploy on an engine that gives GPUs another way, set {ASSUME_GPU_VARIABLE}=1.")


def no_gpu_reason(info: Mapping[str, Any]) -> str | None:
    """Why the engine ``info`` describes gives containers no GPU, or None when it does.

    Containers get GPUs from the NVIDIA container runtime: it must be the engine's default
    runtime, as jupyter_deploy runs containers without ``--gpus``.
    """
    if os.environ.get(ASSUME_GPU_VARIABLE, "0") not in ("", "0"):
        return None
    if info.get("DefaultRuntime") == "nvidia":
        return None
    if "nvidia" in (info.get("Runtimes") or {}):
        return ("its `nvidia` runtime is not the default one: set \"default-runtime\": "
                "\"nvidia\" in the engine's daemon.json and restart it")
    return ("`docker info` lists no `nvidia` runtime: install the NVIDIA Container Toolkit where "
            "the GPU is and make `nvidia` the engine's default runtime")


def engine_info() -> Mapping[str, Any]:
    """What ``docker info`` says (architecture, runtimes).

    Raises:
        DockerUnavailableError: no engine.
    """
    with translate_docker_errors("asking the engine what it runs"):
        info: Mapping[str, Any] = docker_client().info()
    return info
