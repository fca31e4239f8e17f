"""Golden files: text a test renders is compared with the reviewed file checked in beside it.

After an intended change, run the tests with ``UPDATE_GOLDEN=1``: each golden file that changes
is rewritten and its test skipped (not passed), so the new text is reviewed in ``git diff`` and
committed, never accepted silently.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

#: The explicit opt-in that rewrites golden files instead of comparing with them.
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def assert_matches_golden(text: str, path: Path) -> None:
    """Fail with a unified diff unless ``text`` is the golden file at ``path`` (rewrite it and
    skip under ``UPDATE_GOLDEN=1``)."""
    expected = path.read_text() if path.is_file() else None
    if text == expected:
        return
    name = f"{path.parent.name}/{path.name}"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        pytest.skip(f"rewrote {name}: review the diff in git and commit it")
    if expected is None:
        pytest.fail(f"no golden file {name}: run with UPDATE_GOLDEN=1, review the new file and "
                    "commit it")
    diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                        name, "rendered"))
    pytest.fail(f"{name} differs from what the code renders (UPDATE_GOLDEN=1 rewrites it if the "
                f"change is intended):\n{diff}")
