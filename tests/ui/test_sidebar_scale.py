"""The sidebar with 1,000 repositories and 100 containers: first paint and refresh, measured.

The registry is filled through its own HTTP API (one shared layer, a manifest per repository);
the containers are the default base image running ``sleep``, labelled for clean-up. Times are
printed and written to ``artifacts/sidebar-scale.json``, not asserted (the issue's goal is under
2 s each; the numbers go in the report).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from lab_helpers import ARTIFACTS, SIDEBAR, SIDEBAR_TAB, LabServer, an_unused_port, screenshot
from registry_helpers import fill_registry

from jupyter_deploy.config import get_config
from jupyter_deploy.engine.client import docker_client
from jupyter_deploy.registry.client import RegistryClient
from jupyter_deploy.registry.local import LocalRegistry

pytestmark = pytest.mark.docker

REPOSITORIES = 1000
CONTAINERS = 100
PAGE = 100


@pytest.fixture(scope="module")
def a_registry_with_1000_repositories(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LocalRegistry]:
    registry = LocalRegistry(f"127.0.0.1:{an_unused_port(8850, 8899)}",
                             tmp_path_factory.mktemp("registry"))
    registry.start()
    names = [f"scale/repo-{i:04d}" for i in range(REPOSITORIES)]
    fill_registry(RegistryClient(registry.address), names, ["v1"])
    yield registry
    registry.stop()


@pytest.fixture(scope="module")
def a_hundred_containers(test_labels: dict[str, str]) -> Iterator[list[str]]:
    client = docker_client()
    prefix = f"jdscale-{test_labels['jupyter_deploy.test']}"

    def start(i: int) -> Any:
        return client.containers.run(get_config().default_base_image, ["sleep", "900"],
                                     name=f"{prefix}-{i:03d}", detach=True, labels=test_labels)

    with ThreadPoolExecutor(max_workers=4) as pool:
        started = list(pool.map(start, range(CONTAINERS)))
    yield [c.name for c in started]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda c: c.remove(force=True), started))


def rows(page: Any, kind: str) -> int:
    return int(page.eval_on_selector_all(f"{SIDEBAR} .jp-Deploy{kind}-row", "els => els.length"))


def wait_for_rows(page: Any, kind: str, count: int, timeout: float = 30_000) -> None:
    """Block until the sidebar draws ``count`` rows of ``kind``; fail if it does not in time."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            "([selector, count]) => document.querySelectorAll(selector).length === count",
            arg=[f"{SIDEBAR} .jp-Deploy{kind}-row", count], timeout=timeout)
    except PlaywrightTimeout:
        pytest.fail(f"the sidebar shows {rows(page, kind)} {kind} rows after "
                    f"{timeout / 1000:.0f} s, not {count}")


def refreshes(page: Any) -> int:
    return int(page.get_attribute(SIDEBAR, "data-refreshes") or 0)


