"""The peer, Azure ML's own inference server, in a virtual environment of its own.

Its pins (Flask, gunicorn, pydantic, OpenTelemetry …) must not meet ours, so it lives in
``build/peer-venv``, created on first use from the package index (about 30 s) and reused after.
Both the compatibility suite and ``benchmarks/bench_server.py`` use it.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PEER_VENV = ROOT / "build" / "peer-venv"
#: The peer and what the compatibility scripts import (the same as ours has on the host).
PEER_REQUIREMENTS = ("azureml-inference-server-http==1.5.1", "scikit-learn", "pandas", "joblib")


def peer_command() -> Path:
    """The peer's ``azmlinfsrv``, installing it first when the venv lacks it.

    Raises:
        RuntimeError: pip could not install the peer (its output attached).
    """
    command = PEER_VENV / "bin" / "azmlinfsrv"
    if command.exists():
        return command
    venv.EnvBuilder(with_pip=True, clear=True).create(PEER_VENV)
    proc = subprocess.run(
        [str(PEER_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet",
         "--disable-pip-version-check", *PEER_REQUIREMENTS],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0 or not command.exists():
        raise RuntimeError(f"could not install the peer into {PEER_VENV}:\n{proc.stderr}")
    return command


if __name__ == "__main__":
    print(peer_command())
    sys.exit(0)
