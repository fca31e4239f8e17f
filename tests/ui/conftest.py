"""Fixtures of the browser tests: a real JupyterLab, Debian's Chromium, a real engine and registry.

JupyterLab runs as its own process on a port reserved for this run (``tests/ports.py``), with a
token, a throw-away settings folder (so the dark theme or a workspace layout never leaks into
anyone's JupyterLab) and ``DeployConfig.sidebar_registries`` naming the test registry. Chromium
is the system one, driven by Playwright; no browser is ever downloaded. Screenshots go to
``artifacts/`` at the repository root (gitignored).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from lab_helpers import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    LabServer,
    an_unused_port,
    quiet_settings,
    screenshot,
    wait_until_up,
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
        quiet_settings(settings)
        port, token = an_unused_port(), secrets.token_hex(16)
        log = home / "jupyter.log"
        command = [
            sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
            f"--port={port}", "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={home}",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={home / 'workspaces'}",
            "--ServerApp.jpserver_extensions={'jupyter_deploy': True}",
            "--DeployConfig.listing_cache_seconds=1",
            *(f"--DeployConfig.sidebar_registries={address}" for address in registries),
        ]
        with log.open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                       env={**os.environ, **(env or {})})
        server = LabServer(f"http://127.0.0.1:{port}/", token, process, log)
        started.append(server)
        wait_until_up(server)
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


