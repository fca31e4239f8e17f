"""The built wheel alone is enough: in a fresh virtual environment both extensions are enabled, OK.

This is what a user gets from ``pip install``: the prebuilt labextension and the server config
that enables the server extension travel inside the wheel, so neither Node.js nor a JupyterLab
build is needed. The check commands run with a PATH holding only the new environment's ``bin``,
and a HOME of their own, so nothing from this machine's Python or user folders can stand in.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run(command: list[str], env: dict[str, str] | None = None) -> str:
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900,
                          check=False)
    output = ANSI.sub("", done.stdout + done.stderr)
    assert done.returncode == 0, f"{command} failed:\n{output[-4000:]}"
    return output


@pytest.fixture(scope="module")
def a_built_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)])
    [wheel] = out.glob("jupyter_deploy-*.whl")
    return wheel


@pytest.mark.timeout(1200)
def test_the_wheel_installs_both_extensions_enabled_without_node(
    a_built_wheel: Path, tmp_path: Path
) -> None:
    # Given a fresh virtual environment
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # When the wheel is installed into it
    run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         str(a_built_wheel)])
    # Then, with no Node.js on the PATH, JupyterLab lists the sidebar and the server extension
    clean = {"PATH": str(env_dir / "bin"), "HOME": str(tmp_path / "home"),
             "LANG": os.environ.get("LANG", "C.UTF-8")}
    assert shutil.which("node", path=clean["PATH"]) is None
    labextensions = run([str(env_dir / "bin" / "jupyter"), "labextension", "list"], clean)
    server_extensions = run([str(env_dir / "bin" / "jupyter"), "server", "extension", "list"],
                            clean)
    assert re.search(r"jupyter-deploy v[\d.]+ enabled\s+OK \(python, jupyter_deploy\)",
                     labextensions), labextensions
    assert re.search(r"jupyter_deploy enabled", server_extensions), server_extensions
    assert re.search(r"jupyter_deploy [\d.]+ OK", server_extensions), server_extensions
