"""The Deploy sidebar in a real JupyterLab, in Chromium, against the real engine and a registry.

What a user sees: a pushed image under its registry, a running service marked as ours, stopping
it from the sidebar (after confirming) stops the container, and a clear error when the engine
does not answer. Screenshots in the light and dark themes go to ``artifacts/``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker.errors
import pytest
from lab_helpers import SIDEBAR, LabServer, an_unused_port, open_sidebar, screenshot
from registry_helpers import push_tiny_image, running_registry

from jupyter_deploy.config import get_config
from jupyter_deploy.engine import images
from jupyter_deploy.engine.client import docker_client
from jupyter_deploy.registry.local import LocalRegistry

pytestmark = pytest.mark.docker

REPOSITORY = "sidebar/pushed"


@pytest.fixture(scope="module")
def a_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    with running_registry(tmp_path_factory.mktemp("registry"),
                          port=an_unused_port(8850, 8899)) as registry:
        yield registry


@pytest.fixture(scope="module")
def a_pushed_image(
    a_registry: LocalRegistry, tmp_path_factory: pytest.TempPathFactory,
    test_labels: dict[str, str],
) -> str:
    return push_tiny_image(a_registry, f"{REPOSITORY}:v1", tmp_path_factory.mktemp("tiny"),
                           test_labels)


@pytest.fixture
def a_running_service(a_service_name: str, test_labels: dict[str, str]) -> Iterator[Any]:
    """A container labelled as one of our services (the base image, sleeping)."""
    container = docker_client().containers.run(
        get_config().default_base_image, ["sh", "-c", "echo hello-from-the-log; sleep 600"],
        name=a_service_name, detach=True,
        ports={"5001/tcp": ("127.0.0.1", None)},
        labels={**test_labels, "jupyter_deploy.managed": "true",
                "jupyter_deploy.service": a_service_name},
    )
    yield container
    with contextlib.suppress(docker.errors.NotFound):
        container.remove(force=True)


def wait_for_engine_state(container: Any, state: str, timeout: float = 30.0) -> None:
    """Block until the engine reports ``state``; raise if it does not in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        container.reload()
        if container.status == state:
            return
        time.sleep(0.2)
    raise TimeoutError(f"{container.name} is {container.status}, not {state}, after {timeout} s")


def collapse_local_images(page: Any) -> None:
    """Fold the (long, shared) local image list so a screenshot shows the registry too."""
    page.click(f"{SIDEBAR} .jp-DeploySection-images .jp-DeploySection-title")


def test_the_sidebar_lists_a_pushed_image_and_a_running_service(
    a_lab_server: Callable[..., LabServer], a_page: Any, a_registry: LocalRegistry,
    a_pushed_image: str, a_running_service: Any,
) -> None:
    # Given an image in the registry and one of our services running
    server = a_lab_server([a_registry.address])
    # When the user opens the sidebar
    open_sidebar(a_page, server)
    row = a_page.wait_for_selector(
        f'{SIDEBAR} .jp-DeployContainer-row[data-name="{a_running_service.name}"]')
    # Then the service is there, running and marked as ours
    assert row.get_attribute("data-state") == "running"
    assert row.query_selector(".jp-DeployBadge").inner_text() == "service"
    # And opening the repository shows the pushed tag, loaded on demand
    a_page.click(f'{SIDEBAR} .jp-DeployRepository-row[data-name="{REPOSITORY}"] '
                 ".jp-DeployRow-toggle")
    tag = a_page.wait_for_selector(f'{SIDEBAR} [data-reference="{a_pushed_image}"]')
    assert ":v1" in tag.inner_text()
    collapse_local_images(a_page)
    screenshot(a_page, "sidebar-light")
    # And in the dark theme it shows the same
    server.use_theme("JupyterLab Dark")
    open_sidebar(a_page, server)
    a_page.wait_for_selector(
        f'{SIDEBAR} .jp-DeployContainer-row[data-name="{a_running_service.name}"]')
    a_page.wait_for_function("document.body.dataset.jpThemeLight === 'false'")
    a_page.click(f'{SIDEBAR} .jp-DeployRepository-row[data-name="{REPOSITORY}"] '
                 ".jp-DeployRow-toggle")
    a_page.wait_for_selector(f'{SIDEBAR} [data-reference="{a_pushed_image}"]')
    collapse_local_images(a_page)
    screenshot(a_page, "sidebar-dark")


