"""The state one notebook's magics and panels share: its namespace and its environments.

``%%deploy_env`` and the environment panel save into the same store, ``%deploy`` and the deploy
panel read it, and both bind what they make to the same variables. Keeping that state here — not
on the magics class — lets the panels work from it without importing the magics, so the two front
ends sit side by side over one session instead of in a cycle.
"""

from __future__ import annotations

from typing import Any

from jupyter_deploy.notebook.commands import python_name
from jupyter_deploy.spec.environment import Environment


class NotebookSession:
    """A notebook's namespace and the environments defined in it."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace
        self.environments: dict[str, Environment] = {}

    def bind(self, name: str, value: Any) -> str:
        """Bind ``value`` to the variable ``name`` maps to (``my-svc`` → ``my_svc``); return it."""
        variable = python_name(name)
        self.namespace[variable] = value
        return variable

    def save_environment(self, env: Environment) -> None:
        """Keep ``env`` under its name and bind it to a variable of that name."""
        self.environments[env.name] = env
        self.bind(env.name, env)
