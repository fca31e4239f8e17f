"""``%deploy_panel KIND [NAME]``: the panels wired to a notebook session's magics.

A panel made from the magics shares their state: the environment editor saves into the same
store ``%%deploy_env`` fills (and binds the variable), the deploy panel offers those environments
and binds the service it launches, the scoring panel reads ``$variables`` from the notebook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.notebook.commands import python_name
from jupyter_deploy.spec.environment import Environment
from jupyter_deploy.widgets.deploy_panel import DeployPanel
from jupyter_deploy.widgets.environment_editor import EnvironmentPanel
from jupyter_deploy.widgets.scoring_panel import ScoringPanel
from jupyter_deploy.widgets.services_panel import ServicesPanel

if TYPE_CHECKING:
    from jupyter_deploy.magics.deploy_magics import DeployMagics

__all__ = ["DeployPanel", "EnvironmentPanel", "ScoringPanel", "ServicesPanel", "make_panel"]


def make_panel(kind: str, name: str | None, magics: DeployMagics) -> Any:
    """The panel of ``kind`` (env, deploy, score, services) bound to ``magics``' session.

    Raises:
        ConfigurationError: an unknown kind or environment name.
    """
    if kind == "env":
        return _environment_panel(name, magics)
    if kind == "deploy":
        def bind(service: Any) -> None:
            magics.user_ns[python_name(service.name)] = service

        return DeployPanel(name or "", environments=lambda: magics.environments,
                           on_deployed=bind)
    if kind == "score":
        return ScoringPanel(name, namespace=magics.user_ns)
    if kind == "services":
        return ServicesPanel()
    raise ConfigurationError(f"no panel called {kind!r}: use env, deploy, score or services")


def _environment_panel(name: str | None, magics: DeployMagics) -> EnvironmentPanel:
    start = magics.environments.get(name) if name else None

    def save(env: Environment) -> None:
        magics.environments[env.name] = env
        magics.user_ns[python_name(env.name)] = env

    return EnvironmentPanel(start or (Environment(name=name) if name else None), on_save=save)
