"""The ``%deploy…`` magics: the whole workflow from notebook cells.

Each magic parses its line into a command object (:mod:`jupyter_deploy.notebook.commands`), calls
the same core functions the widgets, the CLI and the Azure ML adapter call (one code path per
action), and returns a view (:mod:`jupyter_deploy.notebook.display`) that renders as HTML in Jupyter
and as text elsewhere. Every :class:`~jupyter_deploy.errors.DeployError` becomes IPython's
``UsageError`` — the message with what to do next, no traceback — unless ``%config
DeployMagics.short_errors = False`` asks for the traceback. Settings are ``%config
DeployConfig.<trait>``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from IPython.core.error import UsageError
from IPython.core.magic import (
    Magics,
    line_cell_magic,
    line_magic,
    magics_class,
    no_var_expand,
)
from traitlets import Bool

from jupyter_deploy.config import get_config
from jupyter_deploy.errors import ConfigurationError, DeployError
from jupyter_deploy.magics.pulling import credentials_for, pull_with_progress
from jupyter_deploy.notebook.commands import (
    DEPLOY_PARSER,
    ENV_PARSER,
    IMAGES_PARSER,
    PULL_PARSER,
    SERVICE_PARSER,
    DeployCommand,
    EnvCommand,
    ImagesCommand,
    PanelCommand,
    PullCommand,
    ScoreCommand,
    ServiceCommand,
)
from jupyter_deploy.notebook.display import (
    EnvironmentView,
    LogView,
    Message,
    ScoreView,
    TableView,
    images_view,
    services_view,
)
from jupyter_deploy.notebook.session import NotebookSession
from jupyter_deploy.services import building
from jupyter_deploy.services import deployment as deployments
from jupyter_deploy.services.options import deployment_target, resolve_package
from jupyter_deploy.services.workspace import Workspace
from jupyter_deploy.spec import formats as environment_io
from jupyter_deploy.spec.environment import Environment, RegistryCredentials
from jupyter_deploy.spec.package import PackageSpec

F = TypeVar("F", bound=Callable[..., Any])


def friendly(method: F) -> F:
    """Turn a :class:`DeployError` into ``UsageError`` (its message only) when errors are short."""

    @functools.wraps(method)
    def wrapper(self: DeployMagics, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except DeployError as e:
            if not self.short_errors:
                raise
            raise UsageError(str(e)) from None

    return wrapper  # type: ignore[return-value]


def with_usage(parser_help: str) -> Callable[[F], F]:
    """Append a parser's option list to a magic's docstring (what ``%magic?`` shows)."""

    def decorate(method: F) -> F:
        method.__doc__ = f"{method.__doc__}\n{parser_help}"
        return method

    return decorate


@magics_class
class DeployMagics(Magics):
    """The ``%deploy…`` magics; environments defined with ``%%deploy_env`` live here."""

    short_errors = Bool(
        True, help="Show a DeployError as its message only (no traceback).").tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        assert self.shell is not None, "DeployMagics needs a shell"
        self.session = NotebookSession(self.shell.user_ns)

    @property
    def user_ns(self) -> dict[str, Any]:
        """The notebook's namespace (where results are bound)."""
        return self.session.namespace

    @property
    def environments(self) -> dict[str, Environment]:
        """The environments defined in this notebook (shared with the panels)."""
        return self.session.environments

    # -- environments --------------------------------------------------------------------------

    @line_cell_magic
    @with_usage(ENV_PARSER.format_help())
    @friendly
    def deploy_env(self, line: str, cell: str | None = None) -> Any:
        """Define an environment from the cell and bind it to NAME, or list the defined ones.

        The cell is YAML in jupyter_deploy's own form (``base_image``, ``pip``, ``env_vars``…), a
        conda environment file, or the Azure ML inference-configuration / environment JSON::

            %%deploy_env sklearn
            pip:
              - scikit-learn==1.5.2

        ``--register`` also registers it in the workspace, where ``%deploy --env NAME`` finds it
        from any kernel. Without a cell, ``%deploy_env`` lists the environments and
        ``%deploy_env NAME`` shows one.
        """
        command = EnvCommand.parse(line)
        if cell is None:
            return self._show_environments(command.name)
        env = environment_io.loads(cell, command.format, name=command.name)
        if command.save:
            environment_io.save(env, command.save)
        if command.register:
            env = Workspace.from_config().register_environment(env)
        self.session.save_environment(env)
        return EnvironmentView(env)

    def _show_environments(self, name: str | None) -> Any:
        if name:
            return EnvironmentView(self.environment(name))
        rows = [(n, e.base_image, ", ".join(e.pip)) for n, e in self.environments.items()]
        return TableView("Environments", ("name", "base image", "pip"), rows,
                         empty="none defined yet: use %%deploy_env NAME")

    def environment(self, ref: str | None) -> Environment:
        """The environment ``ref`` names: a ``%%deploy_env`` name, a variable, a file, or one
        registered in the workspace.

        Raises:
            ConfigurationError: nothing of that name; EnvironmentSpecError: a bad file.
        """
        if ref is None:
            return Environment()
        if ref in self.environments:
            return self.environments[ref]
        value = self.user_ns.get(ref)
        if isinstance(value, Environment):
            return value
        to_native = getattr(value, "to_native", None)  # the Azure ML SDK's Environment
        if callable(to_native):
            native: Environment = to_native()
            return native
        if Path(ref).is_file():
            return environment_io.load(ref)
        try:
            registered = _registered_environment(ref)
        except DeployError as e:
            raise ConfigurationError(
                f"no environment named {ref!r} in this notebook, and the workspace that could "
                f"hold it cannot be read: {e.message}") from e
        if registered is not None:
            return registered
        known = ", ".join(sorted(self.environments)) or "none yet"
        raise ConfigurationError(
            f"no environment named {ref!r} (defined: {known}): define it with `%%deploy_env "
            f"{ref}` (--register keeps it in the workspace), pass the name of an Environment "
            "variable, or an environment file's path.")

    # -- images --------------------------------------------------------------------------------

    @line_magic
    @with_usage(PULL_PARSER.format_help())
    @friendly
    def deploy_pull(self, line: str) -> Any:
        """Pull an image into the local engine, with a progress bar.

        Credentials come from ``--username``/``--password $variable`` (or ``--password-env VAR``),
        else the ``JUPYTER_DEPLOY_REGISTRY_USERNAME``/``…_PASSWORD`` environment variables, else an
        environment defined here for that registry, else Docker's config (``docker login``).
        They are never printed.
        """
        command = PullCommand.parse(line)
        password = command.password
        if command.password_env:
            password = os.environ.get(command.password_env)
            if not password:
                raise ConfigurationError(
                    f"%deploy_pull: the environment variable {command.password_env} is not set.")
        given = RegistryCredentials(None, command.username, password)
        credentials = credentials_for(command.image, given, self.environments.values())
        return Message(pull_with_progress(command.image, credentials, shell=self.shell))

    @line_magic
    @with_usage(IMAGES_PARSER.format_help())
    @friendly
    def deploy_images(self, line: str) -> Any:
        """Show the workspace registry's repositories (or a repository's tags) and local images."""
        command = ImagesCommand.parse(line)
        return images_view(command.registry or get_config().registry_address, command.repository)

    # -- services ------------------------------------------------------------------------------

    @line_magic
    @with_usage(DEPLOY_PARSER.format_help())
    @friendly
    def deploy(self, line: str) -> Any:
        """Package a model and launch it as a local web service, streaming the logs here.

        ``%deploy NAME --model PATH --entry score.py --env ENV [--port P]`` builds the image,
        starts the container (``/score`` on 127.0.0.1) and binds the service to ``NAME`` (or
        ``--as VAR``). ``--ic inferenceconfig.json`` takes the entry script, source folder and
        environment from the seeds' inference-configuration file. ``--package-only`` stops after
        the image; ``--output DIR`` writes a Dockerfile folder for a plain ``docker build``.
        """
        command = DeployCommand.parse(line)
        spec = self._package_spec(command)
        log, finish = self._progress_log(command.quiet)
        try:
            result, message = self._deploy(command, spec, log)
        except DeployError:
            finish(False)
            raise
        finish(True)
        self.user_ns[command.variable] = result
        return Message(f"{message} Bound to `{command.variable}`.")

    def _progress_log(
        self, quiet: bool
    ) -> tuple[Callable[[str], None], Callable[[bool], None]]:
        """The log ``%deploy`` streams to, and how to end its progress bar (kernels only)."""
        if quiet:
            return _quiet, _ignore
        if getattr(self.shell, "kernel", None) is None:
            return print, _ignore
        from IPython.display import display

        from jupyter_deploy.widgets.build_progress import BuildProgress

        tracker = BuildProgress()
        display(tracker.bar)

        def log(line: str) -> None:
            print(line)
            tracker(line)

        return log, lambda ok: tracker.finish(ok)

    def _package_spec(self, command: DeployCommand) -> PackageSpec:
        """What ``%deploy`` packages, resolved like the CLI's (``--env`` may name a session one,
        ``--model`` a variable: a fitted estimator is served with a generated score.py)."""
        options = command.options
        env = self.environment(options.environment) if options.environment else None
        return resolve_package(command.name, options, env, namespace=self.user_ns,
                               log=None if command.quiet else print)

    def _deploy(self, command: DeployCommand, spec: PackageSpec,
                log: Callable[[str], None]) -> tuple[Any, str]:
        labels = command.options.label_dict
        if command.output:
            context = building.write_context(spec, Path(command.output), log)
            return context, f"Wrote a Dockerfile folder to {context.path}: `docker build` it."
        if command.package_only:
            built = building.build_package(spec, log, labels)
            return built, f"Built image {built.tag}."
        target, port = deployment_target(command.options)
        service = deployments.deploy(
            spec.name, spec.entry_script, spec.models, spec.environment, port=port,
            source_dir=spec.source_dir, labels=labels, log=log, target=target)
        healthy, desired = service.replicas
        where = "" if target.kind == "local" else (
            f" on {target.kind} ({healthy}/{desired} replicas healthy"
            + (", key required: `service.get_keys()`" if service.auth_enabled else "") + ")")
        return service, f"Service {service.name!r} answers at {service.scoring_uri}{where}."

    @line_cell_magic
    @no_var_expand
    @friendly
    def deploy_score(self, line: str, cell: str | None = None) -> Any:
        """Score a service: ``%%deploy_score NAME [VAR <<]``, JSON or ``$dataframe`` in the cell.

        Shows the answer as a table (when it is one) and the latency; ``VAR <<`` stores the
        answer (a DataFrame when tabular) in ``VAR``. One-line form: ``%deploy_score NAME $df``.
        """
        command = ScoreCommand.parse(line, cell)
        data = command.data(self.user_ns)
        view = ScoreView(command.name, deployments.DeploymentCollection().get(command.name)
                         .score(data))
        if command.store_as:
            table = view.table
            self.user_ns[command.store_as] = table if table is not None else view.result.value
        return view

    @line_magic
    @friendly
    def deploy_ls(self, line: str) -> Any:
        """List the services on every target: name, target, state, replicas (healthy/desired),
        whether they ask for a key, port, image and scoring URI (``%deploy_panel services`` to
        scale them or copy their keys)."""
        return services_view(deployments.DeploymentCollection().list())

    @line_magic
    @with_usage(SERVICE_PARSER.format_help())
    @friendly
    def deploy_logs(self, line: str) -> Any:
        """Show the last lines of a service's log: ``%deploy_logs NAME [-n LINES]``."""
        command = ServiceCommand.parse(line, "deploy_logs")
        service = deployments.DeploymentCollection().get(command.name)
        return LogView(command.name, service.logs(command.lines))

    @line_magic
    @friendly
    def deploy_stop(self, line: str) -> Any:
        """Stop a service (its container stays and can be removed with ``%deploy_rm``)."""
        command = ServiceCommand.parse(line, "deploy_stop")
        deployments.DeploymentCollection().get(command.name).stop()
        return Message(f"Service {command.name!r} stopped.")

    @line_magic
    @friendly
    def deploy_rm(self, line: str) -> Any:
        """Remove a service's container (``--image``: and its image): ``%deploy_rm NAME``."""
        command = ServiceCommand.parse(line, "deploy_rm")
        deployments.DeploymentCollection().get(command.name).remove(image=command.image)
        return Message(f"Service {command.name!r} removed.")

    @line_magic
    @friendly
    def deploy_reload(self, line: str) -> Any:
        """Put an edited entry script into a running service without rebuilding.

        ``%deploy_reload NAME [--entry score.py] [--source-dir DIR]``.
        """
        command = ServiceCommand.parse(line, "deploy_reload")
        service = deployments.DeploymentCollection().get(command.name)
        service.reload(entry_script=command.entry, source_dir=command.source_dir)
        return Message(f"Service {command.name!r} reloaded: {service.scoring_uri}.")

    @line_magic
    @friendly
    def deploy_panel(self, line: str) -> Any:
        """Show a widget panel: ``%deploy_panel env|deploy|score|services [NAME]``."""
        from jupyter_deploy.widgets.panels import make_panel

        command = PanelCommand.parse(line)
        return make_panel(command.kind, command.name, self.session)


def _registered_environment(name: str) -> Environment | None:
    """The latest version of ``name`` in the current workspace, if there is one.

    Raises:
        DeployError: the workspace's config cannot be read (said, not hidden).
    """
    workspace = Workspace.from_config()
    return workspace.get_environment(name) if workspace.environment_versions(name) else None


def _quiet(_: str) -> None:
    """Drop log lines (``--quiet``)."""


def _ignore(_: bool) -> None:
    """No progress bar to finish."""
