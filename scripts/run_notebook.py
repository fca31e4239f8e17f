"""Execute a notebook top to bottom with a real kernel and print what its cells printed.

Used by ``make demo`` (the quickstart end to end) and handy for any sample notebook. Exits
non-zero, with the failing cell's error, when a cell raises.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def text_of(output: nbformat.NotebookNode) -> str:
    """The plain-text form of one cell output."""
    if output.output_type == "stream":
        return str(output.text)
    if output.output_type in ("execute_result", "display_data"):
        return str(output.get("data", {}).get("text/plain", ""))
    return ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args()
    nb = nbformat.read(args.notebook, as_version=4)
    client = NotebookClient(nb, timeout=args.timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(args.notebook.parent)}})
    try:
        client.execute()
    except CellExecutionError as e:
        print(f"{args.notebook} failed:\n{e}", file=sys.stderr)
        return 1
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            print(text_of(output), end="" if text_of(output).endswith("\n") else "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
