"""``make demo``: the quickstart notebook end to end, under a name that is free or already ours.

The notebook deploys its service as ``quickstart``, or as ``QUICKSTART_SERVICE`` says. A
container of that name that jupyter_deploy did not make belongs to someone else and is never
touched: with the default name the demo takes the next name that is free or ours
(``quickstart-2``, …) and says so; with a name given by ``--service`` (``make demo SERVICE=…``)
it stops, saying what to do, before anything is built. At the end it lists the running service.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from run_notebook import execute

from jupyter_deploy.config import LABEL_MANAGED
from jupyter_deploy.engine.client import docker_client
from jupyter_deploy.errors import DeployError

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "quickstart.ipynb"
DEFAULT_NAME = "quickstart"


def holder(name: str) -> str | None:
    """How to describe the container named ``name`` if jupyter_deploy did not make it, else None."""
    matches = [c for c in docker_client().containers.list(all=True, filters={"name": name})
               if c.name == name]
    if not matches or matches[0].labels.get(LABEL_MANAGED) == "true":
        return None
    container = matches[0]
    image = container.attrs.get("Config", {}).get("Image", "?")
    return f"a container jupyter_deploy did not make (image {image}, {container.status})"


def choose_name(given: str | None) -> str:
    """``given`` when it is free or ours; else the first free-or-ours ``quickstart-N``.

    Raises:
        SystemExit: ``given`` is held by a container jupyter_deploy did not make.
    """
    if given:
        taken = holder(given)
        if taken:
            raise SystemExit(
                f"The name {given!r} is taken by {taken}; the demo leaves it alone. Run "
                f"`make demo SERVICE=another-name`, or remove that container yourself if it is "
                "not needed.")
        return given
    name, number = DEFAULT_NAME, 1
    while taken := holder(name):
        number += 1
        print(f"The name {name!r} is taken by {taken}; the demo leaves it alone.")
        name = f"{DEFAULT_NAME}-{number}"
    if name != DEFAULT_NAME:
        print(f"Deploying as {name!r} instead (`make demo SERVICE=…` picks the name).\n")
    return name


def show(name: str) -> None:
    """One line for the service, as ``docker ps`` would print it."""
    for container in docker_client().containers.list(filters={"name": name}):
        if container.name != name:
            continue
        ports = ", ".join(f"{b['HostIp']}:{b['HostPort']}->{inside}"
                          for inside, bound in (container.ports or {}).items() for b in bound or [])
        print(f"\n{'NAME':<20} {'IMAGE':<48} PORTS")
        print(f"{container.name:<20} {container.attrs['Config']['Image']:<48} {ports}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--service", default=None,
                        help=f"the service's name (default: {DEFAULT_NAME}, or the next free one)")
    args = parser.parse_args()
    try:
        name = choose_name(args.service)
    except DeployError as e:  # no engine: say what to do, like the library does
        print(e, file=sys.stderr)
        return 1
    status = execute(NOTEBOOK, env={"QUICKSTART_SERVICE": name})
    if status == 0:
        show(name)
    return status


if __name__ == "__main__":
    sys.exit(main())
