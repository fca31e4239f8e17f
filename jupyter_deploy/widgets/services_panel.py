"""The services overview: every service with its target, state, replicas and port, and actions.

Rows come from :class:`~jupyter_deploy.services.deployment.DeploymentCollection` (the services found
by label on every target of the engine, whichever kernel made them) through the same row builder
``%deploy_ls`` uses. *Logs*, *Stop* and *Remove* call the service's own methods on the worker
thread, then refresh the list. A cluster service also gets a replica count and *Scale*; one that
asks for a key gets *Keys*, which shows its keys masked with Copy buttons that fetch the key from
the Jupyter server in the browser — the key is never in the panel's state or the notebook.
"""

from __future__ import annotations

import html

import ipywidgets as w

from jupyter_deploy.build.haproxy import MAX_REPLICAS
from jupyter_deploy.notebook.display import (
    STATE_COLOURS,
    KeysView,
    LogView,
    ServiceRow,
    service_row,
)
from jupyter_deploy.services import deployment as deployments
from jupyter_deploy.widgets.base import Panel

_COLUMNS = (("name", "12em"), ("target", "5em"), ("state", "8em"), ("replicas", "5em"),
            ("port", "5em"), ("image", "18em"))


class ServicesPanel(Panel):
    """A table of services with per-row Logs / Stop / Remove (and Scale, Keys) and a Refresh."""

    def __init__(self, refresh: bool = True) -> None:
        super().__init__("Services", css="services")
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.table = w.VBox([])
        self.keys_view = w.HTML("")  # masked keys and Copy buttons: never a key itself
        self.rows: list[ServiceRow] = []
        self.row_buttons: dict[str, dict[str, w.Button]] = {}
        self.replica_fields: dict[str, w.BoundedIntText] = {}
        self.children = (self.title, self.refresh_button, self.table, self.keys_view, self.status,
                         self.output)
        if refresh:
            self.refresh()

    def buttons(self) -> list[w.Button]:
        return [self.refresh_button, *(b for row in self.row_buttons.values()
                                       for b in row.values())]

    def refresh(self) -> None:
        """Read the services from the engine and redraw the table (on the kernel's thread)."""
        services = self.guard("Cannot list services",
                              lambda: deployments.DeploymentCollection().list())
        if services is None:
            return
        self.rows = [service_row(s) for s in services]
        self._draw()
        self.say(f"{len(self.rows)} service(s).", "ok")

    def _draw(self) -> None:
        header = w.HBox([_cell(f"<b>{c}</b>", width) for c, width in _COLUMNS])
        self.row_buttons, self.replica_fields = {}, {}
        lines = [header] + [self._row(row) for row in self.rows]
        if not self.rows:
            lines.append(w.HTML("<i>No services: launch one with %deploy or the deploy panel.</i>"))
        self.table.children = tuple(lines)

    def _row(self, row: ServiceRow) -> w.HBox:
        name = row.name
        actions = ["Logs", "Stop", "Remove"] + (["Keys"] if row.auth else [])
        buttons = {a: w.Button(description=a, layout=w.Layout(width="6em")) for a in actions}
        buttons["Logs"].on_click(lambda _: self.logs(name))
        buttons["Stop"].on_click(lambda _: self.stop(name))
        buttons["Remove"].on_click(lambda _: self.remove(name))
        if row.auth:
            buttons["Keys"].on_click(lambda _: self.show_keys(name))
        scale: list[w.Widget] = []
        if row.target != "local":
            desired = int(row.replicas.partition("/")[2] or 1)
            field = w.BoundedIntText(value=min(max(desired, 1), MAX_REPLICAS), min=1,
                                     max=MAX_REPLICAS, layout=w.Layout(width="4.5em"))
            buttons["Scale"] = w.Button(description="Scale", layout=w.Layout(width="6em"))
            buttons["Scale"].on_click(lambda _: self.scale(name, field.value))
            self.replica_fields[name] = field
            scale = [field, buttons["Scale"]]
        self.row_buttons[name] = buttons
        colour = STATE_COLOURS.get(row.state, "#757575")
        lock = " <i class='fa fa-lock' title='asks for a key'></i>" if row.auth else ""
        values = (html.escape(name) + lock, html.escape(row.target),
                  f"<span style='color:{colour}'>●</span> {html.escape(row.state)}",
                  html.escape(row.replicas), html.escape(str(row.port or "")),
                  html.escape(row.image))
        cells = [_cell(v, width) for v, (_, width) in zip(values, _COLUMNS, strict=True)]
        others = [b for a, b in buttons.items() if a != "Scale"]
        return w.HBox([*cells, *others, *scale])

    # -- actions -------------------------------------------------------------------------------

    def logs(self, name: str) -> None:
        """Show the service's log tail below the table."""

        def work() -> LogView:
            return LogView(name, deployments.DeploymentCollection().get(name).logs())

        def done(view: LogView) -> None:
            self.clear()
            self.show(view)
            self.say(f"Log of {name}.", "ok")

        self.run_in_background(f"Reading the log of {name}", work, done)

    def stop(self, name: str) -> None:
        """Stop the service, then refresh."""
        self.run_in_background(f"Stopping {name}",
                               lambda: deployments.DeploymentCollection().get(name).stop(),
                               lambda _: self._refreshed(f"Stopped {name}."))

    def remove(self, name: str) -> None:
        """Remove the service's container, then refresh."""
        self.run_in_background(f"Removing {name}",
                               lambda: deployments.DeploymentCollection().get(name).remove(),
                               lambda _: self._refreshed(f"Removed {name}."))

    def scale(self, name: str, replicas: int) -> None:
        """Run ``replicas`` copies of a cluster service, then refresh (the healthy count
        follows as the new replicas answer)."""
        self.run_in_background(
            f"Scaling {name} to {replicas}",
            lambda: deployments.DeploymentCollection().get(name).scale(replicas),
            lambda _: self._refreshed(f"Scaled {name} to {replicas} replica(s)."))

    def show_keys(self, name: str) -> None:
        """Show the service's keys masked, each with a Copy button."""

        def work() -> KeysView:
            return KeysView.of(name, deployments.DeploymentCollection().get(name).get_keys())

        def done(view: KeysView) -> None:
            self.keys_view.value = view.html()
            self.say(f"Keys of {name} (masked).", "ok")

        self.run_in_background(f"Reading the keys of {name}", work, done)

    def _refreshed(self, message: str) -> None:
        services = deployments.DeploymentCollection().list()
        self.rows = [service_row(s) for s in services]
        self._draw()
        self.say(message, "ok")


def _cell(content: str, width: str) -> w.HTML:
    return w.HTML(content, layout=w.Layout(width=width))
