"""The wheels' bytecode, compiled once per wheel on the host and unpacked by every image build.

After uv, compiling the installed modules was most of a cold build's install step (scikit-learn's
stack: about 1,500 files, 2.5 s on two idle cores and several times that on busy ones). The
bytecode depends only on the wheel and the Python minor version, so the host compiles each wheel
once — when its own Python is the image's minor version, hence the same bytecode magic number —
and keeps one tar per wheel in the cache, reused by every environment that holds the wheel.
Changing one requirement compiles only the wheels that changed. The pyc files are hash-based
(checked against their source's hash, not its time), so they stay valid however the installer
dates the files. :mod:`.compile_site` unpacks them in the image and compiles whatever is left.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

from jupyter_deploy.build.wheelhouse import link_or_copy
from jupyter_deploy.config import cache_dir

Log = Callable[[str], None]
#: ``name-1.0.data/purelib/x.py`` and ``…/platlib/x.py`` are installed as ``x.py``.
_DATA = re.compile(r"^[^/]+\.data/(?:purelib|platlib)/")


def link_bytecode(wheels: Sequence[Path], python_version: str, dest: Path,
                  log: Log | None = None) -> int:
    """Put each wheel's bytecode tar under ``dest/<magic>/``, compiling the missing ones first.

    Nothing is done (0 returned) when the host's Python is not the image's minor version: the
    image build then compiles everything itself.
    """
    if python_version != f"{sys.version_info[0]}.{sys.version_info[1]}" or not wheels:
        return 0
    magic = importlib.util.MAGIC_NUMBER.hex()
    cache = cache_dir() / "bytecode" / magic
    missing = [wheel for wheel in wheels if not (cache / f"{wheel.name}.tar").is_file()]
    if missing:
        if log:
            log(f"Compiling the bytecode of {len(missing)} wheel(s), once")
        _compile(missing, cache)
    (dest / magic).mkdir(parents=True, exist_ok=True)
    for wheel in wheels:
        link_or_copy(cache / f"{wheel.name}.tar", dest / magic / f"{wheel.name}.tar")
    return len(wheels)


def _compile(wheels: Sequence[Path], cache: Path) -> None:
    """Unpack the wheels' sources, compile them all in one fresh process, tar each wheel's."""
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="jd-bytecode-") as tmp:
        for wheel in wheels:
            _sources(wheel, Path(tmp) / wheel.name)
        # a fresh interpreter: forking workers from a kernel or a server with threads is unsafe
        subprocess.run([sys.executable, "-m", "compileall", "-q", "-q", "-j", "0",
                        "--invalidation-mode", "checked-hash", "-x", r"[/\\]tests[/\\]", tmp],
                       capture_output=True, check=False)
        for wheel in wheels:
            partial = cache / f"{wheel.name}.tar.partial"
            _tar_bytecode(Path(tmp) / wheel.name, partial)
            os.replace(partial, cache / f"{wheel.name}.tar")


def _sources(wheel: Path, dest: Path) -> None:
    """The wheel's ``.py`` files, where an installer puts them relative to site-packages."""
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            installed = _DATA.sub("", name)
            if not name.endswith(".py") or ".data/" in installed or installed.startswith("/"):
                continue
            target = dest / installed
            if ".." in Path(installed).parts:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(name) as source, target.open("wb") as out:
                shutil.copyfileobj(source, out)


def _tar_bytecode(folder: Path, dest: Path) -> None:
    """Every ``__pycache__/*.pyc`` under ``folder``, with fixed metadata (same bytes each time)."""
    with tarfile.open(dest, "w", format=tarfile.GNU_FORMAT) as archive:
        for path in sorted(folder.rglob("__pycache__/*.pyc")):
            info = tarfile.TarInfo(path.relative_to(folder).as_posix())
            info.size, info.mode = path.stat().st_size, 0o644
            with path.open("rb") as stream:
                archive.addfile(info, stream)
