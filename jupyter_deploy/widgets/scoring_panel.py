"""The scoring panel: edit a sample, send it to a service, see the answer as a table.

*Send* parses the sample the way ``%%deploy_score`` parses its cell (JSON, or ``$variable`` from the
notebook), scores through :meth:`Deployment.score
<jupyter_deploy.services.deployment.Deployment.score>` on the worker thread, and shows the same
:class:`~jupyter_deploy.notebook.display.ScoreView` the magic returns: the table where the answer is
tabular, and the latency.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from jupyter_deploy.notebook.commands import ScoreCommand
from jupyter_deploy.notebook.display import ScoreView
from jupyter_deploy.services import deployment as deployments
from jupyter_deploy.widgets.base import Panel, labelled

#: The seeds' sample request: two rows of ten features.
SEED_SAMPLE = {"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]]}


class ScoringPanel(Panel):
    """Score one service with an editable sample.

    Args:
        name: the service to score (the list of services is read from the engine).
        sample: the sample to start with (the seeds' two rows by default).
        namespace: where ``$variable`` samples are looked up (the notebook's).
        on_result: called with each :class:`ScoreView`.
    """

    def __init__(self, name: str | None = None, sample: Any = None,
                 namespace: dict[str, Any] | None = None,
                 on_result: Callable[[ScoreView], None] | None = None) -> None:
        super().__init__("Score", css="score")
        self.namespace = namespace if namespace is not None else {}
        self.on_result = on_result
        self.last_result: ScoreView | None = None
        self.service = w.Combobox(value=name or "", placeholder="service name",
                                  ensure_option=False)
        self.sample = w.Textarea(sample_text(SEED_SAMPLE if sample is None else sample),
                                 rows=6, layout=w.Layout(width="36em"))
        self.send_button = w.Button(description="Send", icon="paper-plane",
                                    button_style="primary")
        self.send_button.on_click(lambda _: self.send())
        self.latency = w.HTML("")
        self.children = (self.title, labelled("Service", self.service),
                         labelled("Sample", self.sample),
                         w.HBox([self.send_button, self.latency]), self.status, self.output)
        self.guard("Cannot list services", self.refresh_services)

    def buttons(self) -> list[w.Button]:
        return [self.send_button]

    def refresh_services(self) -> None:
        """Offer the services that exist now."""
        self.service.options = tuple(s.name for s in deployments.DeploymentCollection().list())

    def send(self) -> None:
        """Score the sample; the answer and the latency replace the previous ones."""
        name = self.service.value.strip()
        command = self.guard("Cannot score", lambda: ScoreCommand.parse(name, self.sample.value))
        if command is None:
            return
        data = self.guard("Cannot score", lambda: command.data(self.namespace))
        if data is None:
            return

        def work() -> ScoreView:
            return ScoreView(name, deployments.DeploymentCollection().get(name).score(data))

        self.run_in_background(f"Scoring {name}", work, self._show_result)

    def _show_result(self, view: ScoreView) -> None:
        self.last_result = view
        self.clear()
        self.show(view.table if view.table is not None else view)
        self.latency.value = f"{view.result.seconds * 1000:.1f} ms"
        self.say(view.summary, "ok")
        if self.on_result is not None:
            self.on_result(view)


def sample_text(sample: Any) -> str:
    """JSON for the sample box: one row per line when it is ``{"data": [rows]}``."""
    rows = sample.get("data") if isinstance(sample, dict) and len(sample) == 1 else None
    if isinstance(rows, list) and rows and all(isinstance(r, list) for r in rows):
        lines = ",\n  ".join(json.dumps(r) for r in rows)
        return f'{{"data": [\n  {lines}\n]}}'
    return json.dumps(sample, indent=1)
