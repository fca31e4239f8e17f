"""A pull from the sidebar shows its progress in a notification that can cancel it (JupyterLab in
Chromium, the real engine and a registry holding a large image of random bytes)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lab_helpers import SIDEBAR, LabServer, open_sidebar, screenshot
from registry_helpers import running_registry

from jupyter_deploy.engine import images
from jupyter_deploy.engine.client import docker_client
from jupyter_deploy.registry.local import LocalRegistry

pytestmark = pytest.mark.docker


@pytest.fixture
def a_registry_with_a_large_image(
    tmp_path: Path, a_service_name: str, test_labels: dict[str, str]
) -> Iterator[tuple[LocalRegistry, str]]:
    (tmp_path / "image").mkdir()
    (tmp_path / "image" / "blob").write_bytes(os.urandom(150 * 1024 * 1024))
    (tmp_path / "image" / "Dockerfile").write_text("FROM scratch\nCOPY blob /blob\n")
    with running_registry(tmp_path / "registry") as registry:
        ref = f"{registry.address}/large/{a_service_name}:1"
        images.build(str(tmp_path / "image"), ref, labels=test_labels)
        images.push(ref)
        docker_client().images.remove(ref, force=True)
        yield registry, ref
        if images.exists(ref):
            docker_client().images.remove(ref, force=True)


def test_a_pull_can_be_cancelled_from_its_notification(
    a_lab_server: Callable[..., LabServer], a_page: Any,
    a_registry_with_a_large_image: tuple[LocalRegistry, str],
) -> None:
    registry, ref = a_registry_with_a_large_image
    repository = ref.split("/", 1)[1].rsplit(":", 1)[0]
    # Given the sidebar shows the registry's image
    open_sidebar(a_page, a_lab_server([registry.address]))
    a_page.click(f'{SIDEBAR} .jp-DeployRepository-row[data-name="{repository}"] '
                 ".jp-DeployRow-toggle")
    # When the user pulls it, then presses Cancel in the notification that follows it
    a_page.click(f'{SIDEBAR} [data-reference="{ref}"] button:has-text("Pull")')
    a_page.wait_for_selector(".Toastify__toast:has-text('layers')")  # progress has arrived
    screenshot(a_page, "sidebar-pull-progress")
    a_page.click(".Toastify__toast button:has-text('Cancel')")
    # Then the notification says it was cancelled, and the engine has no such image
    a_page.wait_for_selector(f".Toastify__toast:has-text('Pull of {ref} cancelled')",
                             timeout=30_000)
    screenshot(a_page, "sidebar-pull-cancelled")
    assert not images.exists(ref)
