"""The peer, Azure ML's own inference server, in a virtual environment of its own.

Its pins (Flask, gunicorn, pydantic, OpenTelemetry …) must not meet ours, so it lives in
``build/peer-venv``, created on first use from the package index (about 30 s) and reused after.
Both the compatibility suite and ``benchmarks/bench_server.py`` use it; two runs starting at once
take turns (a file lock), so neither uses a half-made venv nor makes it again under the other.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PEER_VENV = ROOT / "build" / "peer-venv"
#: Written once the venv holds everything: a venv without it is half-made.
COMPLETE = PEER_VENV / ".complete"
#: The peer and what the compatibility scripts import (the same as ours has on the host).
PEER_REQUIREMENTS = ("azureml-inference-server-http==1.5.1", "scikit-learn", "pandas", "joblib")


def peer_command() -> Path:
    """The peer's ``azmlinfsrv``, installing it first when the venv lacks it.

    Raises:
        RuntimeError: pip could not install the peer (its output attached).
    """
    command = PEER_VENV / "bin" / "azmlinfsrv"
    if COMPLETE.exists():
        return command
    PEER_VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(PEER_VENV.with_name("peer-venv.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run installing it: wait for that one
        if COMPLETE.exists():
            return command
        venv.EnvBuilder(with_pip=True, clear=True).create(PEER_VENV)
        proc = subprocess.run(
            [str(PEER_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet",
             "--disable-pip-version-check", *PEER_REQUIREMENTS],
            capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0 or not command.exists():
            raise RuntimeError(f"could not install the peer into {PEER_VENV}:\n{proc.stderr}")
        COMPLETE.touch()
    return command


if __name__ == "__main__":
    print(peer_command())
    sys.exit(0)
