"""The scoring server's own log lines, in the peer's words and format, so parsers of its logs work.

Azure ML's inference server prints a settings banner at start, logs as
``2024-01-01 12:00:00,123 I [pid] azmlinfsrv - message`` (UTC) on stdout, turns a script's
``print()`` into lines of the ``azmlinfsrv.print`` logger, and lets ``logging.json`` in the app
root (else beside the entry script) replace its logging set-up (a :func:`logging.config.dictConfig`
document). Users' log parsing and monitoring read those lines, so this server emits the same:
the names below are the peer's (``AMLLogFormatter`` and ``RootAccessFilter`` too, so a
``logging.json`` copied from the peer's package still loads, through :mod:`shims`).
"""

from __future__ import annotations

import builtins
import json
import logging
import logging.config
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

try:
    from . import protocol
    from .settings import Settings
except ImportError:  # pragma: no cover - run as a plain script
    import protocol  # type: ignore[no-redef]
    from settings import Settings  # type: ignore[no-redef]

#: The peer's line format; times are UTC.
FORMAT = "%(asctime)s %(levelname).1s [%(process)d] %(name)s - %(message)s"
#: The server's logger (the peer's name) and the one ``print()`` goes to.
LOGGER = "azmlinfsrv"
PRINT_LOGGER = "azmlinfsrv.print"
LOGGING_JSON = "logging.json"

_builtin_print = builtins.print
#: The handler :func:`configure` installed on the root logger (None before it ran).
_default: logging.StreamHandler | None = None


class LoggingConfigError(ValueError):
    """``logging.json`` is not JSON or not a configuration :mod:`logging.config` accepts."""


class AMLLogFormatter(logging.Formatter):
    """The peer's formatter: its format by default, UTC times."""

    def __init__(self, fmt: str = FORMAT, datefmt: str | None = None, style: str = "%") -> None:
        super().__init__(fmt=fmt, datefmt=datefmt, style=style)  # type: ignore[arg-type]
        self.converter = time.gmtime


