"""Start our scoring server and the peer on the host, side by side, and stop them again.

Each server runs in a process group of its own (the peer is a gunicorn master with workers), so
stopping it ends exactly the processes this module started. Readiness is a health poll that
raises when the process exits or the deadline passes — never a fixed sleep.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import requests
from peer import peer_command

# The benchmarks import this module from outside pytest: tests/ holds ports.py.
if str(Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ports import an_unused_port


@dataclass
class RunningServer:
    """A scoring server process on 127.0.0.1:``port``, with its log file."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start(kind: str, script: Path, port: int | None = None, workers: int | None = 1,
          env: Mapping[str, str] | None = None, model_dir: Path | str | None = None,
          cwd: Path | None = None, app_root: bool = True,
          args: list[str] | None = None) -> RunningServer:
    """Start ``ours`` or ``peer`` on ``script`` (not waiting for it), by default on a port
    reserved for this run (see ``tests/ports.py``).

    ``workers=None`` passes no worker option (``WORKER_COUNT`` then decides); ``model_dir`` is
    passed as given (a relative one stays relative); ``cwd`` is the server's working folder (the
    script's by default); ``app_root=False`` leaves ``AML_APP_ROOT`` unset; ``args`` are more
    command-line arguments, spelled as the peer's (ours accepts its spellings).
    """
    port = port or an_unused_port()
    model_dir = model_dir or Path(tempfile.mkdtemp(prefix="jd-model-"))
    environ = {**os.environ, "AZUREML_MODEL_DIR": str(model_dir),
               "AML_APP_ROOT": str(script.parent), **(env or {})}
    environ.pop("AZUREML_ENTRY_SCRIPT", None)
    if not app_root:
        environ.pop("AML_APP_ROOT", None)
    count = [] if workers is None else [str(workers)]
    if kind == "peer":
        cmd = [str(peer_command()), "--entry_script", str(script), "--port", str(port),
               *(["--worker_count", *count] if count else []), "--model_dir", str(model_dir)]
    else:
        cmd = [sys.executable, "-m", "jupyter_deploy.cli", "serve", "--entry-script", str(script),
               "--port", str(port), *(["--workers", *count] if count else []),
               "--model-dir", str(model_dir)]
    cmd += args or []
    log_path = Path(tempfile.mkstemp(prefix=f"jd-{kind}-", suffix=".log")[1])
    with open(log_path, "wb") as log:
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=environ,
                                   cwd=cwd or script.parent, start_new_session=True)
    return RunningServer(kind, process, port, log_path)


def wait_until_healthy(server: RunningServer, timeout: float = 60.0) -> None:
    """Poll ``GET /`` until it answers 200.

    Raises:
        RuntimeError: the process exited, or did not answer within ``timeout`` (log attached).
    """
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}:\n"
                               f"{server.log()[-3000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(server.url + "/", timeout=1).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server.name} did not answer in {timeout:.0f} s:\n"
                               f"{server.log()[-3000:]}")
        time.sleep(0.1)


def stop(server: RunningServer) -> None:
    """End the server's process group (SIGTERM, then SIGKILL after 10 s)."""
    if server.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()


@contextlib.contextmanager
def serving(kind: str, script: Path, **options: object) -> Iterator[RunningServer]:
    """A healthy server for the duration of the block."""
    server = start(kind, script, **options)  # type: ignore[arg-type]
    try:
        wait_until_healthy(server)
        yield server
    finally:
        stop(server)
