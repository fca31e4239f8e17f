"""The sidebar's Services section in a real JupyterLab, in Chromium, over a real Swarm service.

One service (2 replicas, keys on) serves the module. What a user sees: the service with its
target, ``2/2`` replicas and a lock; on hover, scale / copy key / copy snippet; copying the key
puts the real key into the clipboard (the browser context is granted clipboard access) while
the page only ever shows its mask; the widget panels' Copy button does the same through the
same route; the swarm's task containers and load balancer fold into one line of the container
list; scaling from the sidebar reaches swarm. Screenshots go to ``artifacts/``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lab_helpers import SIDEBAR, LabServer, open_sidebar, screenshot
from runs import RUN_ID
from samples import write_score_py

import jupyter_deploy as jd
from jupyter_deploy.notebook.display import KeysView, mask
from jupyter_deploy.services.deployment import Deployment
from jupyter_deploy.spec.cluster import ClusterConfig
from jupyter_deploy.targets.swarm import SwarmTarget

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def a_swarm_service(
    a_swarm: None, tmp_path_factory: pytest.TempPathFactory, test_labels: dict[str, str]
) -> Iterator[Deployment]:
    """A Swarm service with 2 replicas and keys."""
    service = jd.deploy(f"jdui-{RUN_ID}", write_score_py(tmp_path_factory.mktemp("svc"), "1.0"),
                        labels=test_labels, target=SwarmTarget(),
                        deployment_config=ClusterConfig(replicas=2, auth_enabled=True))
    yield service
    service.remove()


def clipboard(page: Any) -> str:
    return str(page.evaluate("navigator.clipboard.readText()"))


def wait_for_clipboard(page: Any, expected: str, what: str) -> None:
    """Block until the clipboard holds ``expected``; fail naming ``what`` if it does not."""
    try:
        page.wait_for_function("expected => navigator.clipboard.readText().then(t => "
                               "t === expected)", arg=expected, timeout=15_000, polling=200)
    except Exception:  # Playwright's timeout: say what was not copied
        pytest.fail(f"{what} did not reach the clipboard (it holds {clipboard(page)[:40]!r})")


def the_page_never_shows(page: Any, *keys: str) -> None:
    """No key is in the page's HTML, nor in what a user can read."""
    content = page.content() + page.inner_text("body")
    for key in keys:
        assert key not in content, "a key is on the page"