def test_stopping_a_service_from_the_sidebar_stops_its_container(
    a_lab_server: Callable[..., LabServer], a_page: Any, a_registry: LocalRegistry,
    a_running_service: Any,
) -> None:
    # Given the sidebar shows a running service
    server = a_lab_server([a_registry.address])
    open_sidebar(a_page, server)
    row = f'{SIDEBAR} .jp-DeployContainer-row[data-name="{a_running_service.name}"]'
    a_page.wait_for_selector(f'{row}[data-state="running"]')
    # When the user presses Stop and confirms
    a_page.click(f"{row} .jp-DeployRow-stop")
    dialog = a_page.wait_for_selector(".jp-Dialog")
    screenshot(a_page, "sidebar-confirm-stop")
    dialog.query_selector("button.jp-mod-accept").click()
    # Then the engine stops the container and the sidebar shows it stopped
    wait_for_engine_state(a_running_service, "exited")
    a_page.wait_for_selector(f'{row}[data-state="exited"]', timeout=30_000)


def test_the_error_state_says_how_to_start_the_engine(
    a_lab_server: Callable[..., LabServer], a_page: Any, a_registry: LocalRegistry,
    tmp_path: Path,
) -> None:
    # Given a Jupyter server whose engine does not answer
    server = a_lab_server([a_registry.address],
                          env={"DOCKER_HOST": f"unix://{tmp_path}/nonexistent.sock"})
    # When the user opens the sidebar
    open_sidebar(a_page, server)
    alert = a_page.wait_for_selector(f"{SIDEBAR} .jp-DeploySidebar-error[role=alert]")
    # Then it says the engine is not reachable and how to start one; registries still show
    text = alert.inner_text()
    assert "Docker engine not reachable" in text
    assert "jupyter-deploy setup" in text
    a_page.wait_for_selector(f"{SIDEBAR} .jp-DeploySection-registry")
    screenshot(a_page, "sidebar-engine-down")


def test_logs_pull_and_palette_commands(
    a_lab_server: Callable[..., LabServer], a_page: Any, a_registry: LocalRegistry,
    a_pushed_image: str, a_running_service: Any,
) -> None:
    # Given the sidebar shows a running service and the pushed image is not in the engine
    docker_client().images.remove(a_pushed_image, force=True)
    server = a_lab_server([a_registry.address])
    open_sidebar(a_page, server)
    row = f'{SIDEBAR} .jp-DeployContainer-row[data-name="{a_running_service.name}"]'
    # When the user opens the service's logs
    a_page.click(f"{row} button:has-text('Logs')")
    # Then a log viewer opens in the main area with what the container printed
    log = a_page.wait_for_selector(".jp-DeployLogs pre:has-text('hello-from-the-log')")
    assert "hello-from-the-log" in log.inner_text()
    screenshot(a_page, "sidebar-logs")
    # When the user pulls the pushed tag from the registry section
    a_page.click(f'{SIDEBAR} .jp-DeployRepository-row[data-name="{REPOSITORY}"] '
                 ".jp-DeployRow-toggle")
    a_page.click(f'{SIDEBAR} [data-reference="{a_pushed_image}"] button:has-text("Pull")')
    # Then the engine has the image again and the local image list shows it
    a_page.wait_for_selector(f"{SIDEBAR} .jp-DeployImage-row:has-text('{REPOSITORY}:v1')",
                             timeout=60_000)
    assert images.exists(a_pushed_image)
    # And the palette offers the sidebar's commands
    a_page.keyboard.press("Control+Shift+C")
    a_page.fill(".jp-mod-left .lm-CommandPalette-input, .lm-CommandPalette-input", "Deploy:")
    labels = a_page.eval_on_selector_all(
        ".lm-CommandPalette-item .lm-CommandPalette-itemLabel", "els => els.map(e => e.innerText)")
    assert "Deploy: Refresh Images and Containers" in labels
    assert "Deploy: Pull an Image…" in labels


def test_the_refresh_interval_is_a_user_setting(
    a_lab_server: Callable[..., LabServer], a_page: Any, a_registry: LocalRegistry,
) -> None:
    # Given JupyterLab with the sidebar's settings untouched
    server = a_lab_server([a_registry.address])
    # Then the settings editor knows the setting, and the sidebar refreshes every 5 s
    schema = server.api("GET", "lab/api/settings/jupyter-deploy:sidebar").json()["schema"]
    assert schema["properties"]["refreshInterval"]["default"] == 5
    open_sidebar(a_page, server)
    a_page.wait_for_selector(f'{SIDEBAR}[data-refresh-interval="5000"]')
    # When the user sets 30 seconds (as the Settings Editor saves it)
    answer = server.api("PUT", "lab/api/settings/jupyter-deploy:sidebar",
                        {"raw": '{"refreshInterval": 30}'})
    answer.raise_for_status()
    # Then the sidebar uses it
    open_sidebar(a_page, server)
    a_page.wait_for_selector(f'{SIDEBAR}[data-refresh-interval="30000"]')
    # And a value out of range is refused by the schema
    assert server.api("PUT", "lab/api/settings/jupyter-deploy:sidebar",
                      {"raw": '{"refreshInterval": 0}'}).status_code == 400
