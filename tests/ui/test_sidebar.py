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
from pictures import Picture, decode_png
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


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Block until ``condition()`` holds; raise if it does not in time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} after {timeout:.0f} s")
        time.sleep(0.2)


def wait_for_engine_state(container: Any, state: str, timeout: float = 30.0) -> None:
    """Block until the engine reports ``state``; raise if it does not in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        container.reload()
        if container.status == state:
            return
        time.sleep(0.2)
    raise TimeoutError(f"{container.name} is {container.status}, not {state}, after {timeout} s")


#: The least share of the sidebar's pixels that text, icons and borders cover when it lists a
#: service and a registry (about 5 % measured); a blank or unstyled sidebar has none.
MIN_INK = 0.02


def collapse_local_images(page: Any) -> None:
    """Fold the (long, shared) local image list so a screenshot shows the registry too."""
    page.click(f"{SIDEBAR} .jp-DeploySection-images .jp-DeploySection-title")


def picture_of_the_sidebar(page: Any) -> Picture:
    """What the sidebar shows, as pixels."""
    return decode_png(page.locator(SIDEBAR).screenshot())


def assert_the_sidebar_shows(page: Any, *texts: str) -> str:
    """Each of ``texts`` is in the sidebar's rendered text (what a user can read), and the
    sidebar's pixels are not blank; returns that text."""
    shown = str(page.locator(SIDEBAR).inner_text())
    for text in texts:
        assert text in shown, f"the sidebar does not show {text!r}:\n{shown}"
    picture = picture_of_the_sidebar(page)
    assert picture.ink() >= MIN_INK, (
        f"the sidebar looks blank: {picture.ink():.1%} of its pixels differ from its "
        f"background {picture.background}")
    return shown


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
    # And the picture of it shows them, dark on a light background
    shown = [a_running_service.name, "service", f"Registry {a_registry.address}", REPOSITORY,
             ":v1"]
    assert_the_sidebar_shows(a_page, *shown)
    assert picture_of_the_sidebar(a_page).background_luma > 200
    # And in the dark theme it shows the same, light on a dark background
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
    assert_the_sidebar_shows(a_page, *shown)
    assert picture_of_the_sidebar(a_page).background_luma < 80


def test_stopping_a_service_from_the_sidebar_stops_its_container(
    a_lab_server: Callable[..., LabServer], a_page: Any, a_registry: LocalRegistry,
    a_running_service: Any,
) -> None:
    # Given the sidebar shows a running service
    server = a_lab_server([a_registry.address])
    open_sidebar(a_page, server)
    row = f'{SIDEBAR} .jp-DeployContainer-row[data-name="{a_running_service.name}"]'
    a_page.wait_for_selector(f'{row}[data-state="running"]')
    # When the user presses Stop (its icon shows on hover) and confirms
    a_page.hover(row)
    a_page.click(f"{row} .jp-DeployRow-stop")
    dialog = a_page.wait_for_selector(".jp-Dialog")
    screenshot(a_page, "sidebar-confirm-stop")
    assert a_running_service.name in dialog.inner_text()
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
    assert_the_sidebar_shows(a_page, "Docker engine not reachable",
                             f"Registry {a_registry.address}")


def test_logs_pull_and_palette_commands(
    a_lab_server: Callable[..., LabServer], a_page: Any, a_registry: LocalRegistry,
    a_pushed_image: str, a_running_service: Any,
) -> None:
    # Given the sidebar shows a running service and the pushed image is not in the engine
    docker_client().images.remove(a_pushed_image, force=True)
    server = a_lab_server([a_registry.address])
    open_sidebar(a_page, server)
    row = f'{SIDEBAR} .jp-DeployContainer-row[data-name="{a_running_service.name}"]'
    # When the user opens the service's logs (the icon shows on hover)
    a_page.hover(row)
    a_page.click(f"{row} .jp-DeployRow-logs")
    # Then a log viewer opens in the main area with what the container printed
    log = a_page.wait_for_selector(".jp-DeployLogs pre:has-text('hello-from-the-log')")
    assert "hello-from-the-log" in log.inner_text()
    screenshot(a_page, "sidebar-logs")
    # When the user pulls the pushed tag from the registry section
    a_page.click(f'{SIDEBAR} .jp-DeployRepository-row[data-name="{REPOSITORY}"] '
                 ".jp-DeployRow-toggle")
    a_page.click(f'{SIDEBAR} [data-reference="{a_pushed_image}"] button:has-text("Pull")')
    # Then the engine has the image again, and the local image list shows it (found by its
    # full reference: other registries' copies of the same tiny image may be listed too)
    wait_for(lambda: images.exists(a_pushed_image), f"{a_pushed_image} in the engine")
    a_page.fill(f"{SIDEBAR} .jp-DeploySidebar-search", a_pushed_image)
    a_page.wait_for_selector(f"{SIDEBAR} .jp-DeployImage-row", timeout=30_000)
    a_page.fill(f"{SIDEBAR} .jp-DeploySidebar-search", "")
    # And the palette, opened from the log viewer, offers the sidebar's commands
    a_page.click(".jp-DeployLogs pre")
    a_page.keyboard.press("Control+Shift+C")
    palette = a_page.wait_for_selector(".lm-CommandPalette-input", state="visible",
                                       timeout=10_000)
    palette.fill("Deploy:")
    a_page.wait_for_function(
        """labels => {
             const shown = [...document.querySelectorAll('.lm-CommandPalette-itemLabel')]
               .map(e => e.innerText);
             return labels.every(label => shown.includes(label));
           }""",
        arg=["Deploy: Refresh Images and Containers", "Deploy: Pull an Image…"], timeout=10_000)


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
