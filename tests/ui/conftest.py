"""Fixtures of the browser tests: a real JupyterLab, Debian's Chromium, a real engine and registry.

JupyterLab runs as its own process on a port of this suite's range (8800-8849; registries take
8850-8899) with a token, a throw-away settings folder (so the dark theme or a workspace layout
never leaks into anyone's JupyterLab) and ``SidebarConfig.registries`` naming the test registry.
Chromium is the system one, driven by Playwright; no browser is ever downloaded. Screenshots go
to ``artifacts/`` at the repository root (gitignored).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
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

sys.path.insert(0, str(ROOT / "tests" / "integration"))


def an_unused_port(first: int, last: int) -> int:
    """A port in ``first..last`` that nothing listens on."""
    for port in range(first, last + 1):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}-{last}")


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


def _wait_until_up(server: LabServer, timeout: float = 90.0) -> None:
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


def _quiet_settings(folder: Path) -> None:
    """No news pop-up in the screenshots."""
    target = folder / "@jupyterlab" / "apputils-extension"
    target.mkdir(parents=True, exist_ok=True)
    (target / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )


@pytest.fixture
def a_lab_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., LabServer]]:
    """A factory: start JupyterLab showing ``registries``, with extra environment variables."""
    started: list[LabServer] = []

    def start(registries: list[str], env: Mapping[str, str] | None = None) -> LabServer:
        home = tmp_path_factory.mktemp("lab")
        settings = home / "settings"
        _quiet_settings(settings)
        port, token = an_unused_port(8800, 8849), secrets.token_hex(16)
        log = home / "jupyter.log"
        command = [
            sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
            f"--port={port}", "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={home}",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={home / 'workspaces'}",
            "--ServerApp.jpserver_extensions={'jupyter_deploy': True}",
            "--SidebarConfig.cache_seconds=1",
            *(f"--SidebarConfig.registries={address}" for address in registries),
        ]
        with log.open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                       env={**os.environ, **(env or {})})
        server = LabServer(f"http://127.0.0.1:{port}/", token, process, log)
        started.append(server)
        _wait_until_up(server)
        return server

    yield start
    for server in started:
        server.process.terminate()
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()


@pytest.fixture(scope="module")
def a_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Debian's Chromium under Playwright, with a fresh profile."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium")), executable_path=CHROMIUM,
            args=CHROMIUM_FLAGS, headless=True, viewport={"width": 1280, "height": 860},
        )
        yield context
        context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def a_page(a_browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A browser tab; a screenshot of it is kept in artifacts/ when the test fails."""
    page = a_browser.new_page()
    yield page
    if request.node.stash.get(_FAILED, False):
        screenshot(page, f"failed-{request.node.name}")
    page.close()


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
