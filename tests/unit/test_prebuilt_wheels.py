"""Every prebuilt base's wheels resolve for the image's platform — checked against PyPI, fast.

The CUDA image is about 1.5 GB of wheels, too much to download on every run; pip's resolver
with ``--dry-run --report`` reads only the wheels' metadata (served apart from the files), so
this checks what the real build would install, for Python 3.11 on Debian 12's manylinux
levels, in seconds. It needs the package index and nothing else (no engine).
"""

from __future__ import annotations

import functools

import pytest

from jupyter_deploy.build.base_dockerfiles import ResolvedWheel, accepted_tags, resolve_wheels
from jupyter_deploy.errors import DependencyError
from jupyter_deploy.spec.base_catalog import CATALOG, PrebuiltBase, entry


@functools.cache
def resolved(name: str) -> tuple[ResolvedWheel, ...]:
    """What pip resolves for the entry's own pins (once per run: each call asks the index)."""
    return tuple(resolve_wheels(entry(name).requirements, "3.11"))


@pytest.mark.parametrize("base", CATALOG, ids=lambda b: b.name)
def test_every_wheel_resolves_for_the_images_platform(base: PrebuiltBase) -> None:
    # Given the catalogue's own pins, When pip resolves them for the image, downloading nothing
    wheels = resolved(base.name)
    # Then every file is a wheel that installs on CPython 3.11 on Debian 12 (glibc 2.36)
    accepted = accepted_tags("3.11", "x86_64")
    assert wheels and all(w.filename.endswith(".whl") for w in wheels)
    assert [w.filename for w in wheels if not w.fits(accepted)] == []
    names = {w.name for w in wheels}
    for line in base.requirements:
        assert line.split("[")[0].split("=")[0] in names


def test_the_cuda_image_gets_cuda_and_cudnn_from_nvidias_wheels() -> None:
    wheels = {w.name: w for w in resolved("onnxruntime-cuda")}
    assert wheels["onnxruntime-gpu"].version == "1.31.1"
    for library in ("nvidia-cuda-runtime", "nvidia-cublas", "nvidia-curand", "nvidia-cufft"):
        assert library in wheels, sorted(wheels)
    assert any(name.startswith("nvidia-cudnn") for name in wheels)


def test_a_requirement_without_a_wheel_for_the_platform_is_named() -> None:
    with pytest.raises(DependencyError, match="jupyter-deploy-no-such-package"):
        resolve_wheels(["jupyter-deploy-no-such-package==0.0.1"])
