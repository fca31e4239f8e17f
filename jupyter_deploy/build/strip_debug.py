"""Drop the debugging sections of compiled Python extensions, with nothing but Python.

The scoring server's event loop (uvloop) ships a 13.6 MB extension of which 11.7 MB is DWARF
debugging information: installed as is, it alone would break the server's 15 MB image budget.
Base images rarely have ``strip`` (binutils), so the image build runs this file instead, with the
image's own Python, on the server's packages only: ``python strip_debug.py uvloop httptools``.
A user's packages are never touched.

What it does is what ``strip --strip-debug`` does to a shared object, done the cautious way:
everything the dynamic loader reads (every byte up to the end of the last loaded segment and
allocated section) is kept byte for byte; the ``.debug_*`` sections after it become empty
(``SHT_NOBITS``, their headers kept, so no section index changes); the other trailing sections
(symbols, names) are packed behind the loaded part, and the section header table follows them.
Anything that is not a 64-bit little-endian ELF file, or not laid out that way, is left alone.
Standard library only: this file is copied into build contexts.
"""

from __future__ import annotations

import importlib.util
import os
import struct
import sys
import tempfile
from pathlib import Path

_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
_PHDR = struct.Struct("<IIQQQQQQ")
_SHDR = struct.Struct("<IIQQQQIIQQ")
_SHT_NULL, _SHT_NOBITS = 0, 8
_SHF_ALLOC = 0x2


def strip_debug(data: bytes) -> bytes | None:
    """``data`` without its trailing debugging sections, or None when there is nothing to drop."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1 or len(data) < _EHDR.size:
        return None
    header = list(_EHDR.unpack_from(data))
    phoff, shoff, phentsize, phnum, shentsize, shnum, shstrndx = (
        header[5], header[6], header[9], header[10], header[11], header[12], header[13])
    if not shoff or not shnum or shentsize != _SHDR.size or shstrndx >= shnum or (
            phnum and phentsize != _PHDR.size):
        return None
    sections = [list(_SHDR.unpack_from(data, shoff + i * _SHDR.size)) for i in range(shnum)]
    loaded = max([_EHDR.size, phoff + phnum * _PHDR.size] + [
        offset + filesz for _, _, offset, _, _, filesz, _, _ in
        (_PHDR.unpack_from(data, phoff + i * _PHDR.size) for i in range(phnum))] + [
        s[4] + s[5] for s in sections if s[2] & _SHF_ALLOC and s[1] != _SHT_NOBITS])
    names = sections[shstrndx]
    tail = sorted((s for s in sections if s[1] not in (_SHT_NULL, _SHT_NOBITS)
                   and not s[2] & _SHF_ALLOC and s[4] >= loaded), key=lambda s: s[4])
    if not any(_is_debug(data, names, s) for s in tail):
        return None
    out = bytearray(data[:loaded])
    for section in tail:
        offset, size, align = section[4], section[5], max(section[8], 1)
        if _is_debug(data, names, section):
            section[1], section[4] = _SHT_NOBITS, len(out)
            continue
        out += bytes(-len(out) % align)
        section[4] = len(out)
        out += data[offset:offset + size]
    out += bytes(-len(out) % 8)
    header[6] = len(out)
    for section in sections:
        out += _SHDR.pack(*section)
    _EHDR.pack_into(out, 0, *header)
    return bytes(out)


def _is_debug(data: bytes, names: list[int], section: list[int]) -> bool:
    start = names[4] + section[0]
    end = data.find(b"\0", start, names[4] + names[5])
    name = data[start:end if end >= 0 else start]
    return name.startswith((b".debug", b".zdebug"))


def strip_file(path: Path) -> int:
    """Strip ``path`` in place (atomically, mode kept); the number of bytes saved."""
    data = path.read_bytes()
    stripped = strip_debug(data)
    if stripped is None:
        return 0
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(stripped)
        os.chmod(temp, path.stat().st_mode & 0o7777)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise
    return len(data) - len(stripped)


def package_folders(names: list[str]) -> list[Path]:
    """Where this interpreter finds the named top-level packages (without importing them)."""
    found = []
    for name in names:
        spec = importlib.util.find_spec(name)
        for location in (spec.submodule_search_locations or []) if spec else []:
            found.append(Path(location))
    return found


def main(names: list[str]) -> None:
    """Strip the extensions of the named packages and say how much that saved."""
    for folder in package_folders(names):
        saved = sum(strip_file(so) for so in sorted(folder.rglob("*.so")))
        if saved:
            print(f"{folder.name}: {saved / 2**20:.1f} MB of debugging sections dropped")


if __name__ == "__main__":
    main(sys.argv[1:])
