"""Pulls the sidebar started: each runs on its own thread, reports progress, and can be cancelled.

A pull of a large image takes minutes; the sidebar polls a job's snapshot (fraction, layers,
bytes) to draw a progress bar, and a cancel closes the engine connection so the engine stops.
Jobs are kept a while after they end so a late poll still reads the outcome.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from jupyter_deploy.engine.images import pull
from jupyter_deploy.engine.progress import ProgressAggregator
from jupyter_deploy.errors import DeployError, PullCancelledError, ServiceNotFoundError

#: Seconds a finished job stays readable.
KEEP_SECONDS = 600.0


class PullJob:
    """One pull in the background; :meth:`snapshot` is what the sidebar reads."""

    def __init__(self, job_id: str, reference: str, auth_config: Mapping[str, str] | None,
                 on_done: Callable[[], None]) -> None:
        self.id, self.reference = job_id, reference
        self.progress = ProgressAggregator()
        self.state, self.status, self.message = "running", "", ""
        self.ended: float | None = None
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(auth_config, on_done),
                                        name=f"jupyter-deploy-pull-{job_id}", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        """Ask the pull to stop (it does at the engine's next progress event)."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the pull ended (for tests and scripts)."""
        self._thread.join(timeout)

    def snapshot(self) -> dict[str, Any]:
        """The job as JSON: state (running, done, failed, cancelled), progress and outcome."""
        return {"id": self.id, "reference": self.reference, "state": self.state,
                "fraction": round(self.progress.fraction, 4), "layers": len(self.progress.layers),
                "layers_done": self.progress.layers_done, "progress": self.progress.describe(),
                "status": self.status, "message": self.message}

    def _run(self, auth_config: Mapping[str, str] | None, on_done: Callable[[], None]) -> None:
        try:
            self.status = pull(self.reference, auth_config=auth_config, on_event=self.progress,
                               cancelled=self._cancel.is_set)
            self.progress.finish()
            self.state = "done"
        except PullCancelledError as e:
            self.state, self.message = "cancelled", e.message
        except DeployError as e:
            self.state, self.message = "failed", e.message
        finally:
            self.ended = time.monotonic()
            on_done()


class PullJobs:
    """The pulls of one server, by id."""

    def __init__(self) -> None:
        self._jobs: dict[str, PullJob] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def start(self, reference: str, auth_config: Mapping[str, str] | None,
              on_done: Callable[[], None]) -> PullJob:
        """Start pulling ``reference``; the job is returned at once."""
        with self._lock:
            self._forget_old()
            job = PullJob(str(next(self._ids)), reference, auth_config, on_done)
            self._jobs[job.id] = job
        return job

    def get(self, job_id: str) -> PullJob:
        """The job ``job_id``.

        Raises:
            ServiceNotFoundError: no such job (or it ended long ago).
        """
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise ServiceNotFoundError(f"no pull {job_id!r} here: it may have ended long ago.")
        return job

    def _forget_old(self) -> None:
        now = time.monotonic()
        for job_id in [j.id for j in self._jobs.values()
                       if j.ended is not None and now - j.ended > KEEP_SECONDS]:
            del self._jobs[job_id]
