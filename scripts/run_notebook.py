"""Execute a notebook top to bottom with a real kernel and print what its cells printed.

Used by ``make demo`` (through ``scripts/demo.py``) and handy for any sample notebook. Exits
non-zero when a cell raises, ending with the cell's number and its error in one line.
``--env NAME=VALUE`` adds a variable to the kernel's environment (repeatable).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def text_of(output: nbformat.NotebookNode) -> str:
    """The plain-text form of one cell output."""
    if output.output_type == "stream":
        return str(output.text)
    if output.output_type in ("execute_result", "display_data"):
        return str(output.get("data", {}).get("text/plain", ""))
    return ""


def execute(notebook: Path, timeout: int = 900, env: Mapping[str, str] | None = None) -> int:
    """Run ``notebook`` in its own folder, print its outputs; 0, or 1 when a cell raised."""
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(notebook.parent)}})
    try:
        client.execute(env={**os.environ, **(env or {})})
    except CellExecutionError as e:
        print_outputs(nb)
        print(ANSI.sub("", e.traceback), file=sys.stderr)
        print(f"\n{notebook} stopped in cell {_failed_cell(nb)}: {e.ename}: "
              f"{ANSI.sub('', e.evalue)}", file=sys.stderr)
        return 1
    print_outputs(nb)
    return 0


def print_outputs(nb: nbformat.NotebookNode) -> None:
    """What the cells printed and showed, as plain text, in order."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = text_of(output)
            print(text, end="" if text.endswith("\n") else "\n")


def _failed_cell(nb: nbformat.NotebookNode) -> int:
    """The 1-based number, among code cells, of the cell that raised."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    for number, cell in enumerate(code, start=1):
        if any(o.output_type == "error" for o in cell.get("outputs", [])):
            return number
    return len(code)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a variable for the kernel's environment (repeatable)")
    args = parser.parse_args()
    if any("=" not in item for item in args.env):
        parser.error("--env takes NAME=VALUE")
    env = dict(item.split("=", 1) for item in args.env)
    return execute(args.notebook, args.timeout, env)


if __name__ == "__main__":
    sys.exit(main())
