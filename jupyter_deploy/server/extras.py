"""Python package extensibility at start-up: ``AZUREML_EXTRA_REQUIREMENTS_TXT`` and
``AZUREML_EXTRA_PYTHON_LIB_PATH``, applied before the entry script is imported.

Containers have no network, so the extra requirements are installed from the wheels the deploy
step pre-downloaded on the host and mounted (``JD_EXTRA_WHEELS``); with no such folder (the
host's ``jupyter-deploy serve``), pip may use the index. Packages go into a folder of their own
put first on ``sys.path``, so a user's version wins over the image's and the image's own
environment is never modified. Both variables are relative to the source folder.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping

try:
    from . import protocol
except ImportError:  # pragma: no cover - run as a plain script
    import protocol  # type: ignore[no-redef]

log = logging.getLogger("jd_scoring")
_PINNED = re.compile(r"===?\s*[^\s*,;]+\s*(;.*)?$")


class ExtrasError(RuntimeError):
    """The extra requirements could not be installed, or the extra folder does not exist."""


def source_dir(env: Mapping[str, str]) -> str:
    """The folder the two variables are relative to (the peer's source directory)."""
    root = env.get(protocol.ENV_APP_ROOT) or protocol.APP_ROOT
    return os.path.join(root, env.get(protocol.ENV_SOURCE_DIR) or "")


def apply(env: Mapping[str, str] | None = None) -> None:
    """Install the extra requirements and put the extra library folder first on ``sys.path``.

    Raises:
        ExtrasError: a named file or folder is missing, or pip failed (its output included).
    """
    env = os.environ if env is None else env
    if env.get(protocol.ENV_EXTRA_REQUIREMENTS):
        target = install_requirements(env)
        sys.path.insert(0, target)
    if env.get(protocol.ENV_EXTRA_LIB_PATH):
        folder = extra_lib_folder(env)
        sys.path.insert(0, folder)
        log.info("Added %s ahead of the image's packages (%s)", folder,
                 protocol.ENV_EXTRA_LIB_PATH)


def extra_lib_folder(env: Mapping[str, str]) -> str:
    """Where the extra library folder is: the deploy step's mount, else under the source folder.

    Raises:
        ExtrasError: neither exists.
    """
    named = env[protocol.ENV_EXTRA_LIB_PATH]
    for folder in (protocol.EXTRA_LIB_MOUNT, os.path.join(source_dir(env), named)):
        if os.path.isdir(folder):
            return folder
    raise ExtrasError(f"{protocol.ENV_EXTRA_LIB_PATH}={named}: no folder "
                      f"{os.path.join(source_dir(env), named)}; the path is relative to the source "
                      "folder.")


def install_requirements(env: Mapping[str, str]) -> str:
    """Install the named requirements file into a folder of its own; return that folder.

    Raises:
        ExtrasError: the file is missing or pip failed.
    """
    named = env[protocol.ENV_EXTRA_REQUIREMENTS]
    path = os.path.join(source_dir(env), named)
    if os.path.isfile(protocol.EXTRA_REQUIREMENTS_MOUNT):
        path = protocol.EXTRA_REQUIREMENTS_MOUNT
    elif not os.path.isfile(path):
        raise ExtrasError(f"{protocol.ENV_EXTRA_REQUIREMENTS}={named}: no file {path}; the path "
                          "is relative to the source folder.")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for line in unpinned(text):
        log.warning("Requirement %r is not pinned: a later start may install another version "
                    "and break the scoring script; pin it with '=='.", line)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    target = os.path.join(tempfile.gettempdir(), "jd-extra-packages", digest)
    if os.path.isdir(target):
        log.info("Extra requirements from %s already installed in %s", named, target)
        return target
    started = time.perf_counter()
    _pip_install(path, target + ".partial", env.get(protocol.ENV_WHEEL_CACHE) or
                 protocol.WHEEL_CACHE_MOUNT)
    os.replace(target + ".partial", target)
    installed = sorted(os.path.basename(p).split(".dist-info")[0]
                       for p in glob.glob(os.path.join(target, "*.dist-info")))
    log.info("Installed extra requirements from %s in %.1f s: %s", named,
             time.perf_counter() - started, ", ".join(installed) or "nothing")
    return target


def unpinned(text: str) -> list[str]:
    """Requirement lines of ``text`` that do not pin one exact version."""
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return [line for line in lines
            if line and not line.startswith("-") and not _PINNED.search(line)]


def _pip_install(requirements: str, target: str, wheels: str) -> None:
    pip_wheels = sorted(glob.glob(os.path.join(wheels, "pip-*.whl")))
    pip = [os.path.join(pip_wheels[-1], "pip")] if pip_wheels else ["-m", "pip"]
    cmd = [sys.executable, *pip, "install"]
    if os.path.isdir(wheels):  # the deploy step's wheels: never the index
        cmd += ["--no-index", "--find-links", wheels]
    cmd += ["--disable-pip-version-check", "--no-warn-script-location", "--quiet",
            "--target", target, "-r", requirements]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ExtrasError(f"pip could not install {requirements}:\n{proc.stdout}{proc.stderr}")
