"""Several workers (``--workers`` / ``WORKER_COUNT``): each runs ``init()`` once and serves, and
a worker that dies is replaced, as the peer's gunicorn arbiter does.

The server runs on the host (``jupyter-deploy serve``) so its worker processes can be seen and
killed. Waits are bounded polls that end as soon as the awaited state shows, never sleeps.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

COMPAT = Path(__file__).parents[1] / "compat"
sys.path.insert(0, str(COMPAT))
sys.path.insert(0, str(Path(__file__).parents[1]))

from samples import write_score_py  # noqa: E402
from servers import RunningServer, serving  # noqa: E402

#: Each worker notes its pid when init() runs; run() answers with the pid that served it.
INIT = ("open(os.path.join(os.environ['AZUREML_MODEL_DIR'], 'inits.txt'), 'a')"
        ".write(f'{os.getpid()}\\n')")


def workers_of(server: RunningServer) -> set[int]:
    """The supervisor's live child processes."""
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    return {int(pid) for pid in children.read_text().split()}


def inits(model_dir: Path) -> list[int]:
    path = model_dir / "inits.txt"
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def served_by(server: RunningServer) -> int:
    # a new connection each time, so the kernel hands it to whichever worker accepts first
    answer = requests.post(server.url + "/score", json={"data": [[1]]}, timeout=30,
                           headers={"Connection": "close"})
    answer.raise_for_status()
    return int(answer.json())


def until(condition: Callable[[], bool], what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting: {what}")
        time.sleep(0.05)


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    return folder


@pytest.fixture
def script(tmp_path: Path) -> Path:
    return write_score_py(tmp_path, "os.getpid()", init=INIT, imports="import os")


def test_two_workers_each_run_init_once_and_both_serve(script: Path, model_dir: Path) -> None:
    # Given the server with two workers
    with serving("ours", script, workers=2, model_dir=model_dir) as server:
        until(lambda: len(inits(model_dir)) == 2, "both workers ran init()")
        workers = workers_of(server)
        # Then init() ran once in each worker process
        assert sorted(inits(model_dir)) == sorted(workers) and len(workers) == 2
        # And requests are answered by both
        seen: set[int] = set()
        for _ in range(500):
            seen.add(served_by(server))
            if seen == workers:
                break
        assert seen == workers


def test_a_killed_worker_is_replaced(script: Path, model_dir: Path) -> None:
    # Given the server with two workers, both ready
    with serving("ours", script, workers=2, model_dir=model_dir) as server:
        until(lambda: len(inits(model_dir)) == 2, "both workers ran init()")
        first = workers_of(server)
        # When one is killed as the kernel's out-of-memory killer would
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        # Then a new worker takes its place and runs init()
        until(lambda: len(workers_of(server)) == 2 and victim not in workers_of(server),
              "a replacement worker")
        until(lambda: len(inits(model_dir)) == 3, "the replacement ran init()")
        replacement = (workers_of(server) - first).pop()
        assert inits(model_dir)[-1] == replacement
        # And every request is still answered, by the survivors
        assert all(served_by(server) in workers_of(server) for _ in range(20))
        # And the log says what happened
        assert f"Worker {victim} was killed by SIGKILL; starting a new one" in server.log()


def test_sigterm_stops_every_worker_and_the_server(script: Path, model_dir: Path) -> None:
    with serving("ours", script, workers=2, model_dir=model_dir) as server:
        until(lambda: len(inits(model_dir)) == 2, "both workers ran init()")
        workers = workers_of(server)
        # When the server is asked to stop (as `docker stop` does)
        server.process.send_signal(signal.SIGTERM)
        # Then it exits cleanly, and so did its workers
        assert server.process.wait(30) == 0
        for pid in workers:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)


def test_workers_that_keep_dying_stop_the_server(tmp_path: Path, model_dir: Path) -> None:
    # Given a script whose run() brings its worker down (a crashing native library, say)
    script = write_score_py(tmp_path, "os.kill(os.getpid(), signal.SIGKILL)",
                            imports="import os, signal")
    with serving("ours", script, workers=2, model_dir=model_dir) as server:
        # When requests keep arriving
        for _ in range(50):
            if server.process.poll() is not None:
                break
            with contextlib.suppress(requests.RequestException):
                served_by(server)
            until(lambda: server.process.poll() is not None or len(workers_of(server)) == 2,
                  "a replacement worker, or the end of the server")
        # Then the server gives up with a boot-error status instead of restarting forever
        assert server.process.wait(30) == 3
        assert "Workers died 6 times within 60 s: stopping the server" in server.log()
