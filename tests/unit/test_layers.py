"""The package's architecture, checked over its import graph (every import, lazy ones included).

Layers import only downward or within themselves; no module imports itself round a cycle; the
spec and build layers never import ``docker``; nothing below the front ends imports IPython,
ipywidgets, Tornado or Jupyter Server; the in-image server imports only itself and the standard
library (``test_scoring_package.py`` checks its pinned requirements). A module that breaks a rule
fails here with the offending import named.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import jupyter_deploy

PACKAGE = Path(jupyter_deploy.__file__).parent
ROOT = "jupyter_deploy"

#: Bottom to top; a module may import from its own layer and the layers before it.
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("leaves", frozenset({"errors", "config", "_version", "server"})),
    ("spec", frozenset({"spec"})),
    ("build", frozenset({"build"})),
    ("engine", frozenset({"engine"})),
    ("registry", frozenset({"registry"})),
    ("scoring", frozenset({"scoring"})),
    ("targets", frozenset({"targets"})),
    ("services", frozenset({"services"})),
    ("notebook", frozenset({"notebook"})),
    ("front ends", frozenset({"cli", "magics", "widgets", "serverext", "azureml"})),
    ("public face", frozenset({"__init__"})),
)
FRONT_END_ONLY = ("IPython", "ipywidgets", "tornado", "jupyter_server", "ipykernel")
NO_DOCKER = ("spec", "build")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_of(path: Path) -> Iterator[tuple[str, int]]:
    """Every module ``path`` imports (ours resolved to a module), with its line."""
    this = module_name(path)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield (candidate if is_module(candidate) else base), node.lineno


def layer_of(module: str) -> int:
    parts = module.split(".")
    key = parts[1] if len(parts) > 1 else "__init__"
    for index, (_, members) in enumerate(LAYERS):
        if key in members:
            return index
    raise AssertionError(f"{module} belongs to no layer: add its folder to LAYERS")


def graph() -> dict[str, dict[str, int]]:
    """module → {imported module of ours: line}."""
    edges: dict[str, dict[str, int]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        this = module_name(path)
        edges[this] = {name: line for name, line in imports_of(path)
                       if (name == ROOT or name.startswith(ROOT + ".")) and name != this}
    return edges


def foreign_imports() -> Iterator[tuple[str, str, int]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        for name, line in imports_of(path):
            if not name.startswith(ROOT):
                yield module_name(path), name, line


def test_every_module_is_in_a_layer_and_layers_import_only_downward() -> None:
    upward = [
        f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} "
        f"({LAYERS[layer_of(target)][0]}) on line {line}"
        for module, targets in graph().items() for target, line in targets.items()
        if layer_of(target) > layer_of(module)
    ]
    assert not upward, "\n".join(upward)


def test_no_import_cycles() -> None:
    edges = graph()
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for nxt in edges.get(node, {}):
            if state.get(nxt) == "open":
                cycles.append([*trail[trail.index(nxt):], nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = "done"

    for start in edges:
        if start not in state:
            visit(start, [start])
    # The package's __init__ imports its own submodules (the public face), and they reach it
    # only through Python's import of their parent package, never by an import statement.
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("layer", NO_DOCKER)
def test_specs_and_builds_never_import_docker(layer: str) -> None:
    found = [f"{m} imports {name} on line {line}" for m, name, line in foreign_imports()
             if m.split(".")[1:2] == [layer] and name.split(".")[0] == "docker"]
    assert not found, "\n".join(found)


def test_nothing_below_the_front_ends_imports_notebook_or_server_frameworks() -> None:
    front = next(i for i, (name, _) in enumerate(LAYERS) if name == "front ends")
    found = [f"{m} imports {name} on line {line}" for m, name, line in foreign_imports()
             if name.split(".")[0] in FRONT_END_ONLY and layer_of(m) < front]
    assert not found, "\n".join(found)


def _in_server(module: str) -> bool:
    return module == f"{ROOT}.server" or module.startswith(f"{ROOT}.server.")


def test_the_in_image_server_imports_nothing_of_the_host_package() -> None:
    found = [f"{m} imports {target} on line {line}" for m, targets in graph().items()
             if _in_server(m) for target, line in targets.items() if not _in_server(target)]
    assert not found, "\n".join(found)


def test_the_top_level_keeps_only_the_package_face() -> None:
    files = sorted(p.name for p in PACKAGE.iterdir() if p.is_file())
    assert files == ["__init__.py", "_version.py", "config.py", "errors.py", "py.typed"]


def test_the_inference_config_schema_and_the_deploy_options_name_the_same_keys() -> None:
    # One definition of the deploy options: the JSON keys the schema accepts are the table's
    from jupyter_deploy.spec.options import IC_KEYS
    from jupyter_deploy.spec.schema import INFERENCE

    assert set(INFERENCE) == set(IC_KEYS)
