"""The in-image server package is self-contained: what packaging copies is all it imports."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from jupyter_deploy.scoring import protocol

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


def test_server_files_import_only_each_other_the_stdlib_and_their_requirements() -> None:
    own = {name.removesuffix(".py") for name in protocol.SERVER_FILES}
    allowed = sys.stdlib_module_names | {r.split("==")[0] for r in protocol.SERVER_REQUIREMENTS}
    for name in protocol.SERVER_FILES:
        relative, absolute = imported_modules(SCORING / name)
        # the plain-script fallbacks import the same modules by their bare names
        assert relative <= own, (name, relative - own)
        assert absolute <= allowed | own | OPTIONAL, (name, absolute - allowed - own)


def test_every_listed_file_exists() -> None:
    assert all((SCORING / name).is_file() for name in protocol.SERVER_FILES)
