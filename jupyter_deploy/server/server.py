"""The scoring server that runs inside every image (and on the host, for the inner loop).

``python -m jd_scoring.server`` reads the peer's environment variables, applies the package
extensibility variables, imports the user's ``score.py``, calls ``init()`` once per worker and
serves ``/score`` with uvicorn (uvloop event loop, :mod:`connection`'s httptools protocol). A
script that fails to import or whose ``init()`` raises ends the process with status 3, the model
folder's listing and then the traceback as the last lines of the log, so the deploy side can
show the user why. The package imports nothing from jupyter_deploy: the build copies this
folder whole.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import importlib.util
import logging
import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from types import ModuleType
from typing import Any, NoReturn

try:
    from . import auth, entry, extras, logs, phases, protocol, shims, signature
    from .app import ScoringApp
    from .connection import ScoringProtocol
    from .settings import Settings, SettingsError
except ImportError:  # pragma: no cover - run as a plain script
    import auth  # type: ignore[no-redef]
    import entry  # type: ignore[no-redef]
    import extras  # type: ignore[no-redef]
    import logs  # type: ignore[no-redef]
    import phases  # type: ignore[no-redef]
    import protocol  # type: ignore[no-redef]
    import shims  # type: ignore[no-redef]
    import signature  # type: ignore[no-redef]
    from app import ScoringApp  # type: ignore[no-redef]
    from connection import ScoringProtocol  # type: ignore[no-redef]
    from settings import Settings, SettingsError  # type: ignore[no-redef]

log = logging.getLogger("azmlinfsrv")
# The peer's logger names, so its users' logging.json and log parsing find these lines.
script_log = logging.getLogger("azmlinfsrv.user_script")


def load(settings: Settings) -> entry.UserScript:
    """Import the entry script and call its ``init()``; exit with status 3 if either fails.

    The lines logged on the way are the peer's (``Found user script at …``, ``Invoking user's
    init function`` …), so are the words of a failure.
    """
    script = entry.UserScript(settings.entry_path)
    try:
        script.load()
    except entry.ScriptError:
        _fail("The entry script cannot be served.", settings)
    except BaseException:
        _fail("Failed to import user script because it raised an unhandled exception", settings)
    _log_found(script)
    script_log.info("Invoking user's init function")
    try:
        script.init()
    except BaseException:
        _fail("User's init function failed", settings, listing=True)
    script_log.info("Users's init has completed successfully")  # (sic: the peer's words)
    # Everything init() loaded (the model, numpy, pandas …) lives as long as the worker: take it
    # out of the collector's sight, so full collections stop pausing requests for tens of ms.
    gc.collect()
    gc.freeze()
    logging.getLogger("azmlinfsrv.swagger").info(
        "Swaggers are prepared for the following versions: [2, 3, 3.1].")
    log.info("Scoring timeout is set to %d", settings.timeout_ms)
    log.info("Worker with pid %d ready for serving traffic", os.getpid())
    log.info("init() completed; worker %d ready", os.getpid())
    return script


def _log_found(script: entry.UserScript) -> None:
    module = script.module
    driver = getattr(module, "driver_module", None)
    if isinstance(driver, ModuleType) and script.run is getattr(driver, "run", None):
        script_log.info("Found driver script at %s and the score script at %s",
                        getattr(module, "__file__", script.path), driver.__file__)
    else:
        script_log.info("Found user script at %s", getattr(module, "__file__", script.path))
    names = ", ".join(p.name for p in script.parameters)
    script_log.info(_MODES[script.mode].format(names=names))


_MODES = {
    "raw": "run() is decorated with @rawhttp. Server will invoke it with the request object.",
    "object": "run() is decorated with @input_schema. Server will invoke it with the following "
              "arguments: {names}.",
    "string": "run() is not decorated. Server will invoke it with the input in JSON string.",
}


def _fail(summary: str, settings: Settings, listing: bool = False) -> NoReturn:
    """Log why the worker cannot serve, the traceback last (the deploy side shows the log's
    end), and exit with status 3."""
    details = traceback.format_exc().rstrip()
    log.error(summary)
    if listing and settings.model_dir and os.path.exists(settings.model_dir):
        log.info("Model Directory Contents:")
        for line in entry.folder_listing(settings.model_dir):
            log.info("%s", line)
    log.error("Encountered Exception %s", details)
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(protocol.EXIT_INIT_FAILED)


def configure_logging(settings: Settings) -> None:
    """The peer's log format for the server, uvicorn and the user's own log calls, or the
    ``logging.json`` in the app root (else beside the entry script); exit 3 if that is bad."""
    shims.install()  # a logging.json copied from the peer names its formatter's module
    try:
        logs.configure(settings.log_level,
                       (settings.app_root, os.path.dirname(settings.entry_path)))
    except logs.LoggingConfigError as e:
        logs.configure(settings.log_level)
        log.critical("%s", e)
        sys.exit(protocol.EXIT_INIT_FAILED)


def prepare(settings: Settings, keys: auth.KeyFiles | None = None) -> ScoringApp:
    """Everything a worker does before serving: extras, Azure import paths, ``print()`` into
    the log, ``score.py``; behind ``keys`` when there are any."""
    try:
        extras.apply()
    except extras.ExtrasError:
        _fail("Could not apply the package extensibility settings.", settings)
    shims.install()
    source = extras.source_dir(os.environ)
    for folder in (settings.app_root, source, os.path.dirname(settings.entry_path)):
        if folder and folder not in sys.path:
            sys.path.append(folder)
    logs.redirect_print()
    script = load(settings)
    try:
        return ScoringApp(script, settings) if keys is None else \
            auth.GuardedApp(script, settings, keys)
    except signature.MetadataError:
        _fail("The entry script's model metadata cannot be served.", settings)


def bearer_keys(settings: Settings) -> auth.KeyFiles | None:
    """The keys named by ``JD_AUTH_KEY_FILES``, or None; exit 3 if a file is missing or empty."""
    if not settings.auth_key_files:
        return None
    keys = auth.KeyFiles(settings.auth_key_files)
    try:
        keys.load()
    except auth.KeyFileError as e:
        log.error("%s", e)
        sys.exit(protocol.EXIT_INIT_FAILED)
    log.info("Requests other than the health probes and GET /swagger.json need one of the "
             "bearer keys in %d file(s)", len(keys.paths))
    return keys


def serve(settings: Settings) -> None:
    """Serve until SIGTERM/SIGINT: in this process, or in ``workers`` forked processes."""
    import uvicorn

    logs.print_banner(settings)
    keys = bearer_keys(settings)

    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when the
    # protocol says TCP, and without it headers and body wait on delayed ACKs (40 ms each).
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    sock.listen(2048)
    sock.set_inheritable(True)
    log.info("Scoring server listening on %s:%d with %d worker(s), %s event loop", settings.host,
             settings.port, settings.workers,
             "uvloop" if importlib.util.find_spec("uvloop") else "asyncio")
    if settings.workers == 1:
        _serve_one(uvicorn, settings, sock, keys)
        return
    Supervisor(lambda: _fork_worker(uvicorn, settings, sock, keys), settings.workers).run()


def _serve_one(uvicorn: Any, settings: Settings, sock: socket.socket,
               keys: auth.KeyFiles | None) -> None:
    # loop="auto" is uvloop wherever it is installed (every image; the host on Linux/macOS);
    # connections are ScoringProtocol's (httptools parsing, one write per answer).
    app = prepare(settings, keys)
    http = phases.install(app, settings.phase_clock) if settings.phase_clock else ScoringProtocol
    config = uvicorn.Config(app, http=http, loop="auto",
                            proxy_headers=False, server_header=False,
                            lifespan="off", access_log=False, log_config=None,
                            log_level=settings.log_level.lower(), timeout_keep_alive=30)
    try:
        from .stopping import DrainingServer, PromptServer
    except ImportError:  # pragma: no cover - run as a plain script
        from stopping import DrainingServer, PromptServer  # type: ignore[no-redef]
    server = DrainingServer(config, app, settings.drain_seconds) if settings.drain_seconds \
        else PromptServer(config)
    try:
        server.run(sockets=[sock])
    finally:
        if app.access is not None:  # the access lines still buffered
            app.access.flush()


def _fork_worker(uvicorn: Any, settings: Settings, sock: socket.socket,
                 keys: auth.KeyFiles | None) -> int:
    pid = os.fork()
    if pid == 0:
        # The supervisor's handlers must not run here (uvicorn installs the worker's own).
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        code = 1
        try:
            _serve_one(uvicorn, settings, sock, keys)
            code = 0
        except BaseException:
            log.exception("Worker %d failed", os.getpid())
        finally:
            os._exit(code)
    return pid


class Supervisor:
    """Keeps ``count`` forked workers running, as gunicorn's arbiter does for the peer.

    A worker that dies (killed by the kernel for memory, a crash in a native library) is
    replaced, and its ``init()`` runs again in the new one; a worker whose ``init()`` fails ends
    the server with status 3, and so does a crash loop (more than :data:`RESTART_LIMIT` deaths
    within :data:`RESTART_WINDOW` seconds). SIGTERM/SIGINT stop every worker, then the server.
    """

    RESTART_LIMIT = 5
    RESTART_WINDOW = 60.0

    def __init__(self, spawn: Callable[[], int], count: int) -> None:
        self.spawn = spawn
        self.count = count
        self.pids: set[int] = set()
        self.stopping = False
        self.deaths: list[float] = []

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        for _ in range(self.count):
            self._start()
        status = 0
        while self.pids:
            pid, raw = os.wait()
            self.pids.discard(pid)
            code = os.waitstatus_to_exitcode(raw)
            if self.stopping:
                continue
            if code == protocol.EXIT_INIT_FAILED:
                status = protocol.EXIT_INIT_FAILED
                self.stop()
                continue
            log.error("Worker %d %s; starting a new one", pid, _death(code))
            if self._crash_loop():
                log.error("Workers died %d times within %.0f s: stopping the server",
                          len(self.deaths), self.RESTART_WINDOW)
                status = protocol.EXIT_INIT_FAILED
                self.stop()
                continue
            self._start()
        if status:
            sys.exit(status)

    def _start(self) -> None:
        self.pids.add(self.spawn())
        if self.stopping:  # a signal came while forking: the new worker stops too
            self.stop()

    def stop(self, signum: int = signal.SIGTERM, _: Any = None) -> None:
        self.stopping = True
        for pid in self.pids:
            _signal(pid, signal.SIGTERM)

    def _crash_loop(self) -> bool:
        now = time.monotonic()
        self.deaths = [t for t in self.deaths if now - t < self.RESTART_WINDOW] + [now]
        return len(self.deaths) > self.RESTART_LIMIT


def _death(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
    return f"exited with status {code}"


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def serve_entry_script(entry_script: str, model_dir: str | None = None,
                       port: int = protocol.DEFAULT_PORT, workers: int | None = None,
                       host: str = "127.0.0.1") -> None:
    """Serve ``entry_script`` on this host, as ``azmlinfsrv --entry_script …`` does.

    As on the peer: the app root is ``AML_APP_ROOT`` or else the current folder,
    ``AZUREML_MODEL_DIR`` reaches ``init()`` as given (a relative path stays relative), and
    ``WORKER_COUNT`` sets the workers unless ``workers`` is given.
    """
    os.environ[protocol.ENV_ENTRY_SCRIPT] = os.path.abspath(entry_script)
    os.environ.setdefault(protocol.ENV_APP_ROOT, os.getcwd())
    if model_dir:
        os.environ[protocol.ENV_MODEL_DIR] = model_dir
    settings = dataclasses.replace(Settings.from_env(), host=host, port=port)
    if workers is not None:
        settings = dataclasses.replace(settings, workers=workers)
    configure_logging(settings)
    serve(settings)


def main(env: dict[str, str] | None = None) -> None:
    """Read the settings from the environment, load the script and serve (the image's CMD)."""
    try:
        settings = Settings.from_env(env)
    except SettingsError as e:
        logs.configure("INFO")
        log.error("Bad setting: %s", e)
        sys.exit(protocol.EXIT_INIT_FAILED)
    configure_logging(settings)
    serve(settings)


if __name__ == "__main__":
    main()
