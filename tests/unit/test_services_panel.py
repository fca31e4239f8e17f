"""The services panel with cluster services: target and replica columns, Scale, and Keys shown
masked with Copy buttons — driven like a user would, over the recording fakes."""

from __future__ import annotations

import html
import re
from typing import Any

from test_magics_cluster import PRIMARY, a_cluster_service, a_local_service
from test_magics_fakes import FakeCore

from jupyter_deploy.notebook.display import KeysView, mask
from jupyter_deploy.widgets import ServicesPanel

SECONDARY = "secondary-fake"


def text_of(widget: Any) -> str:
    """What a user reads in an HTML widget."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", widget.value)).split())


def row_of(panel: ServicesPanel, name: str) -> Any:
    """The table line of service ``name``."""
    for line in panel.table.children[1:]:
        if text_of(line.children[0]) == name:
            return line
    raise AssertionError(f"no row for {name}")


def cells(panel: ServicesPanel, name: str) -> list[str]:
    """The text cells of the row of ``name`` (its HTML widgets)."""
    return [text_of(c) for c in row_of(panel, name).children
            if isinstance(getattr(c, "value", None), str)]


def test_rows_show_target_and_replicas_and_only_cluster_rows_scale(a_core: FakeCore) -> None:
    # Given a local service and a swarm service with keys (2 of 3 replicas healthy)
    a_core.services["loc"] = a_local_service("loc", 8970)
    a_core.services["cl"] = a_cluster_service("cl")
    # When the panel opens
    panel = ServicesPanel()
    # Then the header and each row show the target and healthy/desired replicas
    header = [text_of(c) for c in panel.table.children[0].children]
    assert header == ["name", "target", "state", "replicas", "port", "image"]
    assert cells(panel, "cl")[:5] == ["cl", "swarm", "● Healthy", "2/3", "8971"]
    assert "fa-lock" in row_of(panel, "cl").children[0].value  # a lock: it asks for a key
    assert "fa-lock" not in row_of(panel, "loc").children[0].value
    assert cells(panel, "loc")[:5] == ["loc", "local", "● Healthy", "1/1", "8970"]
    # And only the cluster service has a replica field (at its desired count) and Scale; only
    # the one with keys has Keys
    assert set(panel.row_buttons["cl"]) == {"Logs", "Stop", "Remove", "Keys", "Scale"}
    assert set(panel.row_buttons["loc"]) == {"Logs", "Stop", "Remove"}
    assert list(panel.replica_fields) == ["cl"] and panel.replica_fields["cl"].value == 3


def test_scale_runs_the_count_in_the_field(a_core: FakeCore) -> None:
    cluster = a_core.services["cl"] = a_cluster_service("cl")
    panel = ServicesPanel()
    # When the user types 5 and presses Scale
    panel.replica_fields["cl"].value = 5
    panel.row_buttons["cl"]["Scale"].click()
    panel.wait()
    # Then the service was scaled to 5 and the panel says so
    assert cluster.calls[-1] == ("scale", 5)
    assert "Scaled cl to 5 replica(s)." in text_of(panel.status)


def test_keys_are_shown_masked_with_copy_buttons_never_whole(a_core: FakeCore) -> None:
    cluster = a_core.services["cl"] = a_cluster_service("cl")
    panel = ServicesPanel()
    # When the user presses Keys
    panel.row_buttons["cl"]["Keys"].click()
    panel.wait()
    # Then both keys show as their masks, each with a Copy button that fetches it in the browser
    shown = panel.keys_view.value
    assert ("get_keys", None) in cluster.calls
    assert mask(PRIMARY) in shown and mask(SECONDARY) in shown
    assert mask(PRIMARY) == "••••••••fake"
    assert shown.count("class='jd-copy-key'") == 2
    assert "jupyter-deploy/services/cl/keys" in html.unescape(shown)
    # And no key is anywhere in the panel's state: its widgets, status line or output
    state = repr([w.get_state() for w in (panel.keys_view, panel.status, panel.output)])
    assert PRIMARY not in state and SECONDARY not in state


def test_the_keys_view_keeps_only_masks() -> None:
    view = KeysView.of("svc one", ("k" * 40 + "A1b2", "s" * 40 + "C3d4"))
    assert view.primary == "••••••••A1b2" and view.secondary == "••••••••C3d4"
    assert "k" * 8 not in view.html() + view.text() and "s" * 8 not in view.html()
    assert "service.get_keys()" in view.text()
    assert "svc%20one" in html.unescape(view.html())  # the name is one URL path segment
