"""The services overview: every service with its state and port, and actions on each.

Rows come from :class:`~jupyter_deploy.services.deployment.DeploymentCollection` (the services found
by label in the engine, whichever kernel made them) through the same row builder ``%deploy_ls``
uses. *Logs*, *Stop* and *Remove* call the service's own methods on the worker thread, then refresh
the list.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from jupyter_deploy.notebook.display import STATE_COLOURS, LogView, service_row
from jupyter_deploy.services import deployment as deployments
from jupyter_deploy.widgets.base import Panel

_WIDTHS = ("12em", "8em", "5em", "20em")


class ServicesPanel(Panel):
    """A table of services with per-row Logs / Stop / Remove buttons and a Refresh button."""

    def __init__(self, refresh: bool = True) -> None:
        super().__init__("Services", css="services")
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.table = w.VBox([])
        self.rows: list[tuple[Any, ...]] = []
        self.row_buttons: dict[str, dict[str, w.Button]] = {}
        self.children = (self.title, self.refresh_button, self.table, self.status, self.output)
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
        header = w.HBox([_cell(f"<b>{c}</b>", width) for c, width in
                         zip(("name", "state", "port", "image"), _WIDTHS, strict=True)])
        self.row_buttons = {}
        lines = [header] + [self._row(row) for row in self.rows]
        if not self.rows:
            lines.append(w.HTML("<i>No services: launch one with %deploy or the deploy panel.</i>"))
        self.table.children = tuple(lines)

    def _row(self, row: tuple[Any, ...]) -> w.HBox:
        name, state, port, image = row[:4]
        colour = STATE_COLOURS.get(str(state), "#757575")
        buttons = {action: w.Button(description=action, layout=w.Layout(width="6em"))
                   for action in ("Logs", "Stop", "Remove")}
        buttons["Logs"].on_click(lambda _: self.logs(name))
        buttons["Stop"].on_click(lambda _: self.stop(name))
        buttons["Remove"].on_click(lambda _: self.remove(name))
        self.row_buttons[name] = buttons
        cells = [_cell(html.escape(str(name)), _WIDTHS[0]),
                 _cell(f"<span style='color:{colour}'>●</span> {html.escape(str(state))}",
                       _WIDTHS[1]),
                 _cell(html.escape(str(port or "")), _WIDTHS[2]),
                 _cell(html.escape(str(image)), _WIDTHS[3])]
        return w.HBox([*cells, *buttons.values()])

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

    def _refreshed(self, message: str) -> None:
        services = deployments.DeploymentCollection().list()
        self.rows = [service_row(s) for s in services]
        self._draw()
        self.say(message, "ok")


def _cell(content: str, width: str) -> w.HTML:
    return w.HTML(content, layout=w.Layout(width=width))
