"""Put the packages' bytecode next to their sources in the image's environment, quickly.

Compiling scikit-learn's stack took most of a cold build's install step, and skipping it costs
every container start about as much. The host compiles each wheel's modules once
(:mod:`jupyter_deploy.build.bytecode`) into one tar per wheel, in a folder named after the
bytecode's magic number; when that is this interpreter's, the build only unpacks them, each file
next to the source it was compiled from. Whatever is still without bytecode (the host runs
another Python, a file no wheel held) is compiled here on every core. The packages' own test
suites are skipped: seldom imported, they compile when they are. Standard library only: this
file is copied into build contexts and runs with the image's Python.

    python compile_site.py BYTECODE_FOLDER
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import py_compile
import re
import sys
import sysconfig
import tarfile
from multiprocessing import Pool

_SKIP = re.compile(r"[/\\]tests[/\\]")
_MEMBER = re.compile(r"^(?:[\w.-]+/)*__pycache__/[\w.-]+\.pyc$")


def site_folders() -> list[str]:
    """The environment's package folders (purelib and platlib, usually one)."""
    paths = sysconfig.get_paths()
    return sorted({paths["purelib"], paths["platlib"]})


def unpack(folder: str, site: str) -> int:
    """Unpack the tars made for this interpreter's bytecode; the number of files put in place."""
    count = 0
    tars = os.path.join(folder, importlib.util.MAGIC_NUMBER.hex())
    for name in sorted(os.listdir(tars)) if os.path.isdir(tars) else []:
        with tarfile.open(os.path.join(tars, name)) as archive:
            for member in archive.getmembers():
                count += _put(archive, member, site)
    return count


def _put(archive: tarfile.TarFile, member: tarfile.TarInfo, site: str) -> int:
    """Write one ``…/__pycache__/X.tag.pyc`` whose ``X.py`` is installed; 1 if written."""
    if not member.isfile() or not _MEMBER.match(member.name):
        return 0
    parent, _, cached = member.name.rpartition("__pycache__/")
    source = os.path.join(site, parent, cached.split(".")[0] + ".py")
    if not os.path.isfile(source):
        return 0
    stream = archive.extractfile(member)
    if stream is None:
        return 0
    target = os.path.join(site, member.name)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as out:
        out.write(stream.read())
    return 1


def uncompiled(site: str) -> list[str]:
    """Sources outside test suites that have no bytecode yet."""
    found = []
    for root, dirs, files in os.walk(site):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            path = os.path.join(root, name)
            if name.endswith(".py") and not _SKIP.search(path) and not os.path.exists(
                    importlib.util.cache_from_source(path)):
                found.append(path)
    return found


def _compile(path: str) -> None:
    # what does not compile here fails the same way, with its message, on import
    with contextlib.suppress(py_compile.PyCompileError, OSError, ValueError):
        py_compile.compile(path, doraise=True)


def main(folder: str) -> None:
    for site in site_folders():
        unpacked = unpack(folder, site)
        missing = uncompiled(site)
        if len(missing) > 64:
            with Pool(os.cpu_count() or 1) as pool:
                pool.map(_compile, missing, chunksize=16)
        else:
            for path in missing:
                _compile(path)
        print(f"bytecode: {unpacked} files compiled on the host, {len(missing)} here")


if __name__ == "__main__":
    main(sys.argv[1])
