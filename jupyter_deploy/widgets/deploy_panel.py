"""The deploy panel: build or launch a model service with buttons, watching progress and logs.

*Build* calls :func:`~jupyter_deploy.services.deployment.build_package` and *Launch* calls
:func:`~jupyter_deploy.services.deployment.deploy` — the calls ``%deploy`` makes — on the panel's
worker thread, with every log line streamed into the panel. The progress bar follows the stages a
deployment goes through (wheels, build steps ``Step N/M``, container start, healthy), read from
those same log lines (:class:`~.build_progress.BuildProgress`, shared with ``%deploy``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import ipywidgets as w

from jupyter_deploy.build import context as packaging
from jupyter_deploy.engine.images import BuiltImage
from jupyter_deploy.notebook.display import service_state
from jupyter_deploy.services import deployment as deployments
from jupyter_deploy.spec.environment import Environment
from jupyter_deploy.widgets.base import Panel, labelled
from jupyter_deploy.widgets.build_progress import BuildProgress

Environments = Callable[[], Mapping[str, Environment]]


class DeployPanel(Panel):
    """Package and launch one service.

    Args:
        name: the service name to start with.
        environments: returns the environments to choose from (the magics' store).
        on_deployed: called with each new :class:`~jupyter_deploy.services.deployment.Deployment`.
        entry_script: the entry script to start with.
        models: model paths to start with.
    """

    def __init__(self, name: str = "", environments: Environments | None = None,
                 on_deployed: Callable[[Any], object] | None = None,
                 entry_script: str = "score.py", models: tuple[str, ...] = ()) -> None:
        super().__init__("Deploy", css="deploy")
        self.environments = environments or (lambda: {})
        self.on_deployed = on_deployed
        self.service: deployments.Deployment | None = None
        self.image: BuiltImage | None = None
        self._build_fields(name, entry_script, models)
        self.children = (
            self.title, labelled("Service name", self.name), labelled("Entry script", self.entry),
            labelled("Source folder", self.source_dir),
            labelled("Models", self.models), labelled("Environment", self.env),
            labelled("Port", self.port),
            w.HBox([self.build_button, self.launch_button, self.stop_button, self.remove_button]),
            w.HBox([self.progress, self.state]), self.status, self.output)

    def _build_fields(self, name: str, entry_script: str, models: tuple[str, ...]) -> None:
        self.name = w.Text(name, placeholder="myservice")
        self.entry = w.Text(entry_script, placeholder="score.py")
        self.source_dir = w.Text("", placeholder="(optional) folder copied beside the script")
        self.models = w.Text(", ".join(models), placeholder="model.pkl, other-model/")
        self.env = w.Dropdown(options=self._env_options(), value="(default)")
        self.port = w.BoundedIntText(0, min=0, max=65535, description="",
                                     layout=w.Layout(width="8em"),
                                     tooltip="0 picks a free port")
        self.build_button = w.Button(description="Build", icon="cube")
        self.launch_button = w.Button(description="Launch", icon="rocket", button_style="primary")
        self.stop_button = w.Button(description="Stop", icon="stop")
        self.remove_button = w.Button(description="Remove", icon="trash", button_style="danger")
        self.build_button.on_click(lambda _: self.build())
        self.launch_button.on_click(lambda _: self.launch())
        self.stop_button.on_click(lambda _: self.stop())
        self.remove_button.on_click(lambda _: self.remove())
        self.tracker = BuildProgress()
        self.progress = self.tracker.bar
        self.state = w.HTML("")

    def buttons(self) -> list[w.Button]:
        return [self.build_button, self.launch_button, self.stop_button, self.remove_button]

    def _env_options(self) -> list[str]:
        return ["(default)", *sorted(self.environments())]

    def refresh_environments(self) -> None:
        """Re-read the environments to choose from (after ``%%deploy_env``)."""
        current = self.env.value
        self.env.options = self._env_options()
        self.env.value = current if current in self.env.options else "(default)"

    # -- the spec ------------------------------------------------------------------------------

    def spec(self) -> packaging.PackageSpec:
        """What the fields describe.

        Raises:
            ConfigurationError, EnvironmentSpecError: a bad name, port or environment.
        """
        env = self.environments().get(self.env.value) or Environment()
        models = tuple(m.strip() for m in self.models.value.split(",") if m.strip())
        folder = Path(self.source_dir.value.strip()) if self.source_dir.value.strip() else None
        script = Path(self.entry.value.strip())
        if folder is not None and (folder / script).is_file():
            script = folder / script
        return packaging.PackageSpec(self.name.value.strip(), script, env,
                                     tuple(packaging.ModelFiles.of(m) for m in models), folder)

    # -- actions -------------------------------------------------------------------------------

    def build(self) -> None:
        """Build the image only."""
        spec = self.guard("Cannot build", self.spec)
        if spec is None:
            return
        self._start()
        self.run_in_background(f"Building {spec.name}",
                               lambda: deployments.build_package(spec, self._log),
                               self._built)

    def launch(self) -> None:
        """Build (what changed) and run the service, waiting until it answers."""
        spec = self.guard("Cannot launch", self.spec)
        if spec is None:
            return
        self._start()
        port = self.port.value or None

        def work() -> deployments.Deployment:
            return deployments.deploy(spec.name, spec.entry_script, spec.models,
                                      spec.environment, port=port,
                                      source_dir=spec.source_dir, log=self._log)

        self.run_in_background(f"Launching {spec.name}", work, self._launched)

    def stop(self) -> None:
        """Stop the service."""
        service = self.guard("Cannot stop", self._current)
        if service is None:
            return
        def stopped(_: Any) -> None:
            self.say(f"{service.name}: {self._show_state(service)}", "ok")

        self.run_in_background(f"Stopping {service.name}", service.stop, stopped)

    def remove(self) -> None:
        """Remove the service's container."""
        service = self.guard("Cannot remove", self._current)
        if service is None:
            return

        def removed(_: Any) -> None:
            self.service = None
            self.state.value = "<b>Deleted</b>"
            self.say(f"Removed {service.name}.", "ok")

        self.run_in_background(f"Removing {service.name}", service.remove, removed)

    def _current(self) -> deployments.Deployment:
        if self.service is None:
            self.service = deployments.DeploymentCollection().get(self.name.value.strip())
        return self.service

    # -- progress ------------------------------------------------------------------------------

    def _start(self) -> None:
        self.clear()
        self.tracker.start()

    def _log(self, line: str) -> None:
        self.log(line)
        self.tracker(line)

    def failed(self) -> None:
        self.tracker.finish(ok=False)

    def _built(self, built: BuiltImage) -> None:
        self.image = built
        self.tracker.finish()
        self.say(f"Built {built.tag} in {built.seconds:.1f} s.", "ok")

    def _launched(self, service: deployments.Deployment) -> None:
        self.service = service
        self.tracker.finish()
        state = self._show_state(service)
        self.say(f"{service.name} answers at {service.scoring_uri} ({state}).", "ok")
        if self.on_deployed is not None:
            self.on_deployed(service)

    def _show_state(self, service: deployments.Deployment) -> str:
        state = service_state(service)
        self.state.value = f"<b>{state}</b>"
        return state
