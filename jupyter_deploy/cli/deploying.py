"""``jupyter-deploy deploy NAME …`` and the seeds' ``jupyter-deploy model deploy -n NAME …``.

Both spellings take the options ``%deploy`` takes (from their one definition) plus ``--ct``, the
compute target, and run this one handler: resolve the package, deploy, print where it answers.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from jupyter_deploy.cli.common import add_workspace_option, workspace_of
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.services.deployment import deploy
from jupyter_deploy.services.options import deploy_config_port, resolve_package
from jupyter_deploy.spec.formats import load
from jupyter_deploy.spec.options import DeployOptions, add_deploy_options

#: The compute targets this version knows (``--ct``); cluster targets join them later.
COMPUTE_TARGETS = ("local",)


def add_deploy_arguments(parser: argparse.ArgumentParser) -> None:
    """The shared deploy options, the workspace and the compute target."""
    add_deploy_options(parser)
    add_workspace_option(parser)
    parser.add_argument("--ct", "--compute-target", dest="compute_target", default="local",
                        help="where the service runs (default: local, this machine's engine)")
    parser.set_defaults(func=cmd_deploy)


def cmd_deploy(args: argparse.Namespace) -> None:
    """Deploy ``args.name`` from its options; print ``NAME: STATE at URI``.

    Raises:
        ConfigurationError: no entry script or inference config, or an unknown compute target.
    """
    if args.compute_target not in COMPUTE_TARGETS:
        raise ConfigurationError(
            f"no compute target named {args.compute_target!r}: this version deploys to "
            f"{', '.join(COMPUTE_TARGETS)} (--ct local).")
    options = DeployOptions.from_namespace(args)
    if not (options.entry_script or options.inference_config or Path("score.py").is_file()):
        raise ConfigurationError("deploy needs --entry-script score.py or --ic config.json")
    env = load(options.environment) if options.environment else None
    spec = resolve_package(args.name, options, env, workspace_of(args))
    service = deploy(args.name, spec.entry_script, spec.models, spec.environment,
                     port=options.port or deploy_config_port(options.deploy_config),
                     source_dir=spec.source_dir, labels=options.label_dict, log=print)
    print(f"{service.name}: {service.state} at {service.scoring_uri}")
