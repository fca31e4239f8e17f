"""One progress bar for a pull or a push, out of the engine's per-layer event stream.

The engine reports progress per layer (``Downloading``, ``Extracting``, ``Pushing`` with byte
counts, then ``Pull complete``/``Pushed``/``Already exists``). A user wants one bar, like
``docker pull`` gives one summary line. :class:`ProgressAggregator` folds the events into one
fraction, a layer count and byte counts, and hands itself to a renderer after each change: the
text renderer here for terminals, or the ipywidgets bar in ``jupyter_deploy.widgets.progress``.
The aggregator is an ``on_event`` callback for :func:`jupyter_deploy.engine.images.pull`/``push``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

#: Share of a pulled layer's progress given to downloading (the rest is extracting).
_DOWNLOAD_SHARE = 0.8
_DONE = ("pull complete", "already exists", "pushed", "layer already exists", "mounted from")
_STARTS = ("pulling fs layer", "preparing", "waiting")


@dataclass
class LayerProgress:
    """One layer: its last status, bytes moved in the current phase, and its 0..1 progress."""

    id: str
    status: str = ""
    current: int = 0
    total: int = 0
    fraction: float = 0.0

    @property
    def done(self) -> bool:
        """Whether the layer finished (or was already there)."""
        return self.fraction >= 1.0


class ProgressAggregator:
    """Folds pull/push events into one progress state; call it with each event.

    Args:
        on_change: called with the aggregator after every event that changed something.
    """

    def __init__(self, on_change: Callable[[ProgressAggregator], None] | None = None) -> None:
        self.on_change = on_change
        self.layers: dict[str, LayerProgress] = {}
        self.messages: list[str] = []
        self.finished = False

    def __call__(self, event: Mapping[str, Any]) -> None:
        """Take one decoded stream event (``{"status", "id", "progressDetail", …}``)."""
        status = str(event.get("status") or "")
        layer_id = event.get("id")
        detail = event.get("progressDetail") or {}
        if layer_id and (detail or status.lower().startswith(_STARTS + _DONE) or
                         layer_id in self.layers):
            self._update_layer(str(layer_id), status, detail)
        elif status:
            self.messages.append(f"{layer_id}: {status}" if layer_id else status)
        if self.on_change:
            self.on_change(self)

    def finish(self) -> None:
        """Mark the operation complete (every layer counts as done) and notify once more."""
        self.finished = True
        for layer in self.layers.values():
            layer.fraction = 1.0
        if self.on_change:
            self.on_change(self)

    @property
    def fraction(self) -> float:
        """Overall progress in 0..1, weighting layers by size where sizes are known."""
        if self.finished:
            return 1.0
        if not self.layers:
            return 0.0
        known = [layer.total for layer in self.layers.values() if layer.total]
        default = sum(known) / len(known) if known else 1.0
        weights = [(layer.total or default, layer.fraction) for layer in self.layers.values()]
        return sum(w * f for w, f in weights) / sum(w for w, _ in weights)

    @property
    def layers_done(self) -> int:
        """How many layers finished."""
        return sum(layer.done for layer in self.layers.values())

    @property
    def summary(self) -> str:
        """The last line a user reads (``Status: Downloaded newer image for …`` or the digest)."""
        for message in reversed(self.messages):
            if message.startswith("Status:") or "digest:" in message:
                return message
        return self.messages[-1] if self.messages else ""

    def describe(self) -> str:
        """``"45% · 3/5 layers · 12.3 of 40.1 MB"``."""
        moved = sum(min(lay.current, lay.total) for lay in self.layers.values() if lay.total)
        total = sum(lay.total for lay in self.layers.values() if lay.total)
        text = f"{self.fraction:4.0%} · {self.layers_done}/{len(self.layers)} layers"
        return text + (f" · {moved / 1e6:.1f} of {total / 1e6:.1f} MB" if total else "")

    def _update_layer(self, layer_id: str, status: str, detail: Mapping[str, Any]) -> None:
        layer = self.layers.setdefault(layer_id, LayerProgress(layer_id))
        layer.status = status
        lowered = status.lower()
        current, total = int(detail.get("current") or 0), int(detail.get("total") or 0)
        if total:
            layer.current, layer.total = current, max(total, layer.total)
        if lowered.startswith(_DONE):
            layer.fraction = 1.0
        elif lowered.startswith("downloading") and total:
            layer.fraction = _DOWNLOAD_SHARE * min(current / total, 1.0)
        elif lowered.startswith(("download complete", "verifying")):
            layer.fraction = max(layer.fraction, _DOWNLOAD_SHARE)
        elif lowered.startswith("extracting") and total:
            share = _DOWNLOAD_SHARE + (1 - _DOWNLOAD_SHARE) * min(current / total, 1.0)
            layer.fraction = max(layer.fraction, share)
        elif lowered.startswith("pushing") and total:
            layer.fraction = min(current / total, 0.99)


class TextProgress:
    """Draws an aggregator as one line: redrawn in place on a terminal, a few lines otherwise.

    Args:
        stream: where to draw (stderr by default).
        width: characters of the bar.
        interval: least seconds between redraws on a terminal.
    """

    def __init__(self, stream: TextIO | None = None, width: int = 30,
                 interval: float = 0.1) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.interval = interval
        self._last_draw = 0.0
        self._last_quarter = -1
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, progress: ProgressAggregator) -> None:
        """Redraw for ``progress`` if enough changed (always when it finished)."""
        if self._tty:
            now = time.monotonic()
            if progress.finished or now - self._last_draw >= self.interval:
                self._last_draw = now
                end = "\n" if progress.finished else ""
                self.stream.write(f"\r{self.line(progress)}{end}")
                self.stream.flush()
            return
        quarter = int(progress.fraction * 4)
        if quarter > self._last_quarter:
            self._last_quarter = quarter
            self.stream.write(self.line(progress) + "\n")

    def line(self, progress: ProgressAggregator) -> str:
        """``[=========>          ]  45% · 3/5 layers · 12.3 of 40.1 MB``."""
        filled = int(progress.fraction * self.width)
        bar = "=" * filled + (">" if filled < self.width else "") + " " * (self.width - filled - 1)
        return f"[{bar[:self.width]}] {progress.describe()}"


def text_progress(stream: TextIO | None = None) -> ProgressAggregator:
    """An aggregator wired to a :class:`TextProgress` on ``stream``: pass it as ``on_event``."""
    return ProgressAggregator(on_change=TextProgress(stream))
