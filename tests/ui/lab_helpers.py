"""What the browser tests share: where JupyterLab runs, how to open the sidebar, screenshots.

JupyterLab runs as its own process on a port reserved for this run (``tests/ports.py``: no other
run, nor another suite, gets it). Chromium is Debian's, driven by Playwright with the flags this
project's machines need; no browser is ever downloaded. Screenshots go to ``artifacts/``
(gitignored).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ports
import requests

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SIDEBAR_TAB = '.lm-TabBar-tab[data-id="jupyter-deploy-sidebar"]'
SIDEBAR = "#jupyter-deploy-sidebar"

# the registry helpers of the integration suite (filling a registry, tiny images)
sys.path.insert(0, str(ROOT / "tests" / "integration"))


def an_unused_port(*_old_range: int) -> int:
    """A loopback port nothing listens on, reserved for this run (a ``first, last`` is ignored)."""
    return ports.an_unused_port()


@dataclass
class LabServer:
    """A running JupyterLab: where it is, its token, and its process."""

    url: str
    token: str
    process: subprocess.Popen[bytes]
    log: Path

    def lab_url(self) -> str:
        return f"{self.url}lab?token={self.token}"

    def api(self, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(method, f"{self.url}{path}", json=body, timeout=30,
                                headers={"Authorization": f"token {self.token}"})

    def use_theme(self, theme: str) -> None:
        """Switch JupyterLab's theme through its settings API (this server's folder only)."""
        raw = json.dumps({"theme": theme})
        answer = self.api("PUT", "lab/api/settings/@jupyterlab/apputils-extension:themes",
                          {"raw": raw})
        answer.raise_for_status()


def wait_until_up(server: LabServer, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited:\n{server.log.read_text()[-3000:]}")
        try:
            if server.api("GET", "api/status").status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"JupyterLab did not answer in {timeout:.0f} s:\n"
                       f"{server.log.read_text()[-3000:]}")


def quiet_settings(folder: Path) -> None:
    """No news pop-up in the screenshots."""
    target = folder / "@jupyterlab" / "apputils-extension"
    target.mkdir(parents=True, exist_ok=True)
    (target / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )


def open_sidebar(page: Any, server: LabServer) -> None:
    """Load JupyterLab and open the Deploy sidebar."""
    page.goto(server.lab_url())
    page.wait_for_selector(SIDEBAR_TAB, timeout=90_000)
    if "lm-mod-current" not in (page.get_attribute(SIDEBAR_TAB, "class") or ""):
        page.click(SIDEBAR_TAB)
    page.wait_for_selector(f"{SIDEBAR} .jp-DeploySidebar-body", timeout=60_000)


def screenshot(page: Any, name: str) -> Path:
    """Save a PNG of the page under artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
