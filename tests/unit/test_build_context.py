"""The build context's content hash: equal inputs give equal tags, in bounded memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from jupyter_deploy.build.context import content_digest
from jupyter_deploy.build.wheelhouse import platforms_for
from jupyter_deploy.errors import DependencyError


def test_the_hash_depends_on_names_and_bytes(tmp_path: Path) -> None:
    # Given two folders with the same files
    for folder in ("a", "b"):
        (tmp_path / folder / "models").mkdir(parents=True)
        (tmp_path / folder / "models" / "w.bin").write_bytes(b"\0" * 10)
    # Then they hash alike, and a changed byte or name changes the hash
    assert content_digest(tmp_path / "a") == content_digest(tmp_path / "b")
    (tmp_path / "b" / "models" / "w.bin").write_bytes(b"\0" * 9 + b"\1")
    assert content_digest(tmp_path / "a") != content_digest(tmp_path / "b")
    (tmp_path / "b" / "models" / "w.bin").rename(tmp_path / "b" / "models" / "v.bin")
    assert content_digest(tmp_path / "a") != content_digest(tmp_path / "b")


def test_a_large_model_is_hashed_in_bounded_memory(tmp_path: Path) -> None:
    # Given a 256 MB model file (sparse: it costs no disk)
    model = tmp_path / "context" / "model.bin"
    model.parent.mkdir()
    with model.open("wb") as f:
        f.truncate(256 * 1024 * 1024)
    # When the context is hashed
    tracemalloc.start()
    try:
        content_digest(model.parent)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Then Python held a few megabytes at most, not the file
    assert peak < 8 * 1024 * 1024, peak


@pytest.mark.parametrize(("engine_says", "machine"), [
    ("x86_64", "x86_64"), ("amd64", "x86_64"), ("aarch64", "aarch64"), ("arm64", "aarch64"),
])
def test_wheels_are_picked_for_the_engines_machine(engine_says: str, machine: str) -> None:
    tags = platforms_for(engine_says)
    assert tags[0] == f"manylinux_2_28_{machine}" and tags[-1] == f"linux_{machine}"
    assert all(tag.endswith(machine) for tag in tags)


def test_a_machine_without_wheel_tags_is_named() -> None:
    with pytest.raises(DependencyError, match="s390x"):
        platforms_for("s390x")
