"""What every route shares: JSON answers, and calling ``run()`` with its time limit.

``/score`` keeps its own tuned path in :mod:`app`; the protocol routes (:mod:`oip`,
:mod:`mlflow_scoring`) call ``run()`` through :func:`invoke`, which gives them the same rules —
the scoring timeout, ``async def run()`` awaited, a failure logged with its traceback as the peer
logs it — and leaves the shape of the answer (or of the error) to each protocol.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

try:
    from . import aml, codec, entry
except ImportError:  # pragma: no cover - run as a plain script
    import aml  # type: ignore[no-redef]
    import codec  # type: ignore[no-redef]
    import entry  # type: ignore[no-redef]

log = logging.getLogger("azmlinfsrv")
Headers = list[tuple[bytes, bytes]]
#: A complete answer: status, body, headers (without content-length).
Answer = tuple[int, bytes, Headers]
JSON = b"application/json"
JSON_HEADERS: Headers = [(b"content-type", JSON)]


#: ``run()``'s answer as JSON bytes; numpy and pandas values through their own conversions.
to_json = codec.dumps


def json_answer(status: int, value: Any) -> Answer:
    return status, to_json(value), list(JSON_HEADERS)


class RunFailed(Exception):
    """``run()`` raised or ran out of time; ``timed_out`` says which, the message says why."""

    def __init__(self, message: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


def invoke(script: entry.UserScript, kwargs: dict[str, Any], timeout_ms: int,
           finish: Callable[[Any], Answer], fail: Callable[[RunFailed], Answer]
           ) -> Answer | Awaitable[Answer]:
    """Call ``run(**kwargs)``; ``finish`` makes the answer from its value, ``fail`` from a failure.

    An awaitable only when ``run()`` is ``async def``.
    """
    if script.is_async:
        return _invoke_async(script, kwargs, finish, fail)
    try:
        value, _ = entry.call_timed(script.run, kwargs, timeout_ms)
    except (entry.RunTimeout, Exception) as e:
        return fail(run_failed(e, timeout_ms))
    return finished(value, finish, fail)


def run_failed(error: BaseException, timeout_ms: int) -> RunFailed:
    """What ``run()`` raising ``error`` (or running out of time) makes, logged as the peer does.

    Called from the ``except`` block that caught ``error`` (the log has its traceback).
    """
    if isinstance(error, entry.RunTimeout):
        log.error("Encountered Exception: run() timed out after %d ms in:\n%s", timeout_ms,
                  traceback.format_exc().rstrip())
        return RunFailed(f"Scoring timeout after {timeout_ms} ms", timed_out=True)
    return _failed(error)


async def _invoke_async(script: entry.UserScript, kwargs: dict[str, Any],
                        finish: Callable[[Any], Answer], fail: Callable[[RunFailed], Answer]
                        ) -> Answer:
    try:
        value = await script.run(**kwargs)
    except Exception as e:
        return fail(_failed(e))
    return finished(value, finish, fail)


def _failed(error: BaseException) -> RunFailed:
    log.error("Encountered Exception: %s", traceback.format_exc().rstrip())
    return RunFailed(f"{type(error).__name__}: {str(error)[:300]}")


#: Kinds of answer that are no response object (nothing to unwrap), told apart in one look-up.
_VALUES = frozenset({list, dict, str, float, int, bool, type(None)})


def finished(value: Any, finish: Callable[[Any], Answer],
             fail: Callable[[RunFailed], Answer]) -> Answer:
    """``finish(value)``, or ``fail`` with why ``run()``'s answer cannot be sent."""
    try:
        return finish(value if type(value) in _VALUES else unwrap_response(value))
    except RunFailed as e:
        return fail(e)
    except (TypeError, ValueError) as e:
        log.error("run()'s answer cannot be sent:\n%s", traceback.format_exc().rstrip())
        return fail(RunFailed(f"run()'s answer cannot be sent: {e}"))


def unwrap_response(value: Any) -> Any:
    """The value inside an ``AMLResponse`` (or Flask response) a non-raw ``run()`` returned.

    A successful JSON body is its decoded value; anything else cannot be carried by a protocol
    whose answers are its own JSON documents.

    Raises:
        RunFailed: an error status, a streamed body or a body that is not JSON.
    """
    if not (isinstance(value, aml.AMLResponse) or
            (hasattr(value, "status_code") and hasattr(value, "get_data"))):
        return value
    if getattr(value, "is_streamed", False):
        raise RunFailed("run() answered with a streamed response, which only /score can send.")
    body = bytes(value.get_data())
    if int(value.status_code) >= 400:
        raise RunFailed(f"run() answered status {value.status_code}: "
                        f"{body[:300].decode('utf-8', 'replace')}")
    try:
        return codec.loads(body)
    except ValueError:
        raise RunFailed("run() answered with a response that is not JSON, which only /score "
                        "can send.") from None
