"""The widget panels as a user sees them: JupyterLab in Chromium runs the panels notebook.

A JupyterLab of this suite's own (ports 8900-8999, throw-away settings and root folder) opens a
copy of ``notebooks/widget-panels.ipynb`` with a service name of its own, runs every cell from
the Run menu, and waits for the panels to show their outcomes: the deploy panel's state, the
scoring panel's table, the services overview's row. Each panel is then saved as a PNG under
``artifacts/`` (gitignored) for a person to look at, and the service is removed.
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

from jupyter_deploy.engine.client import docker_client

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
PANELS = ("env", "deploy", "score", "services")


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
               f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}"]
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


def run_all_cells(page: Any, attempts: int = 3) -> None:
    """Run → Run All Cells, as a user would, once the kernel answers.

    A kernel whose first websocket failed may show "Idle" yet drop the request, so the click
    is repeated (at most ``attempts`` times) until the first code cell has run.
    """
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    for attempt in range(attempts):
        page.wait_for_selector(".jp-StatusBar-TextItem:has-text('| Idle')", timeout=90_000)
        page.click("li.lm-MenuBar-item:has-text('Run')")
        page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()
        try:
            page.wait_for_selector(".jp-InputPrompt:has-text('[1]')", timeout=30_000)
            return
        except Exception:
            if attempt == attempts - 1:
                raise


def shown_text(page: Any, selector: str) -> str:
    """The text of the first match, scrolled into view first: JupyterLab 4 skips rendering
    cells out of the viewport, and their ``innerText`` is then empty."""
    element = page.locator(selector).first
    element.scroll_into_view_if_needed()
    return str(element.inner_text())


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
        run_all_cells(page)
        # Then the deploy panel reaches Healthy, the scoring panel shows its table and latency,
        # and the overview lists the service
        page.wait_for_selector(".jd-panel-deploy :text('Healthy')", timeout=300_000)
        page.wait_for_selector(".jd-panel-score table", timeout=120_000)
        page.wait_for_selector(f".jd-panel-services :text('{lab.service}')", timeout=60_000)
        assert "ms" in shown_text(page, ".jd-panel-score")
        assert "panels_env" in page.input_value(".jd-panel-env input[type='text']")
        # And each panel is saved as a picture
        ARTIFACTS.mkdir(exist_ok=True)
        for kind in PANELS:
            panel = page.locator(f".jd-panel-{kind}")
            panel.scroll_into_view_if_needed()
            panel.screenshot(path=str(ARTIFACTS / f"panel-{kind}.png"))
            assert (ARTIFACTS / f"panel-{kind}.png").stat().st_size > 1000
        # And the private registry's password is typed into a masked field and shown nowhere
        env_panel = page.locator(".jd-panel-env")
        env_panel.get_by_text("Private registry").click()
        env_panel.locator("input[type='password']").fill("ui-secret-pw")
        env_panel.screenshot(path=str(ARTIFACTS / "panel-env-private-registry.png"))
        # (the DOM's text, cells out of view included: a field's value is not part of it)
        assert "ui-secret-pw" not in str(page.text_content("body"))
        # And the magics' own outputs render as HTML tables
        for selector, name in ((".jd-table", "magic-deploy-ls"), (".jd-env", "magic-deploy-env"),
                               (".jd-score", "magic-deploy-score")):
            output = page.locator(f".jp-OutputArea-output:has({selector})").last
            output.scroll_into_view_if_needed()
            output.screenshot(path=str(ARTIFACTS / f"{name}.png"))
        assert lab.service in shown_text(page, ".jp-OutputArea-output:has(.jd-table)")
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
