"""The prebuilt base images' catalogue: the seeds' names, notices, refusals, Dockerfiles.

No engine here: the Dockerfiles are compared with reviewed golden files (``golden_prebuilt/``),
and the decisions of the resolution hook (use ours, refuse, refuse without a GPU) are checked
with the engine's two answers it needs — "is this image here?" and ``docker info`` — given.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from golden import assert_matches_golden

from jupyter_deploy.build.base_dockerfiles import (
    accepted_tags,
    image_digest,
    platforms,
    render_dockerfile,
)
from jupyter_deploy.build.context import VENV
from jupyter_deploy.engine import prebuilt
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.spec.base_catalog import (
    CATALOG,
    UNAVAILABLE,
    PrebuiltBase,
    Unavailable,
    entry,
    lineage,
    lookup,
    notice,
)
from jupyter_deploy.spec.environment import Environment

ORT = "mcr.microsoft.com/azureml/onnxruntime"
MINICONDA = "mcr.microsoft.com/azureml/o16n-sample-user-base/ubuntu-miniconda"
GOLDEN = Path(__file__).parent / "golden_prebuilt"
PARENT = "jupyter-deploy/prebuilt-minimal:0123456789ab"
NO_GPU: dict[str, Any] = {"Runtimes": {"runc": {"path": "runc"}}, "DefaultRuntime": "runc"}


# -- the seeds' names ------------------------------------------------------------------------------


@pytest.mark.parametrize(("ref", "name"), [
    (f"{ORT}:latest", "onnxruntime"),
    (ORT, "onnxruntime"),
    (f"{ORT}:latest-cuda", "onnxruntime-cuda"),
    (f"{MINICONDA}:latest", "minimal"),
    (MINICONDA, "minimal"),
])
def test_the_seeds_names_resolve_to_the_catalogue(ref: str, name: str) -> None:
    found = lookup(ref)
    assert isinstance(found, PrebuiltBase) and found.name == name


@pytest.mark.parametrize("ref", [
    "jupyter-deploy/python:3.11", "127.0.0.1:5000/azureml/onnxruntime:latest",
    "127.0.0.1:5000/o16n-sample-user-base/ubuntu-miniconda:latest", "python:3.11-slim",
    "azureml/onnxruntime:latest", "not a reference",
])
def test_other_names_are_left_alone(ref: str) -> None:
    assert lookup(ref) is None


@pytest.mark.parametrize(("ref", "words"), [
    (f"{ORT}:latest-tensorrt", ("TensorRT", "stubs", f"{ORT}:latest-cuda", f"{ORT}:latest ")),
    (f"{ORT}:latest-openvino-vadm", ("Movidius", "onnxruntime-openvino", f"{ORT}:latest ")),
    (f"{ORT}:latest-openvino-myriad", ("Movidius", "onnxruntime-openvino")),
    (f"{ORT}:v1.4.0", ("only the seeds' own tags", f"{ORT}:latest-cuda")),
])
def test_images_that_cannot_be_had_say_what_to_use_instead(ref: str, words: tuple[str, ...]
                                                           ) -> None:
    found = lookup(ref)
    assert isinstance(found, Unavailable)
    message = str(found.error(ref))
    assert message.startswith(f"{ref} cannot be made on this machine: ")
    for word in words:
        assert word in message, (word, message)


def test_the_notice_is_one_line_naming_both_images() -> None:
    base = entry("onnxruntime")
    line = notice(f"{ORT}:latest", "jupyter-deploy/prebuilt-onnxruntime:abc", base)
    assert "\n" not in line
    assert f"{ORT}:latest" in line and "jupyter-deploy/prebuilt-onnxruntime:abc" in line
    assert "instead" in line and "offline" in line


def test_unknown_entries_list_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match="minimal, onnxruntime, onnxruntime-cuda"):
        entry("tensorrt")


# -- what each image holds ---------------------------------------------------------------------


def test_every_entry_builds_on_the_minimal_one_or_the_default_base() -> None:
    assert [b.name for b in lineage(entry("onnxruntime-cuda"))] == ["minimal", "onnxruntime-cuda"]
    assert lineage(entry("minimal")) == (entry("minimal"),)
    assert {b.parent for b in CATALOG} == {None, "minimal"}
    assert len({b.repository for b in CATALOG}) == len(CATALOG)


def test_onnx_runtime_follows_the_kernels_versions_when_it_has_them() -> None:
    base = entry("onnxruntime")
    assert base.pinned({"onnxruntime": "1.99.0"}) == ("onnxruntime==1.99.0", "numpy==2.4.6")
    assert base.pinned({}) == base.requirements
    cuda = entry("onnxruntime-cuda")
    # the kernel's CPU runtime says nothing of the GPU one; the extras are kept with a new pin
    assert cuda.pinned({"onnxruntime": "1.99.0", "numpy": "2.0.0"}) == (
        "onnxruntime-gpu[cuda,cudnn]==1.31.1", "numpy==2.0.0")


def test_the_tag_changes_with_what_goes_in() -> None:
    base = entry("onnxruntime")
    one = image_digest(base, PARENT, base.requirements)
    assert one == image_digest(base, PARENT, base.requirements)
    assert one != image_digest(base, PARENT, ("onnxruntime==1.99.0", "numpy==2.4.6"))
    assert one != image_digest(base, "jupyter-deploy/prebuilt-minimal:ffffffffffff",
                               base.requirements)
    assert re.fullmatch(r"[0-9a-f]{12}", one)


def test_wheels_are_picked_for_every_manylinux_level_of_debian_12() -> None:
    tags = platforms("x86_64")
    assert tags[0] == "manylinux_2_36_x86_64" and "manylinux_2_27_x86_64" in tags
    assert "manylinux_2_17_x86_64" in tags and "manylinux2014_x86_64" in tags
    assert platforms("arm64")[0] == "manylinux_2_36_aarch64"
    accepted = {str(t) for t in accepted_tags("3.11")}
    assert "cp311-cp311-manylinux_2_28_x86_64" in accepted
    assert "py3-none-manylinux1_x86_64" in accepted
    assert "cp310-abi3-manylinux2014_x86_64" in accepted
    assert "cp311-cp311-manylinux_2_39_x86_64" not in accepted
    assert "cp312-cp312-manylinux_2_28_x86_64" not in accepted


# -- the Dockerfiles -----------------------------------------------------------------------------


@pytest.mark.parametrize("mounts", [True, False], ids=["buildkit", "portable"])
def test_the_cuda_dockerfile_matches_its_golden_file(mounts: bool) -> None:
    # Given the CUDA entry at the catalogue's own pins, When its Dockerfile is rendered
    base = entry("onnxruntime-cuda")
    text = render_dockerfile(base, PARENT, base.requirements,
                             "numpy==2.4.6 onnxruntime-gpu==1.31.1", mounts=mounts)
    # Then it is exactly the reviewed one (UPDATE_GOLDEN=1 rewrites it after an intended change)
    path = GOLDEN / f"onnxruntime_cuda_{'buildkit' if mounts else 'portable'}.Dockerfile"
    assert_matches_golden(text, path)


def test_the_cuda_image_finds_its_libraries_and_the_gpus() -> None:
    text = render_dockerfile(entry("onnxruntime-cuda"), PARENT, ("x==1",), "", mounts=True)
    assert f"{VENV}/lib/python3*/site-packages/nvidia/*/lib" in text and "ldconfig" in text
    assert 'NVIDIA_VISIBLE_DEVICES="all"' in text
    assert f'PATH="{VENV}/bin:' in text


@pytest.mark.parametrize("base", CATALOG, ids=lambda b: b.name)
def test_no_wheel_stays_in_a_layer_of_the_image(base: PrebuiltBase) -> None:
    portable = render_dockerfile(base, PARENT, base.requirements, "", mounts=False)
    final_stage = portable.split(f"FROM {PARENT}\n", 1)[1]
    assert "wheels" not in final_stage and f"COPY --from=install {VENV} {VENV}" in final_stage
    mounted = render_dockerfile(base, PARENT, base.requirements, "", mounts=True)
    assert "COPY wheels/" not in mounted and mounted.count("FROM ") == 1


# -- the hook: use ours, refuse, or refuse without a GPU — before any build ---------------------


@pytest.fixture
def an_engine_without_the_seeds_images(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The engine's two answers the hook needs, given; builds are recorded, never run."""
    built: list[str] = []
    monkeypatch.delenv(prebuilt.ASSUME_GPU_VARIABLE, raising=False)
    monkeypatch.setattr(prebuilt.images, "exists", lambda ref: False)
    monkeypatch.setattr(prebuilt, "engine_info", lambda: NO_GPU)
    monkeypatch.setattr(prebuilt, "ensure", lambda base, log: built.append(base.name) or
                        f"jupyter-deploy/prebuilt-{base.name}:0123456789ab")
    return built


