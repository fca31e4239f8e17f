"""Magic lines parsed into command objects, before anything runs.

A magic's options are parsed here, once, into a frozen dataclass (jupysql's ``SQLCommand`` idea),
so the magics stay thin and the parsing is testable without IPython. A bad line becomes a
:class:`~jupyter_deploy.errors.ConfigurationError` whose message shows the usage — never
argparse's ``SystemExit``. Passwords given as options are kept out of every ``repr``.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any, NoReturn

from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.spec.options import DeployOptions, add_deploy_options

_STORE = re.compile(r"^\s*(?P<var>[A-Za-z_][A-Za-z0-9_]*)\s*<<\s*(?P<rest>.*)$", re.DOTALL)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class CommandParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that raises :class:`ConfigurationError` instead of exiting."""

    def __init__(self, prog: str, description: str) -> None:
        super().__init__(prog=f"%{prog}", description=description, add_help=False,
                         formatter_class=argparse.RawDescriptionHelpFormatter)

    def error(self, message: str) -> NoReturn:
        """Raise with the usage line, so the user sees how to call the magic."""
        usage = self.format_usage().strip().removeprefix("usage: ")
        raise ConfigurationError(f"{self.prog}: {message}. Usage: {usage} (see {self.prog}? )")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        """Never exit the kernel."""
        raise ConfigurationError(message or f"{self.prog}: invalid arguments")

    def parse(self, line: str) -> argparse.Namespace:
        """Split ``line`` like a shell would and parse it.

        Raises:
            ConfigurationError: unbalanced quotes, unknown options, missing arguments.
        """
        try:
            words = shlex.split(line)
        except ValueError as e:
            raise ConfigurationError(f"{self.prog}: cannot split the line ({e})") from e
        return self.parse_args(words)


def python_name(name: str) -> str:
    """The variable a service or environment ``name`` is bound to (``my-svc`` → ``my_svc``)."""
    candidate = re.sub(r"\W", "_", name)
    return candidate if _IDENTIFIER.match(candidate) else f"_{candidate}"


# -- %%deploy_env ------------------------------------------------------------------------------

ENV_PARSER = CommandParser("deploy_env", "Define an environment from the cell (YAML/JSON).")
ENV_PARSER.add_argument("name", nargs="?", help="environment name, and the variable it is bound to")
ENV_PARSER.add_argument("--format", "-f", default=None,
                        help="yaml, json, conda, inference-config or azureml (default: detect)")
ENV_PARSER.add_argument("--save", default=None, metavar="PATH",
                        help="also write the environment to this file")
ENV_PARSER.add_argument("--register", action="store_true",
                        help="also register it in the workspace (found again by any kernel)")


@dataclass(frozen=True)
class EnvCommand:
    """``%%deploy_env NAME [--format F] [--save PATH] [--register]``."""

    name: str | None
    format: str | None = None
    save: str | None = None
    register: bool = False

    @classmethod
    def parse(cls, line: str) -> EnvCommand:
        """Raises: ConfigurationError."""
        ns = ENV_PARSER.parse(line)
        return cls(ns.name, ns.format, ns.save, ns.register)


# -- %deploy_pull ------------------------------------------------------------------------------

PULL_PARSER = CommandParser("deploy_pull", "Pull an image into the local engine.")
PULL_PARSER.add_argument("image", help="registry/repository[:tag] (no tag means :latest)")
PULL_PARSER.add_argument("--username", "-u", default=None, help="registry user name")
PULL_PARSER.add_argument("--password", "-p", default=None,
                         help="registry password: pass a variable ($secret), never a literal")
PULL_PARSER.add_argument("--password-env", default=None, metavar="VAR",
                         help="read the password from this environment variable")


@dataclass(frozen=True)
class PullCommand:
    """``%deploy_pull IMAGE [-u USER] [-p $PASSWORD | --password-env VAR]``."""

    image: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    password_env: str | None = None

    @classmethod
    def parse(cls, line: str) -> PullCommand:
        """Raises: ConfigurationError."""
        ns = PULL_PARSER.parse(line)
        return cls(ns.image, ns.username, ns.password, ns.password_env)


# -- %deploy -----------------------------------------------------------------------------------

DEPLOY_PARSER = CommandParser(
    "deploy", "Package a model with its entry script and launch it as a local web service.")
DEPLOY_PARSER.add_argument("name", help="service name (also the variable the service is bound to)")
add_deploy_options(DEPLOY_PARSER)  # the options the CLI shares, from their one definition
DEPLOY_PARSER.add_argument("--package-only", action="store_true",
                           help="build the image but do not run it")
DEPLOY_PARSER.add_argument("--output", "-o", default=None, metavar="DIR",
                           help="write a Dockerfile folder to DIR instead of building")
DEPLOY_PARSER.add_argument("--as", dest="var", default=None, metavar="VAR",
                           help="variable to bind the result to (default: the name)")
DEPLOY_PARSER.add_argument("--quiet", "-q", action="store_true", help="do not stream the logs")


