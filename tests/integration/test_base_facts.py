"""What the engine layer learns about a base image before wheels are picked for it."""

from __future__ import annotations

from pathlib import Path

from jupyter_deploy.config import get_config
from jupyter_deploy.engine import base_images, images


def test_the_default_base_reports_its_python_and_the_engine_its_machine() -> None:
    assert base_images.python_version(get_config().default_base_image) == "3.11"
    assert base_images.engine_architecture() in ("x86_64", "aarch64")


def test_an_image_without_python_reports_none(
    tmp_path: Path, a_service_name: str, test_labels: dict[str, str]
) -> None:
    # Given an image with no python3 in it
    (tmp_path / "a.txt").write_text("a\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY a.txt /a.txt\n")
    tag = f"jupyter-deploy/nopython-{a_service_name}:1"
    images.build(str(tmp_path), tag, labels=test_labels)
    # Then the probe says so (and remembers it) instead of failing
    assert base_images.python_version(tag) is None
    assert base_images.python_version(tag) is None
