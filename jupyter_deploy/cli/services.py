"""Service sub-commands of `jupyter-deploy`: ls, state, logs, score, reload, update, stop, start,
rm, scale, keys, regen-key.

Each handler is one call on a :class:`~jupyter_deploy.services.deployment.Deployment` found by name,
the same calls the magics, widgets and sidebar make — so a service deployed from a notebook can be
watched, scored and iterated on from a terminal, and the other way round.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from jupyter_deploy.services.deployment import Deployment, DeploymentCollection


def _service(args: argparse.Namespace) -> Deployment:
    return DeploymentCollection().get(args.name)


def _cmd_ls(args: argparse.Namespace) -> None:
    rows = [service.summary() for service in DeploymentCollection().list()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        print(f"{row['name']}\t{row['state']}\t{row['scoring_uri'] or '-'}\t{row['image']}"
              f"\t{row['target']}\t{row['replicas']}")


def _cmd_state(args: argparse.Namespace) -> None:
    print(_service(args).state)


def _cmd_score(args: argparse.Namespace) -> None:
    body = sys.stdin.read() if args.data == "-" else args.data
    result = _service(args).score(body)
    print(json.dumps(result.value))
    print(f"{result.seconds * 1000:.1f} ms", file=sys.stderr)


def _cmd_logs(args: argparse.Namespace) -> None:
    print(_service(args).logs(args.lines))


def _cmd_reload(args: argparse.Namespace) -> None:
    service = _service(args)
    service.reload(entry_script=args.entry_script, source_dir=args.source_dir, log=print)
    print(f"{service.name}: reloaded, answering at {service.scoring_uri}")


def _cmd_update(args: argparse.Namespace) -> None:
    service = _service(args)
    service.update(entry_script=args.entry_script, log=print)
    print(f"{service.name}: updated, answering at {service.scoring_uri}")


def _cmd_stop(args: argparse.Namespace) -> None:
    service = _service(args)
    if args.kill:
        service.kill()
    else:
        service.stop()
    print(f"{service.name}: {service.state}")


def _cmd_start(args: argparse.Namespace) -> None:
    service = _service(args)
    service.start(log=print)
    print(f"{service.name}: {service.state} at {service.scoring_uri}")


def _cmd_rm(args: argparse.Namespace) -> None:
    _service(args).remove(image=args.image)


def _cmd_scale(args: argparse.Namespace) -> None:
    service = _service(args)
    service.scale(args.replicas)
    service.wait_until_ready(log=None)
    healthy, desired = service.replicas
    print(f"{service.name}: {healthy}/{desired} replicas healthy")


def _cmd_keys(args: argparse.Namespace) -> None:
    primary, secondary = _service(args).get_keys()
    print(json.dumps({"primaryKey": primary, "secondaryKey": secondary}, indent=2))


def _cmd_regen_key(args: argparse.Namespace) -> None:
    service = _service(args)
    service.regen_key(args.key, args.set_key)
    print(f"{service.name}: the {args.key.lower()} key was renewed (`jupyter-deploy keys "
          f"{service.name}` shows it)")


def add_parsers(sub: Any) -> None:
    """Add the service sub-commands to the main parser."""
    p = sub.add_parser("ls", help="list services with their state and scoring URI")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_ls)
    _named(sub, "state", "a service's state (Healthy, Failed, …)", _cmd_state)
    p = _named(sub, "score", "score JSON against a service ('-' reads stdin)", _cmd_score)
    p.add_argument("data")
    p = _named(sub, "logs", "a service's log tail", _cmd_logs)
    p.add_argument("--lines", type=int, default=100)
    p = _named(sub, "reload", "put an edited score.py into a running service (no build)",
               _cmd_reload)
    p.add_argument("--entry-script", help="the edited script (default: the one deployed)")
    p.add_argument("--source-dir", help="copy this whole folder too")
    p = _named(sub, "update", "rebuild what changed and swap the container, same port",
               _cmd_update)
    p.add_argument("--entry-script", help="a new entry script (default: the one deployed)")
    p = _named(sub, "stop", "stop a service (docker stop; --kill for docker kill)", _cmd_stop)
    p.add_argument("--kill", action="store_true")
    _named(sub, "start", "start a stopped service again", _cmd_start)
    p = _named(sub, "rm", "remove a service", _cmd_rm)
    p.add_argument("--image", action="store_true", help="remove its image too")
    p = _named(sub, "scale", "run N replicas of a cluster service", _cmd_scale)
    p.add_argument("replicas", type=int)
    _named(sub, "keys", "print a service's primary and secondary keys (auth on)", _cmd_keys)
    p = _named(sub, "regen-key", "renew one key of a service (the other keeps working)",
               _cmd_regen_key)
    p.add_argument("--key", choices=["Primary", "Secondary"], required=True)
    p.add_argument("--set-key", help="the new value (default: a random one)")


def _named(sub: Any, command: str, help_text: str, func: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(command, help=help_text)
    parser.add_argument("name", help="the service's name")
    parser.set_defaults(func=func)
    return parser
