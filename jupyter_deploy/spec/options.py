"""The one definition of the deploy options: what ``%deploy``, ``jupyter-deploy deploy`` and the
inference-configuration JSON may say about a deployment, and how each is spelled.

Each option is declared once in :data:`DEPLOY_OPTIONS` — its flags, its help, and the key that
carries it in the seeds' inference-configuration JSON — and both front ends build their parsers
from that table with :func:`add_deploy_options`, then read the result with
:meth:`DeployOptions.from_namespace`. A flag added here appears in the magic and the CLI at once,
with the same spelling, help and checks. Turning options into a package (reading the JSON,
finding registered models) is the services layer's job: this module only says what they are.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from jupyter_deploy.errors import ConfigurationError


@dataclass(frozen=True)
class DeployOption:
    """One option: its field on :class:`DeployOptions`, its flags, and its JSON key if any."""

    dest: str
    flags: tuple[str, ...]
    help: str
    ic_key: str | None = None
    repeat: bool = False
    number: bool = False
    metavar: str | None = None
    flag: bool = False


DEPLOY_OPTIONS: tuple[DeployOption, ...] = (
    DeployOption("models", ("--model", "-m"), "model file or folder, or a registered model "
                 "NAME[:VERSION] (repeatable)", repeat=True, metavar="MODEL"),
    DeployOption("entry_script", ("--entry-script", "--entry", "-e"),
                 "entry script with init()/run() (default score.py)", ic_key="entryScript",
                 metavar="SCRIPT"),
    DeployOption("source_dir", ("--source-dir",), "folder copied beside the entry script",
                 ic_key="sourceDirectory", metavar="DIR"),
    DeployOption("environment", ("--env",), "environment: a file (our YAML, a conda file or "
                 "the SDK's JSON); in a notebook also a %%deploy_env name or a variable",
                 ic_key="environment", metavar="ENV"),
    DeployOption("pip", ("--pip",), "pip requirement added to the environment (repeatable)",
                 repeat=True, metavar="REQ"),
    DeployOption("inference_config", ("--ic", "--inference-config"), "inference-configuration "
                 "JSON: entry script, source folder and environment in one file (the seeds' --ic)",
                 metavar="JSON"),
    DeployOption("deploy_config", ("--dc", "--deploy-config"),
                 'deployment-configuration JSON (e.g. {"port": 8890})', metavar="JSON"),
    DeployOption("port", ("--port",), "host port on 127.0.0.1 (default: a free one)",
                 number=True),
    DeployOption("compute_target", ("--ct", "--compute-target"), "where the service runs: "
                 "local (this machine's engine, the default), swarm, or an attached target "
                 "(`jupyter-deploy compute ls`)", metavar="NAME"),
    DeployOption("replicas", ("--replicas",), "replicas on a cluster target (overrides the "
                 "deployment config's numReplicas)", number=True, metavar="N"),
    DeployOption("auth", ("--auth",), "on a cluster target, require a key (Authorization: "
                 "Bearer); service.get_keys() reads them", flag=True),
    DeployOption("labels", ("--label", "-l"), "engine label for the image and the service "
                 "(repeatable)", repeat=True, metavar="KEY=VALUE"),
)
#: The inference-configuration JSON's keys, as the table above names them.
IC_KEYS: tuple[str, ...] = tuple(o.ic_key for o in DEPLOY_OPTIONS if o.ic_key)


def add_deploy_options(parser: argparse.ArgumentParser) -> None:
    """Add every option of :data:`DEPLOY_OPTIONS` to ``parser`` (the magic's or the CLI's)."""
    for option in DEPLOY_OPTIONS:
        kwargs: dict[str, Any] = {"dest": option.dest, "help": option.help,
                                  "metavar": option.metavar}
        if option.flag:
            kwargs = {"dest": option.dest, "help": option.help, "action": "store_true"}
        if option.repeat:
            kwargs.update(action="append", default=[])
        if option.number:
            kwargs["type"] = int
        parser.add_argument(*option.flags, **kwargs)


@dataclass(frozen=True)
class DeployOptions:
    """What a user said about one deployment, checked but not yet resolved to files."""

    models: tuple[str, ...] = ()
    entry_script: str | None = None
    source_dir: str | None = None
    environment: str | None = None
    pip: tuple[str, ...] = ()
    inference_config: str | None = None
    deploy_config: str | None = None
    port: int | None = None
    labels: tuple[tuple[str, str], ...] = ()
    compute_target: str | None = None
    replicas: int | None = None
    auth: bool = False

    @classmethod
    def from_namespace(cls, ns: argparse.Namespace, prog: str = "deploy") -> DeployOptions:
        """Read and check the options a parser made with :func:`add_deploy_options` found.

        Raises:
            ConfigurationError: a port outside 1-65535, a label that is not KEY=VALUE, or both
            ``--ic`` and ``--env`` (the inference configuration holds the environment).
        """
        if ns.port is not None and not 0 < ns.port < 65536:
            raise ConfigurationError(f"{prog}: port {ns.port} is not between 1 and 65535")
        if ns.inference_config and ns.environment:
            raise ConfigurationError(
                f"{prog}: give --ic or --env, not both (--ic holds the environment)")
        if ns.replicas is not None and ns.replicas < 1:
            raise ConfigurationError(f"{prog}: --replicas must be 1 or more, not {ns.replicas}")
        return cls(tuple(ns.models), ns.entry_script, ns.source_dir, ns.environment,
                   tuple(ns.pip), ns.inference_config, ns.deploy_config, ns.port,
                   parse_labels(ns.labels, prog), ns.compute_target, ns.replicas, ns.auth)

    @property
    def label_dict(self) -> dict[str, str]:
        """The labels as a mapping, for the core calls."""
        return dict(self.labels)


def parse_labels(items: list[str], prog: str = "deploy") -> tuple[tuple[str, str], ...]:
    """``["k=v", …]`` as pairs.

    Raises:
        ConfigurationError: an item without ``=`` or with an empty key.
    """
    pairs = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigurationError(f"{prog}: --label {item!r} is not KEY=VALUE")
        pairs.append((key, value))
    return tuple(pairs)
