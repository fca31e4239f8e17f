"""Stopping a container jupyter_deploy did not make asks twice, the second time naming it as not
ours; cancelling leaves it running (JupyterLab in Chromium, the real engine)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from lab_helpers import SIDEBAR, LabServer, open_sidebar, screenshot

pytestmark = pytest.mark.docker


def _dialog_text(page: Any) -> str:
    return str(page.wait_for_selector(".jp-Dialog").inner_text())


def _press(page: Any, label: str) -> None:
    """Press ``label`` in the open dialog and wait until that dialog (not a next one) is gone."""
    dialog = page.wait_for_selector(".jp-Dialog")
    dialog.query_selector(f'button:has-text("{label}")').click()
    dialog.wait_for_element_state("hidden")


def test_stopping_a_container_not_ours_asks_a_second_time(
    a_lab_server: Callable[..., LabServer], a_page: Any, a_foreign_container: Any,
) -> None:
    # Given the sidebar lists a running container that jupyter_deploy did not make
    posted: list[str] = []
    a_page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    open_sidebar(a_page, a_lab_server([]))
    name = a_foreign_container.name
    row = f'{SIDEBAR} .jp-DeployContainer-row[data-name="{name}"]'
    a_page.wait_for_selector(f'{row}[data-state="running"]', timeout=30_000)
    # When the user presses Stop (its icon shows on hover) and confirms once
    a_page.hover(row)
    a_page.click(f"{row} .jp-DeployRow-stop")
    assert name in _dialog_text(a_page)
    _press(a_page, "Stop")
    # Then a second question names it as not ours; cancelling leaves it running
    second = _dialog_text(a_page)
    screenshot(a_page, "sidebar-confirm-not-ours")
    assert f"{name} is not ours" in second and "not made by jupyter_deploy" in second
    _press(a_page, "Cancel")
    # (the request would leave as the dialog closes: none did)
    assert not [url for url in posted if f"/containers/{name}/" in url]
    a_foreign_container.reload()
    assert a_foreign_container.status == "running"
    # When the user confirms both times, it stops
    a_page.hover(row)
    a_page.click(f"{row} .jp-DeployRow-stop")
    _press(a_page, "Stop")
    _press(a_page, "Stop anyway")
    a_page.wait_for_selector(f'{row}[data-state="exited"]', timeout=30_000)
    a_foreign_container.reload()
    assert a_foreign_container.status == "exited"


def test_a_row_is_one_line_with_its_actions_on_hover_and_in_a_context_menu(
    a_lab_server: Callable[..., LabServer], a_page: Any, a_foreign_container: Any,
) -> None:
    # Given the sidebar lists a running container
    open_sidebar(a_page, a_lab_server([]))
    row = f'{SIDEBAR} .jp-DeployContainer-row[data-name="{a_foreign_container.name}"]'
    line = a_page.wait_for_selector(f'{row}[data-state="running"]', timeout=30_000)
    # Then it is one line, with no buttons showing until it is hovered
    assert line.bounding_box()["height"] < 32
    assert not a_page.is_visible(f"{row} .jp-DeployRow-stop")
    a_page.hover(row)
    assert a_page.is_visible(f"{row} .jp-DeployRow-stop")
    screenshot(a_page, "sidebar-row-hover")
    # When it is right-clicked, a menu offers every action
    line.click(button="right")
    menu = a_page.wait_for_selector(".jp-DeployMenu")
    labels = [item.inner_text() for item in menu.query_selector_all(".lm-Menu-itemLabel")
              if item.is_visible()]
    screenshot(a_page, "sidebar-context-menu")
    assert labels == ["Show Logs", "Memory and CPU", "Restart…", "Stop…", "Remove…"]
    a_page.keyboard.press("Escape")
