"""The routes beside ``/score``: the Open Inference Protocol and MLflow's scoring protocol.

One table, built once per worker, maps each exact path to its handler; the ``/v2/models/…``
paths are parsed by :mod:`oip`. :class:`~app.ScoringApp` asks here only after ``/score`` and the
health probe missed, so neither of those pays anything for the protocols. The health routes
(``/v2/health/live``, ``/v2/health/ready``, ``/ping``, ``/health``) are open like ``GET /`` when
the server has bearer keys (:data:`OPEN_PATHS`); every other route needs a key.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

try:
    from . import answers, binding, entry, signature
    from .answers import Answer
    from .mlflow_scoring import (
        HEALTH_PATH,
        INVOCATIONS_PATH,
        PING_PATH,
        VERSION_PATH,
        MlflowScoring,
    )
    from .oip import LIVE_PATH, MODELS, PREFIX, READY_PATH, OpenInference, error
    from .settings import Settings
except ImportError:  # pragma: no cover - run as a plain script
    import answers  # type: ignore[no-redef]
    import binding  # type: ignore[no-redef]
    import entry  # type: ignore[no-redef]
    import signature  # type: ignore[no-redef]
    from answers import Answer  # type: ignore[no-redef]
    from mlflow_scoring import (  # type: ignore[no-redef]
        HEALTH_PATH,
        INVOCATIONS_PATH,
        PING_PATH,
        VERSION_PATH,
        MlflowScoring,
    )
    from oip import LIVE_PATH, MODELS, PREFIX, READY_PATH, OpenInference, error  # type: ignore
    from settings import Settings  # type: ignore[no-redef]

Handler = Callable[[entry.Request], "Answer | Awaitable[Answer]"]
#: Health routes answered without a bearer key (GET and HEAD), like ``GET /``.
OPEN_PATHS = (LIVE_PATH, READY_PATH, PING_PATH, HEALTH_PATH)
#: The routes that only read (GET/HEAD); the rest take POST.
_READ_ONLY = {LIVE_PATH, READY_PATH, PREFIX, PING_PATH, HEALTH_PATH, VERSION_PATH}
ROUTES_TEXT = ("the Open Inference Protocol (GET /v2, /v2/health/live|ready, "
               "/v2/models/{name}[/ready], POST /v2/models/{name}/infer) and MLflow's "
               "(GET /ping, /health, /version, POST /invocations)")


class ProtocolRoutes:
    """The protocols' handlers for one loaded script, with the model's name and version."""

    def __init__(self, script: entry.UserScript, settings: Settings) -> None:
        """Read the script's signature and prepare both protocols.

        Raises:
            signature.MetadataError: the script's own model metadata is not usable.
        """
        told = signature.read(script.run, script.module, os.path.dirname(script.path))
        bound = binding.Binding(script, told)
        self.oip = OpenInference(script, bound, settings.model_name or _stem(script.path),
                                 settings.model_version, settings.timeout_ms)
        self.mlflow = MlflowScoring(script, bound, settings.timeout_ms)
        self.exact: dict[str, Handler] = {
            LIVE_PATH: self.oip.live, READY_PATH: self.oip.ready, PREFIX: self.oip.server_metadata,
            PING_PATH: self.mlflow.ping, HEALTH_PATH: self.mlflow.ping,
            VERSION_PATH: self.mlflow.version, INVOCATIONS_PATH: self.mlflow.invocations,
            self.oip.infer_path: self.oip.infer_route,
        }

    def route(self, request: entry.Request) -> Answer | Awaitable[Answer] | None:
        """The answer of the protocol route ``request`` is for, or None when it is for none."""
        path = request.path
        handler = self.exact.get(path)
        if request.method == "OPTIONS" and (handler is not None or path.startswith(MODELS)):
            return 200, b"", [(b"content-type", b"text/plain; charset=utf-8")]  # CORS preflight
        if handler is not None:
            if path in _READ_ONLY and request.method not in ("GET", "HEAD"):
                return _not_allowed(path, "GET")
            return handler(request)
        if path.startswith(MODELS):
            return self.oip.model_route(request)
        if path.startswith(PREFIX + "/"):
            return error(404, f"There is no route {path}: this server answers {ROUTES_TEXT}.")
        return None


    def logged(self, path: str) -> bool:
        """Whether a request for ``path`` gets an access line: a protocol's route, not one of
        its health probes (like ``GET /`` on the peer)."""
        if path in self.exact:
            return path not in OPEN_PATHS
        return path.startswith(MODELS) and not path.endswith("/ready")


def _not_allowed(path: str, method: str) -> Answer:
    if path.startswith(PREFIX):
        return error(405, f"{path} answers {method} only.")
    return answers.json_answer(405, {"detail": "Method Not Allowed"})


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]
