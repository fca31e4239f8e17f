"""``jupyter-deploy compute ls | attach | detach``: the workspace's compute targets (``--ct``)."""

from __future__ import annotations

import argparse
from typing import Any

from jupyter_deploy.cli.common import add_workspace_option, workspace_of
from jupyter_deploy.services.compute import KINDS, ComputeTargets


def _cmd_ls(args: argparse.Namespace) -> None:
    for spec in ComputeTargets(workspace_of(args)).list():
        print(spec.describe())


def _cmd_attach(args: argparse.Namespace) -> None:
    kind = args.kind or ("kubernetes" if args.context and args.name != "swarm" else "swarm")
    spec = ComputeTargets(workspace_of(args)).attach(args.name, kind, args.context,
                                                     args.namespace, print, args.registry)
    print(f"Attached {spec.name!r} ({spec.kind}): deploy with --ct {spec.name}")


def _cmd_detach(args: argparse.Namespace) -> None:
    ComputeTargets(workspace_of(args)).detach(args.name)
    print(f"Detached {args.name!r} (its services keep running).")


def add_parsers(sub: Any) -> None:
    """Add ``compute`` and its sub-commands."""
    compute = sub.add_parser("compute", help="list, attach or detach compute targets (--ct)")
    verbs = compute.add_subparsers(dest="verb", required=True)
    p = verbs.add_parser("ls", help="the compute targets services can be deployed to")
    add_workspace_option(p)
    p.set_defaults(func=_cmd_ls)
    p = verbs.add_parser("attach", help="attach swarm (turning swarm mode on) or a Kubernetes "
                         "context")
    p.add_argument("name", help="the target's name (`swarm` for this engine's swarm)")
    p.add_argument("--kind", choices=[k for k in KINDS if k != "local"])
    p.add_argument("--context", help="kubeconfig context (Kubernetes)")
    p.add_argument("--namespace", help="namespace (Kubernetes; default: default)")
    p.add_argument("--registry", help="registry the cluster pulls from; images are pushed there "
                   "(Kubernetes; default: the workspace registry)")
    add_workspace_option(p)
    p.set_defaults(func=_cmd_attach)
    p = verbs.add_parser("detach", help="forget a compute target")
    p.add_argument("name")
    add_workspace_option(p)
    p.set_defaults(func=_cmd_detach)
