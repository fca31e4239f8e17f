"""Widget panels (ipywidgets 8) over the same core calls as the magics and the CLI.

Each panel is a plain ``ipywidgets.VBox`` a user can ``display()`` or get from ``%deploy_panel``:
the environment editor, the deploy panel, the scoring panel and the services overview. Panels do no
work of their own: buttons call :mod:`jupyter_deploy.services.deployment`,
:mod:`jupyter_deploy.engine.images` and :mod:`jupyter_deploy.spec.formats`, in a worker thread so
the kernel stays free, and write what happens (log lines, results, errors) into the panel's own
``Output``. Imported only by front ends: nothing in the core imports this package.
"""

from __future__ import annotations

from typing import Any

_PANELS = {"DeployPanel", "EnvironmentPanel", "ScoringPanel", "ServicesPanel", "make_panel"}


def __getattr__(name: str) -> Any:
    """Import the panels on first use (``from jupyter_deploy.widgets import DeployPanel``)."""
    if name in _PANELS:
        from jupyter_deploy.widgets import panels

        return getattr(panels, name)
    raise AttributeError(name)