class RootAccessFilter(logging.Filter):
    """Drops access lines of the health probe (the peer's filter for gunicorn's access log)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "GET / HTTP/1.1" not in record.getMessage()


def configure(level: str, folders: tuple[str, ...] = ()) -> str | None:
    """The default set-up (one stdout handler, the peer's format), then the first ``logging.json``
    found in ``folders``; return that file's path, or None.

    Raises:
        LoggingConfigError: the ``logging.json`` found cannot be used (the message names it).
    """
    global _default
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(AMLLogFormatter())
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level, logging.INFO))
    _default = handler
    for folder in folders:
        path = os.path.join(folder, LOGGING_JSON) if folder else ""
        if path and os.path.isfile(path):
            _default = None
            load_logging_json(path)
            logging.getLogger(LOGGER).info("Loaded logging config from %s", path)
            return path
    return None


def default_handler(logger: logging.Logger) -> logging.StreamHandler | None:
    """The handler :func:`configure` installed, when it is still the only place ``logger``'s
    INFO lines go, unchanged (the peer's format, no filters); else None.

    Then a line written to its stream in :data:`FORMAT` is what :mod:`logging` would write.
    """
    handler, root = _default, logging.getLogger()
    chain = []
    current: logging.Logger | None = logger
    while current is not None and current is not root:
        chain.append(current)
        current = current.parent if current.propagate else None
    if handler is None or current is not root or root.handlers != [handler]:
        return None
    own = [f for f in handler.filters if not isinstance(f, FlushFirst)]
    if any(one.handlers or one.filters for one in chain) or root.filters or own:
        return None
    formatter = handler.formatter
    if type(formatter) is not AMLLogFormatter or formatter._fmt != FORMAT or \
            formatter.datefmt is not None or handler.level > logging.INFO:
        return None
    return handler


class FlushFirst(logging.Filter):
    """Calls ``flush`` before its handler writes a record, in the thread that owns the buffer
    (lines buffered elsewhere, like the access lines, keep their place before it)."""

    def __init__(self, flush: Callable[[], None], owner: int) -> None:
        super().__init__()
        self.flush = flush
        self.owner = owner

    def filter(self, record: logging.LogRecord) -> bool:
        if threading.get_ident() == self.owner:
            self.flush()
        return True


def load_logging_json(path: str) -> None:
    """Apply ``path`` with :func:`logging.config.dictConfig`.

    Raises:
        LoggingConfigError: not JSON, or refused by ``dictConfig`` (with its reason).
    """
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
        logging.config.dictConfig(config)
    except (OSError, ValueError, TypeError, AttributeError, ImportError) as e:
        raise LoggingConfigError(f"{path} cannot configure logging: {e}. Fix it, or remove it "
                                 "to use the default logging.") from e


def redirect_print() -> None:
    """From now on ``print()`` to stdout logs an INFO line of ``azmlinfsrv.print`` instead."""
    builtins.print = _print_to_log


def _print_to_log(*objects: Any, sep: str | None = " ", end: str | None = "\n",
                  file: Any = None, flush: bool = False) -> None:
    file = file or sys.stdout
    if file is sys.stdout:
        logging.getLogger(PRINT_LOGGER).info((" " if sep is None else sep).join(map(str, objects)))
    else:
        _builtin_print(*objects, sep=sep, end=end, file=file, flush=flush)


def print_banner(settings: Settings, env: Mapping[str, str] | None = None) -> None:
    """Print the peer's start-up banner (its labels, this server's values) on stdout."""
    env = os.environ if env is None else env
    lines = banner(settings, env)
    _builtin_print("\n".join(lines), file=sys.stdout, flush=True)


def banner(settings: Settings, env: Mapping[str, str]) -> list[str]:
    """The banner's lines: the peer's settings block and routes, this server's values."""
    lines = []
    if protocol.ENV_MODEL_DIR not in env:
        lines = [f"The environment variable '{protocol.ENV_MODEL_DIR}' has not been set.",
                 "Use the --model_dir command line argument to set it."]
    cors = ", ".join(settings.cors_origins)
    values = [
        ("Entry Script Name", settings.entry_path),
        ("Model Directory", settings.model_dir or "None"),
        ("Config File", _unsupported(env, "AZUREML_CONFIG_FILE")),
        ("Worker Count", str(settings.workers)),
        ("Worker Timeout (seconds)", _unsupported(env, "WORKER_TIMEOUT")),
        ("Server Port", str(settings.port)),
        ("Health Port", str(settings.port)),
        ("Application Insights Enabled", "false"),
        ("Application Insights Key", _unsupported(env, "AML_APP_INSIGHTS_KEY", secret=True)),
        ("Inferencing HTTP server version", settings.server_version or "None"),
        ("CORS for the specified origins", f"Enabling CORS for {cors}" if cors else "None"),
        ("Create dedicated endpoint for health", _unsupported(env, "SEPERATE_HEALTH_ENDPOINT")),
    ]
    if settings.auth_key_files:  # ours: where the keys are, never what they are
        values.append(("Bearer Key Files", ", ".join(settings.auth_key_files)))
    lines += ["", f"Azure ML compatible scoring server: jupyter-deploy v{protocol.VERSION}", "",
              "", "Server Settings", "---------------"]
    lines += [f"{label}: {value}" for label, value in values]
    lines += ["", "", "Server Routes", "---------------",
              f"Liveness Probe: GET   127.0.0.1:{settings.port}/",
              f"Score:          POST  127.0.0.1:{settings.port}/score", ""]
    return lines


def _unsupported(env: Mapping[str, str], name: str, secret: bool = False) -> str:
    """``None`` when unset, as the peer prints it; else the value, marked as not used here."""
    if name not in env:
        return "None"
    return f"{'(set)' if secret else env[name]} (not supported by this server: ignored)"