def test_the_seeds_image_resolves_to_ours_with_a_notice(
    an_engine_without_the_seeds_images: list[str],
) -> None:
    lines: list[str] = []
    env = prebuilt.resolve(Environment(base_image=f"{ORT}:latest", pip=("scipy==1.16.0",)),
                           lines.append)
    assert env.base_image == "jupyter-deploy/prebuilt-onnxruntime:0123456789ab"
    assert env.pip == ("scipy==1.16.0",)
    assert an_engine_without_the_seeds_images == ["onnxruntime"]
    assert len(lines) == 1 and f"{ORT}:latest" in lines[0]


def test_a_base_dockerfile_from_the_seeds_image_builds_on_ours(
    an_engine_without_the_seeds_images: list[str],
) -> None:
    dockerfile = f"FROM {MINICONDA}:latest\nRUN echo hello\n"
    env = prebuilt.resolve(Environment(base_dockerfile=dockerfile), lambda _: None)
    assert env.base_dockerfile == ("FROM jupyter-deploy/prebuilt-minimal:0123456789ab\n"
                                   "RUN echo hello\n")


def test_an_engine_that_has_the_seeds_image_uses_it(
    an_engine_without_the_seeds_images: list[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(prebuilt.images, "exists", lambda ref: ref == f"{ORT}:latest-tensorrt")
    env = Environment(base_image=f"{ORT}:latest-tensorrt")
    assert prebuilt.resolve(env, lambda _: None) is env
    assert an_engine_without_the_seeds_images == []


def test_other_images_are_untouched(an_engine_without_the_seeds_images: list[str]) -> None:
    env = Environment(base_image="127.0.0.1:5000/base/miniconda:4")
    assert prebuilt.resolve(env, lambda _: None) is env
    assert an_engine_without_the_seeds_images == []


@pytest.mark.parametrize("ref", [f"{ORT}:latest-tensorrt", f"{ORT}:latest-openvino-myriad"])
def test_what_cannot_be_had_is_refused_before_any_build(
    ref: str, an_engine_without_the_seeds_images: list[str],
) -> None:
    with pytest.raises(ConfigurationError, match=f"^{ref} cannot be made.* Use "):
        prebuilt.resolve(Environment(base_image=ref), lambda _: None)
    assert an_engine_without_the_seeds_images == []


def test_the_cuda_image_without_a_gpu_is_refused_before_any_build(
    an_engine_without_the_seeds_images: list[str],
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        prebuilt.resolve(Environment(base_image=f"{ORT}:latest-cuda"), lambda _: None)
    message = str(refused.value)
    assert "NVIDIA GPU" in message and "no `nvidia` runtime" in message
    assert f"Use {ORT}:latest (the same ONNX Runtime on the CPU)" in message
    assert an_engine_without_the_seeds_images == []


@pytest.mark.parametrize(("info", "why"), [
    (NO_GPU, "lists no `nvidia` runtime"),
    ({"Runtimes": {"nvidia": {}, "runc": {}}, "DefaultRuntime": "runc"}, "not the default one"),
    ({"Runtimes": {"nvidia": {}}, "DefaultRuntime": "nvidia"}, None),
])
def test_a_gpu_is_there_when_nvidia_is_the_default_runtime(
    info: dict[str, Any], why: str | None, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(prebuilt.ASSUME_GPU_VARIABLE, raising=False)
    reason = prebuilt.no_gpu_reason(info)
    assert (reason is None) if why is None else (why in str(reason))
    monkeypatch.setenv(prebuilt.ASSUME_GPU_VARIABLE, "1")
    assert prebuilt.no_gpu_reason(info) is None


def test_the_unavailable_list_names_every_refused_family() -> None:
    assert [u.seed_name for u in UNAVAILABLE] == [f"{ORT}:latest-tensorrt",
                                                  f"{ORT}:latest-openvino-*"]
