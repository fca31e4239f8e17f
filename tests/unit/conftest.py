"""Fixtures shared by the unit suites of the magics (a fake core, a shell with the extension)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell
from test_magics_fakes import FakeCore, install_fake_core, shell_with_extension


@pytest.fixture
def a_core(monkeypatch: pytest.MonkeyPatch) -> FakeCore:
    return install_fake_core(monkeypatch)


@pytest.fixture
def a_shell(a_core: FakeCore) -> Iterator[InteractiveShell]:
    yield from shell_with_extension()
