"""``jupyter-deploy deploy NAME …`` and the seeds' ``jupyter-deploy model deploy -n NAME …``.

Both spellings take the options ``%deploy`` takes (from their one definition: ``--ct`` names the
compute target, ``--dc`` the SDK's deployment-config JSON) and run this one handler: resolve the
package and the target, deploy, print where it answers.
"""

from __future__ import annotations

import argparse

from jupyter_deploy.cli.common import add_workspace_option, workspace_of
from jupyter_deploy.services.deployment import deploy
from jupyter_deploy.services.options import deployment_target, resolve_package
from jupyter_deploy.spec.formats import load
from jupyter_deploy.spec.options import DeployOptions, add_deploy_options


def add_deploy_arguments(parser: argparse.ArgumentParser) -> None:
    """The shared deploy options (the compute target among them) and the workspace."""
    add_deploy_options(parser)
    add_workspace_option(parser)
    parser.set_defaults(func=cmd_deploy)


def cmd_deploy(args: argparse.Namespace) -> None:
    """Deploy ``args.name`` from its options; print ``NAME: STATE at URI``.

    Raises:
        ConfigurationError: no entry script or inference config, an unknown compute target, or
        a setting the target cannot honour.
    """
    options = DeployOptions.from_namespace(args)
    target, port = deployment_target(options, workspace_of(args))
    env = load(options.environment) if options.environment else None
    spec = resolve_package(args.name, options, env, workspace_of(args))
    service = deploy(args.name, spec.entry_script, spec.models, spec.environment, port=port,
                     source_dir=spec.source_dir, labels=options.label_dict, log=print,
                     target=target)
    healthy, desired = service.replicas
    print(f"{service.name}: {service.state} at {service.scoring_uri} ({target.kind}, "
          f"{healthy}/{desired} replicas healthy"
          + (", key required: `jupyter-deploy service keys NAME`" if service.auth_enabled
             else "") + ")")
