"""``jupyter-deploy base-images ls | build NAME``: the prebuilt inference base images, made offline.

The same calls the environment editor and the sidebar make (:mod:`jupyter_deploy.engine.prebuilt`):
``ls`` says what each image holds, which of the seeds' names it stands in for, whether this
engine has it and how big it is; ``build`` makes one (and what it builds on) ahead of the first
deploy that names it.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from jupyter_deploy.engine import prebuilt
from jupyter_deploy.spec.base_catalog import UNAVAILABLE, entry


def _cmd_ls(args: argparse.Namespace) -> None:
    rows = [image.to_dict() for image in prebuilt.list_images()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'NAME':<18}{'BUILT':<7}{'SIZE':<10}STANDS IN FOR")
    for row in rows:
        built = "yes" if row["built"] else "no"
        print(f"{row['name']:<18}{built:<7}{row['size']:<10}{', '.join(row['stands_for'])}")
        print(f"    {row['inside']}")
        print(f"    {', '.join(row['requirements'])}  ({row['image']})")
    names = ", ".join(u.seed_name for u in UNAVAILABLE)
    print(f"Cannot be had here (deploying with them says what to use instead): {names}")


def _cmd_build(args: argparse.Namespace) -> None:
    base = entry(args.name)
    if args.rebuild:
        prebuilt.ensure(base, print)  # what it builds on, when missing
        built = prebuilt.build(base, print, nocache=True)
        tag = built.tag
    else:
        found = prebuilt.status(base)
        tag = found.tag if found.built else prebuilt.ensure(base, print)
    image = prebuilt.status(base)
    print(f"{base.name}: {tag} ({image.to_dict()['size']}), used for "
          f"{', '.join(base.seed_names)}")
    why = prebuilt.no_gpu_reason(prebuilt.engine_info()) if base.gpu else None
    if why:
        print(f"note: it runs where the engine gives containers an NVIDIA GPU; this one gives "
              f"none ({why}), so deploys that name it are refused here.")


def add_parsers(sub: Any) -> None:
    """Add ``base-images`` and its sub-commands."""
    group = sub.add_parser("base-images", help="the prebuilt inference base images (the seeds' "
                           "ONNX Runtime and minimal images, made offline)")
    verbs = group.add_subparsers(dest="verb", required=True)
    p = verbs.add_parser("ls", help="name, what is inside, size, built or not")
    p.add_argument("--json", action="store_true", help="one JSON list")
    p.set_defaults(func=_cmd_ls)
    p = verbs.add_parser("build", help="build one (and what it builds on) from Debian packages "
                         "and PyPI wheels, with no network inside the build")
    p.add_argument("name", help="a name from `base-images ls` (minimal, onnxruntime, …)")
    p.add_argument("--rebuild", action="store_true", help="build again even if it exists")
    p.set_defaults(func=_cmd_build)
