"""The widget panels as a user sees them: JupyterLab in Chromium runs the panels notebook.

A JupyterLab of this suite's own (ports 8900-8999, throw-away settings and root folder) opens a
copy of ``notebooks/widget-panels.ipynb`` with a service name of its own, runs every cell from
the Run menu, and waits for the panels to show their outcomes: the deploy panel's state, the
scoring panel's table, the services overview's row. Each panel is then saved as a PNG under
``artifacts/`` (gitignored) for a person to look at — and checked: its text, and pixels that are
not blank — and the service is removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ports
import pytest
import requests
from pictures import decode_png

from jupyter_deploy.engine.client import docker_client

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
PANELS = ("env", "deploy", "score", "services")
#: The least share of a panel's pixels that text, fields and buttons cover (2-25 % measured);
#: a blank panel has none.
MIN_INK = 0.01
#: Asked of JupyterLab's application (``window.jupyterapp``, exposed by
#: ``--LabApp.expose_app_in_browser``): is the notebook at ``path`` the current widget, with its
#: kernel connected, idle, and its info request answered (``kernel.info`` resolved, which this
#: remembers on the page)?
KERNEL_READY = """path => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.context || panel.context.path !== path) { return false; }
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel || kernel.connectionStatus !== 'connected' || kernel.status !== 'idle') {
    return false;
  }
  kernel.info.then(() => { window.jdKernelAnswered = kernel.id; });
  return window.jdKernelAnswered === kernel.id;
}"""


def an_unused_port(first: int = 8900, last: int = 8999) -> int:
    """A port in ``first..last`` that nothing listens on."""
    return ports.an_unused_port(first, last)


@dataclass
class Lab:
    """A running JupyterLab and the notebook it was given."""

    url: str
    token: str
    notebook: str
    service: str

    def notebook_url(self) -> str:
        return f"{self.url}lab/tree/{self.notebook}?token={self.token}"


def panels_notebook(folder: Path, service: str) -> str:
    """Copy the panels notebook into ``folder`` with ``service`` as its service name."""
    nb = json.loads((ROOT / "notebooks" / "widget-panels.ipynb").read_text())
    nb["cells"] = nb["cells"][:-2]  # keep the service for the screenshots; the test removes it
    score = '%%deploy_score panels-demo\n{"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]}'
    nb["cells"] += [_code_cell(c) for c in ("%deploy_ls", "%deploy_env panels_env", score)]
    text = json.dumps(nb).replace("panels-demo", service)
    (folder / "panels.ipynb").write_text(text)
    return "panels.ipynb"


def _code_cell(source: str) -> dict[str, Any]:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": source}


def _wait_until_up(url: str, token: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}api/status", timeout=5,
                            headers={"Authorization": f"token {token}"}).status_code == 200:
                return
        time.sleep(0.3)
    raise TimeoutError(f"JupyterLab did not answer in 90 s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def a_lab_with_the_panels_notebook(tmp_path: Path) -> Iterator[Lab]:
    service = f"jdui-panels-{uuid.uuid4().hex[:6]}"
    notebook = panels_notebook(tmp_path, service)
    settings = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port, token, log = an_unused_port(), secrets.token_hex(16), tmp_path / "jupyter.log"
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
               f"--port={port}", "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}",
               f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
               f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
               "--LabApp.expose_app_in_browser=True"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   env=dict(os.environ))
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, token, process, log)
        yield Lab(url, token, notebook, service)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        remove_service(service)


def remove_service(name: str) -> None:
    """Remove the service's container and the images built for it."""
    client = docker_client()
    with contextlib.suppress(Exception):
        client.containers.get(name).remove(force=True)
    for image in client.images.list(name=f"jupyter-deploy/{name}"):
        with contextlib.suppress(Exception):
            client.images.remove(image.id, force=True)


def run_all_cells(page: Any, notebook: str) -> None:
    """Run → Run All Cells, once, as a user would, when JupyterLab can run them.

    "Idle" in the status bar is only the kernel's last status. Run All Cells is disabled (and a
    click on it does nothing) until the notebook is the current widget, and requests made
    before the kernel has answered its info request may be sent before the kernel's channels
    are up (JupyterLab gives up waiting after 3 s) and lost. So wait for all of that in
    JupyterLab's own state, click once, and fail if the first code cell does not run.
    """
    from playwright.sync_api import expect

    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    page.wait_for_function(KERNEL_READY, arg=notebook, timeout=90_000)
    page.wait_for_selector(".jp-StatusBar-TextItem:has-text('| Idle')", timeout=30_000)
    page.click("li.lm-MenuBar-item:has-text('Run')")
    item = page.locator(".lm-Menu-item:not(.lm-mod-disabled)").filter(
        has=page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True))
    item.click(timeout=30_000)
    first = page.locator(".jp-Notebook .jp-CodeCell").first.locator(".jp-InputPrompt")
    expect(first).to_contain_text("[1]", timeout=60_000)


