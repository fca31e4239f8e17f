"""The step that installs the wheelhouse into the image's virtual environment: uv, pip as fallback.

pip spent most of a cold build unpacking wheels one file at a time. uv (a PyPI wheel holding one
binary) unpacks them in parallel, offline with ``--no-index --find-links``. Like pip, it is
downloaded on the host for the *image's* platform, once, and its binary travels in the build
context next to the wheels, so the build still needs no network. When uv refuses (a base image
without glibc, an environment it cannot read, a requirement it will not resolve), its own
message stays in the build log, one line says so, and pip installs the same wheels instead.

Both leave the packages compiled to bytecode, so a container never compiles them at start (that
cost scikit-learn's stack about 2.5 s per start here). pip compiles as it installs; after uv,
the bytecode the host compiled once per wheel is unpacked, and the rest compiled on every core
(:mod:`.bytecode`, ``compile_site.py``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from jupyter_deploy.config import cache_dir
from jupyter_deploy.errors import DependencyError

Installer = Literal["uv", "pip"]
#: The installers an image build can use; the first is the default.
INSTALLERS: tuple[Installer, ...] = ("uv", "pip")
#: The binary's name inside the build context's wheel folder.
UV_BINARY = "uv"
#: The install step's script, next to the wheels in the build context.
SCRIPT = "install.sh"
#: Copied next to the wheels: puts the bytecode in place after uv (see ``compile_site.py``).
COMPILE_TOOL = "compile_site.py"
#: The folder of bytecode tars next to the wheels (see :mod:`jupyter_deploy.build.bytecode`).
BYTECODE = "bytecode"
#: The line the build prints when uv refused and pip took over (found in logs by this text).
FALLBACK_NOTICE = "jupyter-deploy: uv refused to install these requirements (its reason is above)"

Log = Callable[[str], None]


def fetch_uv(python_version: str, platforms: Sequence[str], log: Log | None = None) -> Path:
    """The uv binary for the image's platform, downloaded and unpacked on the first call only.

    Raises:
        DependencyError: no uv wheel could be downloaded for the platform.
    """
    key = hashlib.sha256(json.dumps(["uv", python_version, list(platforms)]).encode())
    folder = cache_dir() / "installers" / key.hexdigest()[:24]
    binary = folder / UV_BINARY
    if binary.is_file():
        return binary
    if log:
        log(f"Downloading the uv installer for {platforms[0]}")
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--quiet",
           "--only-binary=:all:", "--no-deps", "--python-version", python_version,
           "--implementation", "cp", "-d", str(partial)]
    for platform in platforms:
        cmd += ["--platform", platform]
    proc = subprocess.run([*cmd, "uv"], capture_output=True, text=True, check=False)
    wheels = sorted(partial.glob("uv-*.whl"))
    if proc.returncode != 0 or not wheels:
        shutil.rmtree(partial, ignore_errors=True)
        raise DependencyError(
            f"could not download the uv installer for {platforms[0]}: "
            f"{(proc.stderr or proc.stdout).strip()[-400:]}\nCheck the connection to the package "
            "index, or build with installer='pip'.", ("uv",), log=proc.stderr)
    _unpack_binary(wheels[0], partial / UV_BINARY)
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return binary


def _unpack_binary(wheel: Path, dest: Path) -> None:
    """Copy ``uv-<version>.data/scripts/uv`` out of the wheel, executable."""
    with zipfile.ZipFile(wheel) as archive:
        member = next((n for n in archive.namelist() if n.endswith(".data/scripts/uv")), None)
        if member is None:
            raise DependencyError(f"{wheel.name} holds no uv binary: delete {wheel.parent} "
                                  "and build again, or build with installer='pip'.", ("uv",))
        with archive.open(member) as source, dest.open("wb") as target:
            shutil.copyfileobj(source, target, 1 << 20)
    os.chmod(dest, 0o755)


def install_line(installer: Installer, venv: str, wheels: str, requirements: str) -> str:
    """The shell command that makes ``venv`` and installs ``requirements`` from ``wheels``."""
    return f"sh {wheels}/{SCRIPT} {installer} {venv} -r {requirements}"


#: The install step's script, written next to the wheels. The venv sees the base image's own
#: packages (pre-installed slow software is the point of a custom base image); the
#: environment's packages override them. A venv the base image already has at that path (a
#: package image used as a base) is kept and added to.
SCRIPT_TEXT = f"""#!/bin/sh
# Written by jupyter_deploy. Installs the wheels in this folder into a new virtual environment
# with uv, or with pip when uv refuses (uv's reason stays in the log above the notice).
# Usage: sh {SCRIPT} uv|pip VENV -r REQUIREMENTS
set -e
installer=$1
venv=$2
shift 2
wheels=$(dirname "$0")
if [ "$installer" = uv ]; then
    if "$wheels/{UV_BINARY}" venv --allow-existing --system-site-packages --python python3 \\
            --python-preference only-system --offline "$venv" \\
        && "$wheels/{UV_BINARY}" pip install --python "$venv/bin/python" --offline --no-index \\
            --no-cache --find-links "$wheels" "$@"; then
        # bytecode now, not at every container start: the host's, else compiled here
        if [ -f "$wheels/{COMPILE_TOOL}" ]; then
            "$venv/bin/python" "$wheels/{COMPILE_TOOL}" "$wheels/{BYTECODE}" || :
        else
            "$venv/bin/python" -m compileall -q -j 0 "$venv/lib" >/dev/null || :
        fi
        exit 0
    fi
    echo "{FALLBACK_NOTICE}: installing them with pip instead"
fi
python3 -m venv --system-site-packages --without-pip "$venv"
"$venv/bin/python" "$(ls -d "$wheels"/pip-*.whl)/pip" install --no-index --no-cache-dir \\
    --disable-pip-version-check --find-links "$wheels" "$@"
"""
