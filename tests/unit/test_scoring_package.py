"""The in-image server package is self-contained: what packaging copies is all it imports."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from jupyter_deploy.server import protocol

SCORING = Path(protocol.__file__).parent
#: Imported lazily, only for scripts that use them (and then installed with the script's deps).
OPTIONAL = {"numpy", "pandas"}


def imported_modules(path: Path) -> tuple[set[str], set[str]]:
    """(relative module names, absolute top-level names) imported by ``path``."""
    relative, absolute = set(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            relative |= {node.module} if node.module else {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            absolute.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            absolute |= {a.name.split(".")[0] for a in node.names}
    return relative, absolute


def server_files() -> list[Path]:
    """Every module of the in-image package: the build copies the folder whole."""
    return sorted(SCORING.glob("*.py"))


def test_server_files_import_only_each_other_the_stdlib_and_their_requirements() -> None:
    own = {path.stem for path in server_files()}
    allowed = sys.stdlib_module_names | {r.split("==")[0] for r in protocol.SERVER_REQUIREMENTS}
    for path in server_files():
        relative, absolute = imported_modules(path)
        # the plain-script fallbacks import the same modules by their bare names
        assert relative <= own, (path.name, relative - own)
        assert absolute <= allowed | own | OPTIONAL, (path.name, absolute - allowed - own)


def test_the_build_context_carries_the_whole_server_package(tmp_path: Path) -> None:
    # Given the in-image package folder, when a context's server copy is written
    from jupyter_deploy.build.context import _copy_server

    _copy_server(tmp_path / "jd_scoring")
    # Then every module is there, byte for byte, and nothing else
    copied = sorted(p.name for p in (tmp_path / "jd_scoring").iterdir())
    assert copied == [p.name for p in server_files()]
    for path in server_files():
        assert (tmp_path / "jd_scoring" / path.name).read_bytes() == path.read_bytes()
