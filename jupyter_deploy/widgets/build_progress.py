"""One progress bar for a build-and-launch, read from the deployment's own log lines.

:func:`~jupyter_deploy.services.deployment.deploy` reports through its ``log`` callback only, so the
bar follows the stages that callback already names: building (``Step N/M`` of the Dockerfile), the
container starting, and the service answering. The deploy panel and ``%deploy`` (in a Jupyter
kernel) both use it, so the two show the same progress for the same call.
"""

from __future__ import annotations

import re

import ipywidgets as w

_STEP = re.compile(r"^Step (\d+)/(\d+)")
#: Share of the bar each stage ends at.
_STAGES = (("Building", 0.1), ("Started container", 0.9), ("is healthy", 1.0))
#: Where a build's steps move the bar: one Dockerfile, or an environment's image (built first,
#: when its dependencies changed) and then the service's on it.
_BUILD, _ENVIRONMENT, _ON_ENVIRONMENT = (0.1, 0.85), (0.1, 0.7), (0.7, 0.85)
_ENVIRONMENT_BUILD, _SERVICE_BUILD = "Building the environment", "Building jupyter-deploy/"


class BuildProgress:
    """Moves ``bar`` as log lines arrive; call it with each line (from any thread)."""

    def __init__(self, bar: w.FloatProgress | None = None) -> None:
        self.bar = bar or w.FloatProgress(0.0, min=0.0, max=1.0, layout=w.Layout(width="20em"))
        self.span = _BUILD  # the share of the bar the Dockerfile being built moves across

    def start(self) -> None:
        """Back to zero, in progress."""
        self.bar.value, self.bar.bar_style = 0.0, "info"
        self.span = _BUILD

    def __call__(self, line: str) -> None:
        if line.startswith(_ENVIRONMENT_BUILD):  # its install step is most of a cold build
            self.span = _ENVIRONMENT
        elif line.startswith(_SERVICE_BUILD) and self.span == _ENVIRONMENT:
            self.span = _ON_ENVIRONMENT
        step = _STEP.match(line)
        if step:
            done, total = int(step.group(1)), int(step.group(2))
            low, high = self.span
            self.bar.value = max(self.bar.value, low + (high - low) * done / total)
            return
        for marker, share in _STAGES:
            if marker in line:
                self.bar.value = max(self.bar.value, share)

    def finish(self, ok: bool = True) -> None:
        """Full and green, or red where it stopped."""
        if ok:
            self.bar.value = 1.0
        self.bar.bar_style = "success" if ok else "danger"
