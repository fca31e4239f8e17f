"""The catalogue of prebuilt inference base images, and the seeds' names for them.

The seed documents name Microsoft's prebuilt inference images (a minimal conda image and ONNX
Runtime for CPU, CUDA, TensorRT and OpenVINO) in ``env.docker.base_image``. None of them can be
pulled where no public registry answers, so each one that *can* be made from Debian packages and
PyPI wheels has an entry here, built offline on the default base image; code that names the
seeds' image gets ours, with a one-line notice saying so. The two that cannot be made (TensorRT's
PyPI packages are stubs that download from NVIDIA at install time; OpenVINO dropped the Movidius
VPUs those images targeted) are refused with what to use instead.

This module is data and pure functions: which versions the kernel has is asked by the engine
layer and passed in, so the catalogue stays testable without Docker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from jupyter_deploy.errors import ConfigurationError, ImageReferenceError
from jupyter_deploy.spec.reference import ImageReference

#: The seeds' registry and the two repositories they name.
SEED_REGISTRY = "mcr.microsoft.com"
ONNXRUNTIME = "azureml/onnxruntime"
MINICONDA = "azureml/o16n-sample-user-base/ubuntu-miniconda"
#: The repository prefix of the images built from this catalogue.
REPOSITORY_PREFIX = "jupyter-deploy/prebuilt-"


@dataclass(frozen=True)
class PrebuiltBase:
    """One base image made offline: what it holds, what it stands for, what it builds on.

    Attributes:
        name: The catalogue name (``jupyter-deploy base-images build NAME``).
        title: One line on what is inside.
        requirements: pip requirement lines installed into the image's virtual environment.
        seed_names: The seeds' image names (``registry/repository:tag``) it stands in for.
        parent: The catalogue entry it builds on; None builds on the default base image.
        follow_host: Distributions whose pin follows the kernel's installed version, so a model
            made here (ONNX files pin the kernel's ONNX Runtime and numpy) finds them in place.
        gpu: It needs an NVIDIA GPU in the engine to do its job.
        env: Variables set in the image.
        post_install: Shell commands run after the install, in the final image (``{venv}`` is
            the virtual environment's folder).
        approx_size: The size it was measured at, shown before it is built.
    """

    name: str
    title: str
    requirements: tuple[str, ...]
    seed_names: tuple[str, ...]
    parent: str | None = None
    follow_host: tuple[str, ...] = ()
    gpu: bool = False
    env: Mapping[str, str] = field(default_factory=dict)
    post_install: tuple[str, ...] = ()
    approx_size: str = ""

    @property
    def repository(self) -> str:
        """The local repository its images are tagged in."""
        return f"{REPOSITORY_PREFIX}{self.name}"

    @property
    def seed_name(self) -> str:
        """The name the seeds use for it (the first one)."""
        return self.seed_names[0]

    def pinned(self, host_versions: Mapping[str, str]) -> tuple[str, ...]:
        """The requirement lines, with ``follow_host`` distributions at the kernel's version.

        ``host_versions`` maps canonical distribution names to what the kernel has installed;
        a distribution it does not have keeps the catalogue's pin.
        """
        follow = {canonicalize_name(n) for n in self.follow_host}
        lines = []
        for line in self.requirements:
            requirement = Requirement(line)
            name = canonicalize_name(requirement.name)
            if name in follow and name in host_versions:
                extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
                line = f"{requirement.name}{extras}=={host_versions[name]}"
            lines.append(line)
        return tuple(lines)


@dataclass(frozen=True)
class Unavailable:
    """A seeds' image that cannot be made offline: why, and what to use instead."""

    seed_name: str
    reason: str
    instead: str

    def error(self, ref: str | None = None) -> ConfigurationError:
        """The refusal of ``ref`` (one of its names), with the reason and the way out."""
        return ConfigurationError(
            f"{ref or self.seed_name} cannot be made on this machine: {self.reason} "
            f"{self.instead}")


_ORT = f"{SEED_REGISTRY}/{ONNXRUNTIME}"
_CPU_INSTEAD = f"{_ORT}:latest (ONNX Runtime for the CPU, built offline)"

CATALOG: tuple[PrebuiltBase, ...] = (
    PrebuiltBase(
        name="minimal",
        title="Debian 12 and Python 3.11 with pip, in a virtual environment first on PATH "
              "(conda cannot be had offline: pip installs packages)",
        requirements=("pip", "setuptools", "wheel"),
        seed_names=(f"{SEED_REGISTRY}/{MINICONDA}:latest",),
        approx_size="181 MB",
    ),
    PrebuiltBase(
        name="onnxruntime",
        title="ONNX Runtime for the CPU, with numpy (the kernel's versions when it has them)",
        requirements=("onnxruntime==1.32.0", "numpy==2.4.6"),
        seed_names=(f"{_ORT}:latest",),
        parent="minimal",
        follow_host=("onnxruntime", "numpy"),
        approx_size="330 MB",
    ),
    PrebuiltBase(
        name="onnxruntime-cuda",
        title="ONNX Runtime for NVIDIA GPUs, with CUDA 13 and cuDNN 9 from NVIDIA's PyPI wheels "
              "(needs an engine with an NVIDIA GPU to run)",
        requirements=("onnxruntime-gpu[cuda,cudnn]==1.31.1", "numpy==2.4.6"),
        seed_names=(f"{_ORT}:latest-cuda",),
        parent="minimal",
        follow_host=("numpy",),
        gpu=True,
        # what the NVIDIA container runtime reads to give the container every GPU and the driver
        env={"NVIDIA_VISIBLE_DEVICES": "all", "NVIDIA_DRIVER_CAPABILITIES": "compute,utility"},
        # the CUDA libraries live in the wheels' nvidia/*/lib folders: make the loader find them
        post_install=(
            "ls -d {venv}/lib/python3*/site-packages/nvidia/*/lib "
            "> /etc/ld.so.conf.d/jupyter-deploy-nvidia.conf && ldconfig",),
        approx_size="2.8 GB",
    ),
)

UNAVAILABLE: tuple[Unavailable, ...] = (
    Unavailable(
        f"{_ORT}:latest-tensorrt",
        "TensorRT's packages on PyPI are stubs that download NVIDIA's libraries from NVIDIA's "
        "own servers while they install, which this machine cannot reach (and the image runs "
        "only on an NVIDIA GPU).",
        f"Use {_ORT}:latest-cuda (ONNX Runtime's CUDA execution provider, on an engine with an "
        f"NVIDIA GPU) or {_CPU_INSTEAD}; or build a base image with TensorRT where NVIDIA's "
        "servers are reachable, load it into this engine and name it in env.docker.base_image."),
    Unavailable(
        f"{_ORT}:latest-openvino-*",
        "it served Intel's Movidius VPUs (the Myriad X stick, the Vision Accelerator Design "
        "cards), which OpenVINO no longer supports, so no current image can drive them.",
        f"Use {_CPU_INSTEAD}; for OpenVINO on an Intel CPU or GPU, add onnxruntime-openvino to "
        "the environment's pip packages (its wheels are on PyPI)."),
)


def seed_reference(ref: str) -> tuple[str, str] | None:
    """``(repository, tag)`` when ``ref`` names one of the seeds' repositories, else None."""
    try:
        parsed = ImageReference.parse(ref)
    except ImageReferenceError:
        return None
    if parsed.registry != SEED_REGISTRY or parsed.repository not in (ONNXRUNTIME, MINICONDA):
        return None
    return parsed.repository, parsed.tag or "latest"


def lookup(ref: str) -> PrebuiltBase | Unavailable | None:
    """What the seeds' image ``ref`` resolves to: our entry, a refusal, or None (not theirs).

    A tag of the seeds' repositories that the catalogue does not know is refused, naming the
    ones it does.
    """
    found = seed_reference(ref)
    if found is None:
        return None
    repository, tag = found
    if repository == MINICONDA:
        return entry("minimal")
    for base in CATALOG:
        if any(seed_reference(n) == (repository, tag) for n in base.seed_names):
            return base
    if tag.startswith("latest-openvino"):
        return UNAVAILABLE[1]
    if tag == "latest-tensorrt":
        return UNAVAILABLE[0]
    known = ", ".join(n for b in CATALOG for n in b.seed_names if ONNXRUNTIME in n)
    return Unavailable(
        f"{SEED_REGISTRY}/{repository}:{tag}",
        "only the seeds' own tags have offline stand-ins here.", f"Use one of {known}.")


def entry(name: str) -> PrebuiltBase:
    """The catalogue entry called ``name``.

    Raises:
        ConfigurationError: no such entry (the message lists them).
    """
    for base in CATALOG:
        if base.name == name:
            return base
    names = ", ".join(b.name for b in CATALOG)
    raise ConfigurationError(
        f"no prebuilt base image called {name!r}: pick one of {names} "
        "(`jupyter-deploy base-images ls` lists them).")


def lineage(base: PrebuiltBase) -> tuple[PrebuiltBase, ...]:
    """``base`` and the entries it builds on, the bottom one first."""
    chain = [base]
    while chain[0].parent is not None:
        chain.insert(0, entry(chain[0].parent))
    return tuple(chain)


def notice(seed_name: str, tag: str, base: PrebuiltBase) -> str:
    """The one line that says which image stands in for the seeds' one."""
    return (f"Base image {seed_name} cannot be pulled here: using {tag} instead "
            f"({base.name}: {base.title}; built offline from Debian packages and PyPI wheels).")
