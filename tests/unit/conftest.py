"""Fixtures shared by the unit suites: of the magics (a fake core, a shell with the extension)
and of the scoring server (the app around a script, with no socket)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from test_magics_fakes import FakeCore, install_fake_core, shell_with_extension

from jupyter_deploy.server import aml, auth, entry, shims
from jupyter_deploy.server.app import ScoringApp
from jupyter_deploy.server.settings import Settings

COMPAT = Path(__file__).parents[1] / "compat" / "scripts"


@pytest.fixture
def a_core(monkeypatch: pytest.MonkeyPatch) -> FakeCore:
    return install_fake_core(monkeypatch)


@pytest.fixture
def a_shell(a_core: FakeCore) -> Iterator[InteractiveShell]:
    yield from shell_with_extension()


@pytest.fixture
def an_app_for(tmp_path: Path) -> Iterator[Callable[..., ScoringApp]]:
    """Builds the scoring app around a compat script (by name) or around script text; ``keys``
    puts it behind bearer keys, other keywords are its settings."""
    aml._rawHttpRequested = False
    shims.install()

    def build(name: str = "", text: str = "", keys: auth.KeyFiles | None = None,
              **settings: Any) -> ScoringApp:
        path = COMPAT / f"{name}.py"
        if text:
            path = tmp_path / "score.py"
            path.write_text(textwrap.dedent(text))
        script = entry.UserScript(str(path))
        script.load()
        script.init()
        config = Settings(str(path), str(path.parent), **settings)
        return ScoringApp(script, config) if keys is None else \
            auth.GuardedApp(script, config, keys)

    yield build
    aml._rawHttpRequested = False
