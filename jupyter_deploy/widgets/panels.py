"""``%deploy_panel KIND [NAME]``: the panels wired to a notebook session's magics.

A panel made from the magics shares their state: the environment editor saves into the same
store ``%%deploy_env`` fills (and binds the variable), the deploy panel offers those environments
and binds the service it launches, the scoring panel reads ``$variables`` from the notebook.
"""

from __future__ import annotations

from typing import Any

from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.notebook.session import NotebookSession
from jupyter_deploy.spec.environment import Environment
from jupyter_deploy.widgets.deploy_panel import DeployPanel
from jupyter_deploy.widgets.environment_editor import EnvironmentPanel
from jupyter_deploy.widgets.scoring_panel import ScoringPanel
from jupyter_deploy.widgets.services_panel import ServicesPanel

__all__ = ["DeployPanel", "EnvironmentPanel", "ScoringPanel", "ServicesPanel", "make_panel"]


def make_panel(kind: str, name: str | None, session: NotebookSession) -> Any:
    """The panel of ``kind`` (env, deploy, score, services) bound to a notebook ``session``.

    Raises:
        ConfigurationError: an unknown kind or environment name.
    """
    if kind == "env":
        return _environment_panel(name, session)
    if kind == "deploy":
        return DeployPanel(name or "", environments=lambda: session.environments,
                           on_deployed=lambda service: session.bind(service.name, service))
    if kind == "score":
        return ScoringPanel(name, namespace=session.namespace)
    if kind == "services":
        return ServicesPanel()
    raise ConfigurationError(f"no panel called {kind!r}: use env, deploy, score or services")


def _environment_panel(name: str | None, session: NotebookSession) -> EnvironmentPanel:
    start = session.environments.get(name) if name else None
    return EnvironmentPanel(start or (Environment(name=name) if name else None),
                            on_save=session.save_environment)
