"""The sidebar's Base images section in a real JupyterLab, in Chromium, over the real engine.

What a user sees: the seeds' prebuilt inference images (minimal, ONNX Runtime for CPU and CUDA)
with built or not and a size, a GPU badge on the CUDA one, and the images that cannot be had
with what to use instead; copying a row puts the ``env.docker.base_image = …`` line naming the
seeds' image into the clipboard. Screenshots go to ``artifacts/``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from lab_helpers import SIDEBAR, LabServer, open_sidebar, screenshot

from jupyter_deploy.engine import prebuilt
from jupyter_deploy.spec.base_catalog import entry

pytestmark = pytest.mark.docker
ORT = "mcr.microsoft.com/azureml/onnxruntime"


def test_the_base_images_section_offers_the_seeds_images(
    a_lab_server: Callable[..., LabServer], a_page: Any, a_browser: Any,
) -> None:
    # Given the ONNX Runtime base built (once per machine), and clipboard access for the page
    prebuilt.ensure(entry("onnxruntime"))
    server = a_lab_server([])
    a_browser.grant_permissions(["clipboard-read", "clipboard-write"],
                                origin=server.url.rstrip("/"))
    # When the user opens the sidebar
    open_sidebar(a_page, server)
    row = f'{SIDEBAR} .jp-DeployBaseImage-row[data-name="onnxruntime"]'
    a_page.wait_for_selector(f'{row}[data-built="true"]', timeout=60_000)
    a_page.locator(f"{SIDEBAR} .jp-DeploySection-base-images").scroll_into_view_if_needed()
    # Then each catalogue entry shows, the ONNX Runtime one built with its size and seeds' name
    names = a_page.eval_on_selector_all(f"{SIDEBAR} .jp-DeployBaseImage-row",
                                        "rows => rows.map(r => r.dataset.name)")
    assert names == ["minimal", "onnxruntime", "onnxruntime-cuda"]
    detail = a_page.inner_text(f"{row} .jp-DeployRow-detail")
    assert detail.startswith("built · ") and detail.endswith(" MB · for azureml/onnxruntime:latest")
    cuda = f'{SIDEBAR} .jp-DeployBaseImage-row[data-name="onnxruntime-cuda"]'
    assert a_page.inner_text(f"{cuda} .jp-DeployBadge") == "GPU"
    # And the images that cannot be had say what to use instead
    unavailable = a_page.inner_text(f"{SIDEBAR} .jp-DeployBaseImage-unavailable >> nth=0")
    assert "onnxruntime:latest-tensorrt" in unavailable and "unavailable" in unavailable
    assert f"Use {ORT}:latest-cuda" in unavailable
    screenshot(a_page, "sidebar-base-images")
    # When the user copies the ONNX Runtime row
    a_page.evaluate("navigator.clipboard.writeText('nothing yet')")
    a_page.hover(row)
    a_page.click(f"{row} .jp-DeployRow-copy-base-image")
    # Then the clipboard holds the line that names the seeds' image
    line = f'env.docker.base_image = "{ORT}:latest"'
    a_page.wait_for_function("expected => navigator.clipboard.readText().then(t => "
                             "t === expected)", arg=line, timeout=15_000, polling=200)