def assert_pictured(panel: Any, name: str, *texts: str) -> None:
    """Save ``panel`` as ``artifacts/<name>.png``; it must show each of ``texts`` and not be
    blank."""
    panel.scroll_into_view_if_needed()
    picture = decode_png(panel.screenshot(path=str(ARTIFACTS / f"{name}.png")))
    assert picture.ink() >= MIN_INK, (
        f"{name} looks blank: {picture.ink():.1%} of its pixels differ from its background")
    shown = str(panel.inner_text())
    for text in texts:
        assert text in shown, f"{name} does not show {text!r}:\n{shown}"


def shown_text(page: Any, selector: str, timeout: float = 15.0) -> str:
    """The text of the first match, once it is drawn: JupyterLab 4 skips rendering cells out
    of the viewport (their ``innerText`` is then empty), and draws a cell scrolled into view a
    frame or two later. Raises when it stays empty."""
    element = page.locator(selector).first
    deadline = time.monotonic() + timeout
    while True:
        element.scroll_into_view_if_needed()
        text = str(element.inner_text())
        if text.strip() or time.monotonic() > deadline:
            return text
        page.wait_for_timeout(100)


def test_each_panel_renders_in_jupyterlab(
    a_lab_with_the_panels_notebook: Lab, a_browser: Any
) -> None:
    lab = a_lab_with_the_panels_notebook
    page = a_browser.new_page()
    page.set_viewport_size({"width": 1280, "height": 1000})
    try:
        # Given the panels notebook open in JupyterLab
        page.goto(lab.notebook_url())
        # When every cell runs
        run_all_cells(page, lab.notebook)
        # Then the deploy panel reaches Healthy, the scoring panel shows its table and latency,
        # and the overview lists the service
        page.wait_for_selector(".jd-panel-deploy :text('Healthy')", timeout=300_000)
        page.wait_for_selector(".jd-panel-score table", timeout=120_000)
        page.wait_for_selector(f".jd-panel-services :text('{lab.service}')", timeout=60_000)
        assert "ms" in shown_text(page, ".jd-panel-score")
        assert "panels_env" in page.input_value(".jd-panel-env input[type='text']")
        # And each panel's picture shows its title and its outcome
        ARTIFACTS.mkdir(exist_ok=True)
        outcomes = {"env": ("Environment", "Private registry"),
                    "deploy": ("Deploy", "Healthy", "answers at http://127.0.0.1:"),
                    "score": ("Score", "answered 200"),
                    "services": ("Services", lab.service, "Healthy")}
        assert set(outcomes) == set(PANELS)
        for kind in PANELS:
            assert_pictured(page.locator(f".jd-panel-{kind}"), f"panel-{kind}", *outcomes[kind])
        # And the private registry's password is typed into a masked field and shown nowhere
        env_panel = page.locator(".jd-panel-env")
        env_panel.get_by_text("Private registry").click()
        env_panel.locator("input[type='password']").fill("ui-secret-pw")
        env_panel.screenshot(path=str(ARTIFACTS / "panel-env-private-registry.png"))
        # (the DOM's text, cells out of view included: a field's value is not part of it)
        assert "ui-secret-pw" not in str(page.text_content("body"))
        # And the magics' own outputs render as HTML tables
        for selector, name, text in ((".jd-table", "magic-deploy-ls", lab.service),
                                     (".jd-env", "magic-deploy-env", "panels_env"),
                                     (".jd-score", "magic-deploy-score", lab.service)):
            output = page.locator(f".jp-OutputArea-output:has({selector})").last
            assert_pictured(output, name, text)
        # When the user edits the sample in the browser and clicks Send
        page.locator(".jd-panel-score textarea").fill('{"data": [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1]]}')
        page.click(".jd-panel-score button:has-text('Send')")
        # Then the one-row answer (1 + 2 + … + 10) replaces the table
        page.wait_for_selector(".jd-panel-score table td:text-is('55.0')", timeout=60_000)
        page.locator(".jd-panel-score").screenshot(path=str(ARTIFACTS / "panel-score-sent.png"))
        assert "55.0" in shown_text(page, ".jd-panel-score")  # and it stays (no late clear)
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "panels-failed.png"), full_page=True)
        raise
    finally:
        page.close()
