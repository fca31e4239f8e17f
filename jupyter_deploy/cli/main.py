"""``jupyter-deploy`` (also ``jupyter deploy``): the command line over the same core calls.

Each sub-command parses its arguments and calls one core function; every ``DeployError`` becomes
a one-paragraph message on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from jupyter_deploy._version import __version__
from jupyter_deploy.cli import base_images as base_images_cli
from jupyter_deploy.cli import compute as compute_cli
from jupyter_deploy.cli import registry as registry_cli
from jupyter_deploy.cli import services as services_cli
from jupyter_deploy.cli import workspace as workspace_cli
from jupyter_deploy.cli.deploying import add_deploy_arguments
from jupyter_deploy.errors import (
    ConfigurationError,
    DeployError,
    EntryScriptError,
    PortInUseError,
)
from jupyter_deploy.server import protocol
from jupyter_deploy.services.provision import provision


def _cmd_setup(args: argparse.Namespace) -> None:
    provision()


def _cmd_serve(args: argparse.Namespace) -> None:
    from jupyter_deploy.server.server import serve_entry_script

    # Only its existence is checked here: a script that does not parse, or lacks run(), is
    # reported by the server itself, in the Azure ML server's words (as it would be in an image).
    if not Path(args.entry_script).is_file():
        raise EntryScriptError(f"entry script {args.entry_script} does not exist")
    if args.cors_origins:  # the peer's flag for what the server reads from AML_CORS_ORIGINS
        os.environ[protocol.ENV_CORS_ORIGINS] = args.cors_origins
    try:
        serve_entry_script(args.entry_script, model_dir=args.model_dir, port=args.port,
                           workers=args.workers, host=args.host)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise PortInUseError(
                f"cannot listen on {args.host}:{args.port}: the port is taken; pass another "
                "--port.") from e
        raise ConfigurationError(
            f"cannot serve on {args.host}:{args.port} ({e.strerror or e}): check --host and "
            "--port (ports below 1024 need root), and that the model folder is readable."
        ) from e


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(prog="jupyter-deploy", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup", help="start (or install) the engine, registry and base image"
                   ).set_defaults(func=_cmd_setup)
    p = sub.add_parser("deploy", help="package and launch a model as a web service (local, or "
                       "--ct swarm / an attached target)")
    p.add_argument("name")
    add_deploy_arguments(p)  # the options %deploy shares, from their one definition
    p = sub.add_parser("serve", help="run score.py on this host with the in-image scoring server")
    p.add_argument("--entry-script", "--entry_script", required=True)
    p.add_argument("--model-dir", "--model_dir", help="folder given to init() as AZUREML_MODEL_DIR")
    p.add_argument("--port", type=int, default=protocol.DEFAULT_PORT)
    p.add_argument("--workers", "--worker_count", type=int, default=None,
                   help="worker processes (default: WORKER_COUNT, else 1)")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    p.add_argument("--access-control-allow-origins", "--access_control_allow_origins",
                   dest="cors_origins", help="CORS origins, comma-separated (AML_CORS_ORIGINS)")
    p.set_defaults(func=_cmd_serve)
    services_cli.add_parsers(sub)
    registry_cli.add_parsers(sub)
    workspace_cli.add_parsers(sub)
    compute_cli.add_parsers(sub)
    base_images_cli.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except DeployError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
