"""Registry sub-commands of `jupyter-deploy`: registry ls|start|stop|status, pull and push.

Kept apart from ``cli.py`` so the main parser stays a list of one-liners; each handler is a thin
shell over :mod:`~jupyter_deploy.registry.catalog`, :mod:`~jupyter_deploy.registry.local` and
:mod:`~jupyter_deploy.engine.images`. Passwords come from stdin (``--password-stdin``), the
``JUPYTER_DEPLOY_REGISTRY_USERNAME``/``_PASSWORD`` variables or Docker's config, never from
the command line where ``ps`` would show them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from jupyter_deploy.config import get_config
from jupyter_deploy.engine import images
from jupyter_deploy.engine.progress import text_progress
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.registry.auth import (
    USERNAME_VARIABLE,
    login_from_environment,
)
from jupyter_deploy.registry.catalog import Catalog
from jupyter_deploy.registry.local import LocalRegistry, write_htpasswd
from jupyter_deploy.spec.environment import RegistryCredentials
from jupyter_deploy.spec.reference import ImageReference


def add_parsers(sub: Any) -> None:
    """Add ``registry``, ``pull`` and ``push`` to the main parser's sub-commands."""
    registry = sub.add_parser("registry", help="browse registries; run the workspace registry")
    actions = registry.add_subparsers(dest="registry_command", required=True)
    p = actions.add_parser("ls", help="repositories of a registry, or one repository's tags")
    p.add_argument("address", nargs="?", help="host:port (default: the workspace registry)")
    p.add_argument("--repository", "-r", help="list this repository's tags with details")
    p.add_argument("--json", action="store_true", help="print JSON")
    _login_options(p)
    p.set_defaults(func=_cmd_ls)
    for verb, func, text in (("start", _cmd_start, "start the workspace registry"),
                             ("stop", _cmd_stop, "stop the workspace registry"),
                             ("status", _cmd_status, "is the workspace registry running?")):
        q = actions.add_parser(verb, help=text)
        q.add_argument("--json", action="store_true", help="print JSON")
        q.set_defaults(func=func)
        if verb == "start":
            q.add_argument("--htpasswd", help="htpasswd file (bcrypt): require these logins")
            _login_options(q)
    for verb, text in (("pull", "pull an image into the engine"),
                       ("push", "push an image from the engine to its registry")):
        p = sub.add_parser(verb, help=text)
        p.add_argument("image", help="[registry/]repository[:tag]")
        _login_options(p)
        p.set_defaults(func=_cmd_pull if verb == "pull" else _cmd_push)


def _login_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--username", "-u", help="registry user name")
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the registry password from stdin")


def login_from(args: argparse.Namespace, address: str) -> RegistryCredentials | None:
    """Credentials from the options and stdin, else the variables (the workspace registry only).

    Raises:
        ConfigurationError: ``--password-stdin`` without ``--username``.
    """
    if args.password_stdin:
        username = args.username or os.environ.get(USERNAME_VARIABLE)
        if not username:
            raise ConfigurationError("--password-stdin needs --username")
        return RegistryCredentials(address, username, sys.stdin.readline().rstrip("\r\n"))
    found = login_from_environment(address)
    if found is not None and args.username:
        return RegistryCredentials(address, args.username, found.password)
    return found


def _cmd_ls(args: argparse.Namespace) -> None:
    address = args.address or get_config().registry_address
    login = login_from(args, address) or RegistryCredentials(address)
    catalog = Catalog([login], ttl=0)
    if args.repository:
        rows = catalog.tags(address, args.repository)
        print(json.dumps(rows, indent=2) if args.json else _tag_table(rows))
        return
    names = catalog.repositories(address)
    print(json.dumps(names, indent=2) if args.json else "\n".join(names))


def _tag_table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'TAG':<24} {'DIGEST':<19} {'SIZE':>10} {'CREATED':<20} PLATFORMS"]
    for row in sorted(rows, key=lambda r: str(r["tag"])):
        size = f"{(row['size'] or 0) / 1e6:.1f} MB"
        created = (row["created"] or "")[:19]
        lines.append(f"{row['tag']:<24} {row['digest'][:19]:<19} {size:>10} {created:<20} "
                     f"{','.join(row['platforms'])}")
    return "\n".join(lines)


def _cmd_start(args: argparse.Namespace) -> None:
    registry = LocalRegistry()
    login = login_from(args, registry.address)
    htpasswd = Path(args.htpasswd) if args.htpasswd else None
    if login is not None:
        assert login.username is not None and login.password is not None
        htpasswd = write_htpasswd(registry.root / "htpasswd", {login.username: login.password})
    if htpasswd is not None:
        registry = LocalRegistry(registry.address, registry.root, htpasswd=htpasswd)
    _print_status(registry.start(), args.json)


def _cmd_stop(args: argparse.Namespace) -> None:
    registry = LocalRegistry()
    stopped = registry.stop()
    if args.json:
        print(json.dumps({"address": registry.address, "stopped": stopped}))
    elif stopped:
        print(f"Stopped the workspace registry at {registry.address}.")
    else:
        print(f"No registry started by jupyter-deploy runs at {registry.address}.")


def _cmd_status(args: argparse.Namespace) -> None:
    _print_status(LocalRegistry().status(), args.json)


def _print_status(status: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(status.to_dict()))
    elif status.running:
        print(f"The workspace registry answers at {status.address} ({status.mode}; data in "
              f"{status.root}).")
    else:
        print(f"No registry answers at {status.address}: `jupyter-deploy registry start`.")


def _cmd_pull(args: argparse.Namespace) -> None:
    _transfer(args, images.pull)


def _cmd_push(args: argparse.Namespace) -> None:
    _transfer(args, images.push)


def _transfer(args: argparse.Namespace, action: Any) -> None:
    reference = ImageReference.parse(args.image)
    login = login_from(args, reference.registry or "docker.io")
    progress = text_progress(sys.stderr)
    summary = action(args.image, auth_config=login.auth_config() if login else None,
                     on_event=progress)
    progress.finish()
    print(summary)
