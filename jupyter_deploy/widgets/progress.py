"""The notebook face of a pull or push: one ipywidgets bar fed by the core progress aggregator.

:class:`~jupyter_deploy.engine.progress.ProgressAggregator` does the counting; this only draws it,
so the terminal and the notebook show the same numbers. Updating widget traits is safe from the
worker thread a panel pulls in, and redraws are throttled so a fast stream does not flood the
frontend.
"""

from __future__ import annotations

import html
import time
from typing import Any

import ipywidgets as w

from jupyter_deploy.engine.progress import ProgressAggregator


class ProgressBar(w.VBox):
    """A bar, a one-line description, and the summary once finished.

    Args:
        title: what is being done (``"Pulling 127.0.0.1:5000/models/iris:1"``).
        interval: least seconds between redraws while running.
    """

    def __init__(self, title: str = "", interval: float = 0.1, **kwargs: Any) -> None:
        self.bar = w.FloatProgress(value=0.0, min=0.0, max=1.0, description="",
                                   layout=w.Layout(width="100%"))
        self.label = w.HTML(html.escape(title))
        self.interval = interval
        self._last_draw = 0.0
        super().__init__(children=[self.label, self.bar], **kwargs)

    def aggregator(self) -> ProgressAggregator:
        """A new aggregator drawing on this bar: pass it as ``on_event`` to pull/push."""
        return ProgressAggregator(on_change=self)

    def __call__(self, progress: ProgressAggregator) -> None:
        """Redraw for ``progress`` (always when it finished)."""
        now = time.monotonic()
        if not progress.finished and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        self.bar.value = max(self.bar.value, progress.fraction)
        text = progress.summary if progress.finished else progress.describe()
        self.label.value = html.escape(text)
        if progress.finished:
            self.bar.bar_style = "success"