def test_services_show_replicas_and_copy_keys_masked(
    a_lab_server: Callable[..., LabServer], a_page: Any, a_browser: Any,
    a_swarm_service: Deployment, tmp_path: Path,
) -> None:
    primary, secondary = a_swarm_service.get_keys()
    # Given JupyterLab with clipboard access granted to its page
    server = a_lab_server([])
    a_browser.grant_permissions(["clipboard-read", "clipboard-write"],
                                origin=server.url.rstrip("/"))
    # When the user opens the sidebar
    open_sidebar(a_page, server)
    row = f'{SIDEBAR} .jp-DeployService-row[data-name="{a_swarm_service.name}"]'
    a_page.wait_for_selector(f"{row} .jp-DeployService-replicas:text-is('2/2')", timeout=60_000)
    # Then the service shows on swarm, healthy, with 2 of 2 replicas and a lock
    assert a_page.get_attribute(row, "data-state") == "Healthy"
    assert a_page.inner_text(f"{row} .jp-DeployService-target") == "swarm"
    assert a_page.is_visible(f"{row} .jp-DeployService-lock")
    # And hovering shows its actions
    assert not a_page.is_visible(f"{row} .jp-DeployRow-copy-key")
    a_page.hover(row)
    for action in ("scale", "copy-key", "snippet"):
        assert a_page.is_visible(f"{row} .jp-DeployRow-{action}"), action
    screenshot(a_page, "sidebar-services")

    # When the user copies the primary key
    a_page.evaluate("navigator.clipboard.writeText('nothing yet')")
    a_page.click(f"{row} .jp-DeployRow-copy-key")
    # Then the clipboard holds the key, and the page says so with the mask only
    wait_for_clipboard(a_page, primary, "the primary key")
    a_page.wait_for_selector(f"text={mask(primary)}")
    the_page_never_shows(a_page, primary, secondary)

    # When the user copies the scoring snippet
    a_page.hover(row)
    a_page.click(f"{row} .jp-DeployRow-snippet")
    # Then it scores the service by name, and holds no key (the handle sends it)
    wait_for_clipboard(a_page, a_swarm_service_snippet(a_swarm_service), "the snippet")

    # When a panel's Copy button (what %deploy_panel services shows) is pressed on this page
    keys_html = KeysView.of(a_swarm_service.name, (primary, secondary)).html()
    a_page.evaluate("html => { const d = document.createElement('div'); d.id = 'jd-keys-test';"
                    " d.style = 'position: fixed; top: 40px; right: 10px; z-index: 10000;"
                    " background: white'; d.innerHTML = html; document.body.appendChild(d); }",
                    keys_html)
    a_page.click("#jd-keys-test .jd-copy-key[data-key=secondary]")
    # Then the secondary key, fetched by the page from the server, is in the clipboard only
    wait_for_clipboard(a_page, secondary, "the secondary key (from the panel's button)")
    a_page.wait_for_selector("#jd-keys-test .jd-copy-note:text-is('copied')")
    the_page_never_shows(a_page, primary, secondary)
    a_page.evaluate("document.getElementById('jd-keys-test').remove()")


def a_swarm_service_snippet(service: Deployment) -> str:
    from jupyter_deploy.serverext.manager import scoring_snippet

    return scoring_snippet(service.name)


def test_swarm_containers_fold_under_their_service_and_scale_reaches_swarm(
    a_lab_server: Callable[..., LabServer], a_page: Any, a_swarm_service: Deployment,
) -> None:
    # Given the sidebar open
    server = a_lab_server([])
    open_sidebar(a_page, server)
    name = a_swarm_service.name
    group = f'{SIDEBAR} .jp-DeploySwarmGroup-row[data-name="{name}"]'
    a_page.wait_for_selector(group, timeout=60_000)
    # Then its replica containers and load balancer are one closed line, not three rows
    assert "2/2 running" in a_page.inner_text(group)
    assert a_page.get_attribute(f"{group} .jp-DeploySwarmGroup-detail", "title") == (
        f"2 of 2 replica containers running, behind the load balancer jd-lb-{name}")
    members = f'{group} .jp-DeployContainer-row'
    assert a_page.locator(members).count() == 0
    # And opened, they are its two task containers and the load balancer
    a_page.click(f"{group} .jp-DeployRow-toggle")
    a_page.wait_for_selector(members)
    names = a_page.eval_on_selector_all(members, "els => els.map(e => e.dataset.name)")
    assert names[0] == f"jd-lb-{name}" and sorted(n.split(".")[:2] for n in names[1:]) == [
        [name, "1"], [name, "2"]]
    screenshot(a_page, "sidebar-swarm-containers")

    # When the user scales the service to 1 from its row
    row = f'{SIDEBAR} .jp-DeployService-row[data-name="{name}"]'
    a_page.hover(row)
    a_page.click(f"{row} .jp-DeployRow-scale")
    dialog = a_page.wait_for_selector(".jp-Dialog")
    assert "2/2" in dialog.inner_text()
    a_page.fill(".jp-Dialog input", "1")
    a_page.click(".jp-Dialog button.jp-mod-accept")
    # Then swarm runs one replica, and the row shows 1/1
    a_page.wait_for_selector(f"{row} .jp-DeployService-replicas:text-is('1/1')", timeout=60_000)
    a_swarm_service.instance.reload()
    assert a_swarm_service.instance.attrs["Spec"]["Mode"]["Replicated"]["Replicas"] == 1