def next_request(page: Any, prefix: str, timeout_ms: float) -> Any:
    """The next request whose URL starts with ``prefix`` within ``timeout_ms``, else None."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        return page.wait_for_event("request", lambda r: r.url.startswith(prefix),
                                   timeout=timeout_ms)
    except PlaywrightTimeout:
        return None


def test_first_paint_and_refresh_with_1000_repositories_and_100_containers(
    a_lab_server: Callable[..., LabServer], a_page: Any,
    a_registry_with_1000_repositories: LocalRegistry, a_hundred_containers: list[str],
) -> None:
    # Given a registry with 1,000 repositories and an engine with 100 more containers
    server = a_lab_server([a_registry_with_1000_repositories.address])
    calls: list[str] = []
    api = f"{server.url}jupyter-deploy/"
    a_page.on("request", lambda r: r.url.startswith(api) and calls.append(r.url))
    loading = time.perf_counter()
    a_page.goto(server.lab_url())
    a_page.wait_for_selector(SIDEBAR_TAB, timeout=90_000)
    a_page.wait_for_selector(".jp-Launcher", timeout=90_000)
    lab_loaded = time.perf_counter() - loading
    # Then the sidebar, never opened, asks the server for nothing for longer than an interval
    window_ms = int(a_page.get_attribute(SIDEBAR, "data-refresh-interval") or 0) + 2000
    assert window_ms > 2000, "the sidebar does not expose its refresh interval"
    polled = next_request(a_page, api, window_ms)
    assert polled is None and calls == [], f"the closed sidebar polled {calls}"
    # When the user opens the sidebar once JupyterLab has loaded: first paint is when both
    # long lists are drawn
    started = time.perf_counter()
    a_page.click(SIDEBAR_TAB)
    a_page.wait_for_function(
        f"""() => document.querySelectorAll('{SIDEBAR} .jp-DeployRepository-row').length
                  === {PAGE}
              && document.querySelectorAll('{SIDEBAR} .jp-DeployContainer-row').length
                  >= {PAGE}""", timeout=60_000)
    first_paint = time.perf_counter() - started
    # And presses refresh a few times, each once the server's 1 s listing cache has expired
    # (so each is a real refresh; this waits out a cache, it checks nothing)
    refresh_times = []
    for _ in range(3):
        a_page.wait_for_timeout(1100)
        before = refreshes(a_page)
        started = time.perf_counter()
        a_page.click(f"{SIDEBAR} .jp-DeploySidebar-refresh")
        a_page.wait_for_function(
            f"() => Number(document.querySelector('{SIDEBAR}').dataset.refreshes) > {before}"
            f" && !document.querySelector('{SIDEBAR} .jp-DeploySidebar-refresh').disabled",
            timeout=60_000)
        refresh_times.append(time.perf_counter() - started)
    # Then the lists are paged, the counts are complete, and the filter finds any repository
    assert rows(a_page, "Repository") == PAGE
    counts = a_page.eval_on_selector_all(f"{SIDEBAR} .jp-DeploySection-count",
                                         "els => els.map(e => Number(e.textContent))")
    assert REPOSITORIES in counts
    a_page.fill(f"{SIDEBAR} .jp-DeploySidebar-search", "repo-0999")
    wait_for_rows(a_page, "Repository", 1)
    a_page.fill(f"{SIDEBAR} .jp-DeploySidebar-search", "")
    wait_for_rows(a_page, "Repository", PAGE)
    a_page.click(f"{SIDEBAR} .jp-DeploySection-registry .jp-DeployList-more")
    wait_for_rows(a_page, "Repository", 2 * PAGE)
    screenshot(a_page, "sidebar-scale")
    # And while it is open it polls: a refresh (which starts by asking for the settings) comes
    # within the same window, so that window is long enough to see one
    assert next_request(a_page, f"{api}settings", window_ms) is not None, (
        f"the open sidebar did not poll within {window_ms} ms")
    # When the sidebar is closed again, and the refreshes it had begun have all finished
    a_page.click(SIDEBAR_TAB)
    a_page.wait_for_selector(SIDEBAR, state="hidden")
    begun = sum(url == f"{api}settings" for url in calls)
    a_page.wait_for_function(
        "([selector, begun]) => Number(document.querySelector(selector).dataset.refreshes)"
        " >= begun", arg=[SIDEBAR, begun], timeout=60_000)
    # Then it asks the server for nothing during the same window
    polled = next_request(a_page, api, window_ms)
    assert polled is None, f"the closed sidebar polled {polled.url}"
    result = {
        "repositories": REPOSITORIES, "containers_added": CONTAINERS,
        "jupyterlab_load_s": round(lab_loaded, 3),
        "first_paint_s": round(first_paint, 3),
        "refresh_s": [round(t, 3) for t in refresh_times],
        "refresh_median_s": round(statistics.median(refresh_times), 3),
        "model_last_refresh_ms": int(a_page.get_attribute(SIDEBAR, "data-last-refresh-ms") or 0),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "sidebar-scale.json").write_text(json.dumps(result, indent=2))
    print("sidebar scale:", json.dumps(result))