@dataclass(frozen=True)
class DeployCommand:
    """``%deploy NAME [deploy options] [--package-only | --output DIR] [--as VAR] [-q]``."""

    name: str
    options: DeployOptions = field(default_factory=DeployOptions)
    package_only: bool = False
    output: str | None = None
    var: str | None = None
    quiet: bool = False

    @classmethod
    def parse(cls, line: str) -> DeployCommand:
        """Raises: ConfigurationError (also for a port outside 1-65535)."""
        ns = DEPLOY_PARSER.parse(line)
        if ns.var is not None and not _IDENTIFIER.match(ns.var):
            raise ConfigurationError(f"%deploy: --as {ns.var!r} is not a Python variable name")
        options = DeployOptions.from_namespace(ns, "%deploy")
        return cls(ns.name, options, ns.package_only, ns.output, ns.var, ns.quiet)

    @property
    def variable(self) -> str:
        """Where the service (or image, or folder) is bound in the user namespace."""
        return self.var or python_name(self.name)


# -- %%deploy_score ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreCommand:
    """``%%deploy_score NAME [VAR <<]`` with the body in the cell, or all on one line."""

    name: str
    store_as: str | None = None
    body: str = ""

    @classmethod
    def parse(cls, line: str, cell: str | None = None) -> ScoreCommand:
        """Raises: ConfigurationError (no service name, no body)."""
        name, _, rest = line.strip().partition(" ")
        if not name:
            raise ConfigurationError(
                "%deploy_score: name the service: `%%deploy_score NAME [VAR <<]` with JSON or "
                "$dataframe in the cell.")
        store_as = None
        match = _STORE.match(rest)
        if match:
            store_as, rest = match.group("var"), match.group("rest")
        body = (cell if cell is not None else rest).strip()
        if not body:
            raise ConfigurationError(
                f"%deploy_score {name}: nothing to score: put JSON ({{\"data\": [[…]]}}) or "
                "$variable in the cell.")
        return cls(name, store_as, body)

    def data(self, namespace: dict[str, Any]) -> Any:
        """The payload: the ``$variable`` it names, or the body parsed as JSON.

        Raises:
            ConfigurationError: an unknown variable, or JSON that does not parse (with its line).
        """
        if self.body.startswith("$") and _IDENTIFIER.match(self.body[1:]):
            key = self.body[1:]
            if key not in namespace:
                raise ConfigurationError(
                    f"%deploy_score: there is no variable {key!r} in this notebook: define it "
                    "first, or put the JSON itself in the cell.")
            return namespace[key]
        try:
            return json.loads(self.body)
        except json.JSONDecodeError as e:
            raise ConfigurationError(
                f"%deploy_score: line {e.lineno}, column {e.colno}: the cell is not JSON "
                f"({e.msg}). Fix it, or write $variable to send a DataFrame or array.") from e


# -- services ----------------------------------------------------------------------------------

SERVICE_PARSER = CommandParser("deploy_service", "Act on a service.")
SERVICE_PARSER.add_argument("name", help="service name")
SERVICE_PARSER.add_argument("--lines", "-n", type=int, default=None, help="log lines to show")
SERVICE_PARSER.add_argument("--image", action="store_true",
                            help="(remove) also remove the service's image")
SERVICE_PARSER.add_argument("--entry", "-e", default=None, help="(reload) the edited entry script")
SERVICE_PARSER.add_argument("--source-dir", default=None, help="(reload) the edited source folder")


@dataclass(frozen=True)
class ServiceCommand:
    """``%deploy_logs|stop|rm|reload NAME [options]``."""

    name: str
    lines: int | None = None
    image: bool = False
    entry: str | None = None
    source_dir: str | None = None

    @classmethod
    def parse(cls, line: str, magic: str) -> ServiceCommand:
        """Raises: ConfigurationError."""
        SERVICE_PARSER.prog = f"%{magic}"
        ns = SERVICE_PARSER.parse(line)
        return cls(ns.name, ns.lines, ns.image, ns.entry, ns.source_dir)


IMAGES_PARSER = CommandParser("deploy_images", "List the workspace registry and local images.")
IMAGES_PARSER.add_argument("--registry", "-r", default=None,
                           help="registry address (default: the workspace registry)")
IMAGES_PARSER.add_argument("--repository", default=None, help="show the tags of one repository")


@dataclass(frozen=True)
class ImagesCommand:
    """``%deploy_images [--registry ADDRESS] [--repository REPO]``."""

    registry: str | None = None
    repository: str | None = None

    @classmethod
    def parse(cls, line: str) -> ImagesCommand:
        """Raises: ConfigurationError."""
        ns = IMAGES_PARSER.parse(line)
        return cls(ns.registry, ns.repository)


PANELS = ("env", "deploy", "score", "services")


@dataclass(frozen=True)
class PanelCommand:
    """``%deploy_panel KIND [NAME]``: which widget panel to show, and on what."""

    kind: str
    name: str | None = None

    @classmethod
    def parse(cls, line: str) -> PanelCommand:
        """Raises: ConfigurationError (an unknown kind)."""
        words = line.split()
        if not words or words[0] not in PANELS or len(words) > 2:
            raise ConfigurationError(
                f"%deploy_panel: say which panel: one of {', '.join(PANELS)}, optionally "
                "followed by an environment or service name.")
        return cls(words[0], words[1] if len(words) > 1 else None)
