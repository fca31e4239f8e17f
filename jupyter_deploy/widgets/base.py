"""What every panel shares: a worker thread for slow calls, a log, a status line, error capture.

A button's work (build, launch, pull, score) runs on the panel's own single worker thread so the
kernel keeps executing other cells; ``last_job`` is its ``Future``, which tests and scripts can
wait on. Everything the work reports goes into the panel's ``Output`` through
``append_stdout``/``append_display_data`` — safe from a thread, unlike ``print`` inside
``with output:``, which only captures output of the thread that holds the context. A
:class:`~jupyter_deploy.errors.DeployError` shows as its message in red; anything else shows its
traceback in the panel (a bug, and it should be seen), never in some other cell.
"""

from __future__ import annotations

import html
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import ipywidgets as w

from jupyter_deploy.errors import DeployError

COLOURS = {"info": "#1565c0", "ok": "#2e7d32", "error": "#c62828", "busy": "#ef6c00"}


class Panel(w.VBox):
    """A ``VBox`` with a status line, an output area and a one-thread worker."""

    def __init__(self, title: str, css: str = "", **kwargs: Any) -> None:
        self.title = w.HTML(f"<b>{html.escape(title)}</b>")
        self.status = w.HTML("")
        self.output = w.Output(layout=w.Layout(max_height="24em", overflow="auto",
                                               border="1px solid var(--jp-border-color2, #ddd)"))
        self.last_job: Future[Any] | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jupyter-deploy-panel")
        self._lock = threading.Lock()
        super().__init__(**kwargs)
        self.add_class("jd-panel")
        if css:
            self.add_class(f"jd-panel-{css}")

    # -- reporting -----------------------------------------------------------------------------

    def say(self, message: str, kind: str = "info") -> None:
        """Replace the status line."""
        colour = COLOURS.get(kind, COLOURS["info"])
        self.status.value = f"<span style='color:{colour}'>{html.escape(message)}</span>"

    def log(self, line: str) -> None:
        """Append a line to the panel's log (from any thread)."""
        with self._lock:
            self.output.append_stdout(line if line.endswith("\n") else line + "\n")

    def show(self, obj: Any) -> None:
        """Append a rich object (a table, a view) to the panel's output, formatted by IPython."""
        with self._lock:
            self.output.append_display_data(obj)

    def clear(self) -> None:
        """Empty the output area (state only: ``clear_output()`` sends a message that can arrive
        after what is appended next when called from a worker thread)."""
        with self._lock:
            self.output.outputs = ()

    # -- work ----------------------------------------------------------------------------------

    def run_in_background(
        self, what: str, work: Callable[[], Any], done: Callable[[Any], None] | None = None,
    ) -> Future[Any]:
        """Run ``work`` on the worker thread; report errors here; call ``done`` with its result."""
        self.say(f"{what} …", "busy")
        self.set_busy(True)
        self.last_job = self._pool.submit(self._guarded, what, work, done)
        return self.last_job

    def _guarded(self, what: str, work: Callable[[], Any],
                 done: Callable[[Any], None] | None) -> Any:
        try:
            result = work()
            if done is not None:
                done(result)
            return result
        except DeployError as e:
            self.say(f"{what} failed: {e.message.splitlines()[0]}", "error")
            self.log(f"{what} failed:\n{e}")
            self.failed()
            raise
        except Exception as e:
            self.say(f"{what} failed with an unexpected error (see below).", "error")
            self.log(traceback.format_exc())
            self.failed()
            raise DeployError(f"{what} failed unexpectedly ({type(e).__name__}: {e}); the "
                              "panel's log has the traceback.") from e
        finally:
            self.set_busy(False)

    def failed(self) -> None:
        """Called after background work failed (subclasses mark their progress)."""

    def guard(self, what: str, work: Callable[[], Any]) -> Any:
        """Run quick ``work`` on the kernel's thread, reporting a DeployError in the panel."""
        try:
            return work()
        except DeployError as e:
            self.say(f"{what}: {e.message.splitlines()[0]}", "error")
            return None

    def set_busy(self, busy: bool) -> None:
        """Disable the panel's action buttons while work runs (subclasses list them)."""
        for button in self.buttons():
            button.disabled = busy

    def buttons(self) -> list[w.Button]:
        """The buttons to disable while busy."""
        return []

    def wait(self, timeout: float | None = None) -> Any:
        """Block until the last background job ends and return its result (for scripts, tests).

        Raises:
            DeployError: the job failed (the panel shows it too).
        """
        return self.last_job.result(timeout) if self.last_job is not None else None


def labelled(description: str, widget: w.Widget, width: str = "9em") -> w.HBox:
    """``widget`` with a fixed-width label on its left."""
    return w.HBox([w.Label(description, layout=w.Layout(width=width)), widget])
