"""The image build's debug-section stripper, on real compiled extensions of this host.

Each case strips a copy of an installed package and then imports and uses it in a fresh
interpreter: a stripped extension that no longer loads would break every image.
"""

from __future__ import annotations

import ast
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_deploy.build import strip_debug

#: What each stripped package must still do once imported.
USES = {
    "uvloop": "import asyncio, uvloop\n"
              "async def main():\n    await asyncio.sleep(0.001)\n    return 42\n"
              "assert uvloop.run(main()) == 42",
    "httptools": "import httptools\n"
                 "class P:\n    url = b''\n"
                 "    def on_url(self, u):\n        P.url += u\n"
                 "httptools.HttpRequestParser(P()).feed_data(b'GET /score HTTP/1.1\\r\\n\\r\\n')\n"
                 "assert P.url == b'/score'",
}


def section_types(path: Path) -> dict[bytes, int]:
    """Section name → type, read from the ELF section header table."""
    data = path.read_bytes()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shnum, shstrndx = struct.unpack_from("<HH", data, 0x3C)
    headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * 64) for i in range(shnum)]
    names_at = headers[shstrndx][4]
    return {data[names_at + h[0]:data.index(b"\0", names_at + h[0])]: h[1] for h in headers}


@pytest.mark.parametrize("package", sorted(USES))
def test_a_stripped_extension_still_loads_and_works(package: str, tmp_path: Path) -> None:
    # Given a copy of an installed compiled package
    source = strip_debug.package_folders([package])[0]
    shutil.copytree(source, tmp_path / package)
    extensions = sorted((tmp_path / package).rglob("*.so"))
    before = sum(so.stat().st_size for so in extensions)
    modes = [so.stat().st_mode for so in extensions]
    # When its debugging sections are dropped
    saved = sum(strip_debug.strip_file(so) for so in extensions)
    # Then it is smaller by what was reported, with no debugging section holding bytes
    assert saved > 0
    assert sum(so.stat().st_size for so in extensions) == before - saved
    assert [so.stat().st_mode for so in extensions] == modes
    for so in extensions:
        kept = {name for name, kind in section_types(so).items() if kind != 8}
        assert not any(name.startswith(b".debug") for name in kept), so
        assert {b".dynsym", b".text", b".symtab"} <= kept
    # And a fresh interpreter imports the stripped copy and uses it
    code = f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n{USES[package]}\n" \
           f"import {package}; assert {package}.__file__.startswith({str(tmp_path)!r})"
    ast.parse(code)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    # And stripping again changes nothing
    assert sum(strip_debug.strip_file(so) for so in extensions) == 0


@pytest.mark.skipif(shutil.which("strip") is None, reason="binutils is not installed")
def test_the_result_is_as_small_as_binutils_strip_debug(tmp_path: Path) -> None:
    # Given uvloop's extension, as shipped (with DWARF)
    shipped = sorted(strip_debug.package_folders(["uvloop"])[0].glob("*.so"))[0]
    ours, theirs = tmp_path / "ours.so", tmp_path / "theirs.so"
    shutil.copyfile(shipped, ours)
    # When it is stripped by us and by `strip --strip-debug`
    strip_debug.strip_file(ours)
    subprocess.run(["strip", "--strip-debug", str(shipped), "-o", str(theirs)], check=True)
    # Then the sizes agree to within a few kB (section alignment)
    assert abs(ours.stat().st_size - theirs.stat().st_size) < 16 * 1024


def test_files_that_are_not_64_bit_elf_are_left_alone(tmp_path: Path) -> None:
    script = tmp_path / "not_elf.so"
    script.write_bytes(b"#!/bin/sh\necho not a shared object\n")
    elf32 = tmp_path / "elf32.so"
    elf32.write_bytes(b"\x7fELF\x01\x01\x01" + bytes(60))
    assert strip_debug.strip_file(script) == 0
    assert strip_debug.strip_file(elf32) == 0
    assert strip_debug.strip_debug(b"\x7fELF\x02\x01") is None


def test_the_command_strips_only_the_named_packages(tmp_path: Path) -> None:
    # Given two compiled packages on the path
    for package in USES:
        shutil.copytree(strip_debug.package_folders([package])[0], tmp_path / package)
    sizes = {so: so.stat().st_size for so in tmp_path.rglob("*.so")}
    # When the command names one of them
    out = subprocess.run([sys.executable, strip_debug.__file__, "httptools"], cwd=tmp_path,
                         env={"PYTHONPATH": str(tmp_path)}, capture_output=True, text=True,
                         check=True).stdout
    # Then only that one shrank, and the saving is reported
    assert "httptools:" in out and "MB of debugging sections dropped" in out
    for so, size in sizes.items():
        assert (so.stat().st_size < size) == ("httptools" in so.parts), so
