"""The scoring server's settings, read once from the environment under the peer's variable names.

Reading them in one place, once, keeps per-request code free of ``os.environ`` look-ups and lets
``jupyter-deploy serve`` pass the same settings as a container's ``ENV`` lines do.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

try:
    from . import protocol
except ImportError:  # pragma: no cover - run as a plain script
    import protocol  # type: ignore[no-redef]


class SettingsError(ValueError):
    """A setting has a value the server cannot use; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to start."""

    entry_script: str
    app_root: str
    model_dir: str = ""
    host: str = "0.0.0.0"
    port: int = protocol.DEFAULT_PORT
    workers: int = 1
    timeout_ms: int = protocol.DEFAULT_TIMEOUT_MS
    cors_origins: tuple[str, ...] = ()
    log_level: str = "INFO"
    max_body: int = protocol.DEFAULT_MAX_BODY
    server_version: str = ""
    auth_key_files: tuple[str, ...] = ()
    #: Seconds of serving on after SIGTERM, health route down (see :mod:`stopping`).
    drain_seconds: int = 0
    #: The model's name and version in the Open Inference Protocol (see :func:`model_version`).
    model_name: str = ""
    model_version: str = "1"
    #: Where the phase clock writes its sums (the benchmark's; empty: no clock).
    phase_clock: str = ""

    @property
    def entry_path(self) -> str:
        """The entry script's absolute path (relative names are under the app root)."""
        if os.path.isabs(self.entry_script):
            return self.entry_script
        return os.path.join(self.app_root, self.entry_script)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``env`` (default: the process environment).

        Raises:
            SettingsError: a number is not a number, or is out of range.
        """
        env = os.environ if env is None else env
        port = env.get(protocol.ENV_PORT) or env.get(protocol.ENV_PORT_ALIAS)
        origins = env.get(protocol.ENV_CORS_ORIGINS, "")
        return cls(
            entry_script=env.get(protocol.ENV_ENTRY_SCRIPT) or "score.py",
            app_root=env.get(protocol.ENV_APP_ROOT) or protocol.APP_ROOT,
            model_dir=env.get(protocol.ENV_MODEL_DIR, ""),
            port=_number(protocol.ENV_PORT, port, protocol.DEFAULT_PORT, 1, 65535),
            workers=_number(protocol.ENV_WORKERS, env.get(protocol.ENV_WORKERS), 1, 1, 64),
            timeout_ms=_number(protocol.ENV_TIMEOUT_MS, env.get(protocol.ENV_TIMEOUT_MS),
                               protocol.DEFAULT_TIMEOUT_MS, 1, 2**31),
            cors_origins=_items(origins),
            log_level=(env.get(protocol.ENV_LOG_LEVEL) or "INFO").upper(),
            max_body=_number(protocol.ENV_MAX_BODY, env.get(protocol.ENV_MAX_BODY),
                             protocol.DEFAULT_MAX_BODY, 1, 2**40),
            server_version=_server_version(env),
            auth_key_files=_items(env.get(protocol.ENV_AUTH_KEY_FILES, "")),
            drain_seconds=_number(protocol.ENV_DRAIN_SECONDS, env.get(protocol.ENV_DRAIN_SECONDS),
                                  0, 0, 300),
            model_name=env.get(protocol.ENV_SERVICE_NAME) or _stem(
                env.get(protocol.ENV_ENTRY_SCRIPT) or "score.py"),
            model_version=model_version(env.get(protocol.ENV_MODEL_DIR, "")),
            phase_clock=env.get(protocol.ENV_PHASE_CLOCK, ""),
        )


def model_version(model_dir: str) -> str:
    """The version of the model in ``model_dir``: ``…/azureml-models/<name>/<version>`` as the
    image lays out a single model, else ``1`` (several models, or a folder on the host)."""
    parent, version = os.path.split(os.path.normpath(model_dir)) if model_dir else ("", "")
    return version if version and os.path.dirname(parent) == protocol.MODELS_ROOT else "1"


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def _number(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as e:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from e
    if not low <= value <= high:
        raise SettingsError(f"{name}={value} is out of range: use {low}..{high}")
    return value


def _server_version(env: Mapping[str, str]) -> str:
    """The ``x-ms-server-version`` value: sent, as by the peer, when its switch is unset or
    ``true`` (any case), and for no other value."""
    if env.get(protocol.ENV_SERVER_VERSION_ENABLED, "true").lower() != "true":
        return ""
    return env.get(protocol.ENV_SERVER_VERSION) or protocol.SERVER_VERSION


def _items(raw: str) -> tuple[str, ...]:
    """The non-empty items of a comma-separated list, stripped."""
    return tuple(item.strip() for item in raw.split(",") if item.strip())
