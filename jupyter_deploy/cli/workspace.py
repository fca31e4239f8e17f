"""The seeds' CLI flow: register a model, build a base image, package, deploy from JSON files.

``jupyter-deploy model register``, ``image build``, ``package``, ``workspace registry`` and
``deploy NAME --ic inferenceconfig.json --dc deploymentconfig.json -m name:version`` mirror
``az ml model register``, ``az acr build``, ``az ml model package``, ``az ml workspace show
--query containerRegistry`` and ``az ml model deploy``. Each handler parses, calls one core
function and prints one result; passwords come from stdin or the environment, never argv.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from jupyter_deploy.cli.common import add_workspace_option, workspace_of
from jupyter_deploy.cli.deploying import add_deploy_arguments
from jupyter_deploy.engine.base_images import build_base
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.registry.auth import PASSWORD_VARIABLE, login_from_environment
from jupyter_deploy.services.options import resolve_package
from jupyter_deploy.services.packages import (
    kubernetes_package,
    package_dockerfile,
    package_image,
)
from jupyter_deploy.spec.cluster import LocalDeployConfig, load_deployment_config
from jupyter_deploy.spec.environment import RegistryCredentials
from jupyter_deploy.spec.options import DeployOptions, parse_labels


def add_parsers(sub: Any) -> None:
    """Add ``model``, ``image``, ``package`` and ``workspace`` to the CLI's sub-commands."""
    model = sub.add_parser("model", help="registered models of the workspace")
    actions = model.add_subparsers(dest="action", required=True)
    p = actions.add_parser("register", help="register a model file or folder as name:version")
    p.add_argument("-n", "--name", required=True)
    p.add_argument("-p", "--path", required=True, help="model file or folder")
    p.add_argument("--description")
    _workspace_option(p)
    p.set_defaults(func=_cmd_model_register)
    p = actions.add_parser("list", help="the latest version of each registered model")
    _workspace_option(p)
    p.set_defaults(func=_cmd_model_list)
    p = actions.add_parser("deploy", help="deploy registered models as a web service (the "
                           "seeds' `az ml model deploy -n NAME -m name:version --ic … --dc …`)")
    p.add_argument("-n", "--name", required=True, help="service name")
    add_deploy_arguments(p)

    image = sub.add_parser("image", help="custom base images")
    actions = image.add_subparsers(dest="action", required=True)
    p = actions.add_parser("build", help="build an image from a Dockerfile and push it")
    p.add_argument("context", nargs="?", default=".")
    p.add_argument("-f", "--file", default="Dockerfile")
    p.add_argument("--image", required=True, help="repository[:tag] (':latest' by default)")
    p.add_argument("--registry", help="registry address (default: the workspace registry)")
    p.add_argument("-u", "--username", help=f"registry user; password from ${PASSWORD_VARIABLE} "
                   "or --password-stdin")
    p.add_argument("--password-stdin", action="store_true")
    p.add_argument("--no-push", action="store_true", help="build only")
    _workspace_option(p)
    p.set_defaults(func=_cmd_image_build)

    p = sub.add_parser("package", help="package a registered model: an image, or --output DIR")
    p.add_argument("-m", "--model", action="append", required=True, help="name:version")
    p.add_argument("--ic", "--inference-config", dest="ic", required=True)
    p.add_argument("--output", help="write the build context (Dockerfile …) here instead")
    p.add_argument("--k8s", metavar="DIR", help="also write Kubernetes manifests for the "
                   "package image here (replicas, resources, keys from --dc)")
    p.add_argument("--dc", "--deploy-config", dest="dc",
                   help="deployment-config JSON for --k8s (computeType aks: numReplicas, …)")
    p.add_argument("-n", "--name", default="package", help="service name in the manifests")
    _workspace_option(p)
    p.set_defaults(func=_cmd_package)

    ws = sub.add_parser("workspace", help="the local workspace")
    actions = ws.add_subparsers(dest="action", required=True)
    p = actions.add_parser("registry", help="print the workspace's container registry")
    _workspace_option(p)
    p.set_defaults(func=_cmd_workspace_registry)
    p = actions.add_parser("show", help="print the workspace's details as JSON")
    p.add_argument("--query", help="one detail, as `az ml workspace show --query KEY` prints it "
                   "(e.g. containerRegistry)")
    _workspace_option(p)
    p.set_defaults(func=_cmd_workspace_show)


def _workspace_option(parser: argparse.ArgumentParser) -> None:
    add_workspace_option(parser)
    parser.add_argument("--label", action="append", default=[], metavar="KEY=VALUE",
                        help="engine label for what this command creates (repeatable)")


def _labels(args: argparse.Namespace) -> dict[str, str]:
    return dict(parse_labels(getattr(args, "label", []), "jupyter-deploy"))


def _cmd_model_register(args: argparse.Namespace) -> None:
    model = workspace_of(args).register_model(args.path, args.name, description=args.description)
    print(model.id)


def _cmd_model_list(args: argparse.Namespace) -> None:
    for model in workspace_of(args).list_models():
        print(f"{model.id}\t{model.description or ''}")


def _cmd_image_build(args: argparse.Namespace) -> None:
    workspace = workspace_of(args)
    registry = args.registry or workspace.ensure_registry(print)
    from_variables = login_from_environment(registry)
    password = (sys.stdin.readline().rstrip("\n") if args.password_stdin
                else from_variables.password if from_variables else None)
    credentials = RegistryCredentials(registry, args.username, password)
    image = args.image if ":" in args.image.rsplit("/", 1)[-1] else f"{args.image}:latest"
    dockerfile = Path(args.context) / args.file
    build_base(dockerfile, f"{registry}/{image}", context=args.context, registry=credentials,
               push=not args.no_push, log=print, labels=_labels(args))


def _cmd_package(args: argparse.Namespace) -> None:
    workspace = workspace_of(args)
    options = DeployOptions(models=tuple(args.model), inference_config=args.ic)
    if args.output and args.k8s:
        raise ConfigurationError("package: --k8s needs the package image, so it does not go "
                                 "with --output (a Dockerfile folder): give one of them.")
    spec = resolve_package("package", options, workspace=workspace)
    registry = workspace.ensure_registry(print)
    if args.output:
        package = package_dockerfile(spec, registry, Path(args.output), print, _labels(args))
        print(f"Saved to {args.output}; its base image is in {package.registry.address}")
    else:
        location = package_image(spec, registry, print, _labels(args)).location
        print(location)
        if args.k8s and location:
            config = load_deployment_config(args.dc) if args.dc else None
            if isinstance(config, LocalDeployConfig):
                config = None
            kubernetes_package(args.name, location, args.k8s, config, log=print)


def _cmd_workspace_registry(args: argparse.Namespace) -> None:
    print(workspace_of(args).registry)


def _cmd_workspace_show(args: argparse.Namespace) -> None:
    details: Any = workspace_of(args).get_details()
    for key in (args.query or "").split(".") if args.query else ():
        if not isinstance(details, dict) or key not in details:
            raise ConfigurationError(f"--query {args.query}: no {key!r} in the workspace's "
                                     f"details (there are: {', '.join(details)})")
        details = details[key]
    print(json.dumps(details, indent=2))
