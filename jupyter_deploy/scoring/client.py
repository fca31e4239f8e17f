"""The client side of scoring: turn user data into the ``{"data": …}`` body and read the answer.

Accepts what notebooks hold — a list, a dict, a JSON string, a numpy array or a pandas
DataFrame — and raises :class:`ScoringError` carrying the server's own ``message`` when scoring
fails, so the user sees why without a client-side traceback.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import requests

from jupyter_deploy.errors import ConfigurationError, ScoringError
from jupyter_deploy.server import protocol


def to_payload(data: Any) -> str:
    """The JSON request body for ``data``.

    A string is sent as is (it is already JSON); a dict as is; anything row-like is wrapped as
    ``{"data": rows}``. numpy values, sets and tuples become lists; dates and times their ISO
    text.

    Raises:
        ConfigurationError: a value JSON cannot carry (its type is named).
    """
    if isinstance(data, str | bytes):
        return data.decode() if isinstance(data, bytes) else data
    try:
        if isinstance(data, dict):
            return json.dumps(data, default=_plain)
        return json.dumps({"data": _rows(data)}, default=_plain)
    except (TypeError, ValueError) as e:
        raise ConfigurationError(f"cannot send this data as JSON: {e}. Convert it to lists, "
                                 "numbers and strings (or a DataFrame) first.") from e


def _rows(data: Any) -> Any:
    if hasattr(data, "to_numpy") and hasattr(data, "columns"):  # pandas DataFrame
        return data.to_numpy().tolist()
    if hasattr(data, "tolist"):
        return data.tolist()
    return data


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    raise TypeError(f"a {type(value).__name__} has no JSON form")


@dataclass(frozen=True)
class ScoreResult:
    """A scoring answer: the decoded body, the status and the round-trip time."""

    value: Any
    status_code: int
    seconds: float
    index: Any = None

    def to_frame(self) -> Any:
        """The answer as a pandas DataFrame (one row per input row) when it is tabular.

        Raises:
            ScoringError: the answer is not a list of scalars, lists or records.
        """
        import pandas as pd

        value = self.value
        if isinstance(value, dict) and len(value) == 1:
            value = next(iter(value.values()))
        if not isinstance(value, list):
            raise ScoringError(f"the answer is not tabular: {str(self.value)[:200]}")
        if value and not isinstance(value[0], list | dict):
            frame = pd.DataFrame({"score": value})
        else:
            frame = pd.DataFrame(value)
        if self.index is not None and len(self.index) == len(frame):
            frame.index = self.index
        return frame

    def _repr_html_(self) -> str:
        try:
            table = self.to_frame().to_html()
        except ScoringError:
            table = f"<pre>{json.dumps(self.value, indent=1, default=str)[:5000]}</pre>"
        return f"{table}<p><small>{self.seconds * 1000:.1f} ms</small></p>"


class ScoringClient:
    """An HTTP client for one scoring endpoint (``…/score``), reusing its connection."""

    def __init__(self, scoring_uri: str, timeout: float = 60.0, key: str | None = None) -> None:
        self.scoring_uri = scoring_uri
        self.timeout = timeout
        self._session = requests.Session()
        if key:  # sent to this endpoint only: the session is this client's own
            self._session.headers["Authorization"] = f"Bearer {key}"

    def score(self, data: Any) -> ScoreResult:
        """POST ``data`` and return the decoded answer.

        Raises:
            ScoringError: the server answered an error (its message included) or is unreachable.
        """
        body = to_payload(data)
        started = time.perf_counter()
        try:
            response = self._session.post(
                self.scoring_uri, data=body.encode(), timeout=self.timeout,
                headers={"Content-Type": "application/json"},
            )
        except requests.RequestException as e:
            raise ScoringError(
                f"could not reach {self.scoring_uri} ({type(e).__name__}): is the service "
                "running? Check its state and logs."
            ) from e
        elapsed = time.perf_counter() - started
        _raise_for_status(response)
        return ScoreResult(_decode(response), response.status_code, elapsed, _index_of(data))

    def score_batches(
        self, data: Any, batch_size: int, concurrency: int = 4,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> ScoreResult:
        """Score row data in batches of ``batch_size`` rows, ``concurrency`` requests at a time.

        The answers (lists) are concatenated in input order. ``on_progress(done, total)`` is
        called as rows complete.

        Raises:
            ScoringError: the first batch that failed, with the server's message.
        """
        rows = _rows(data)
        if not isinstance(rows, list):
            raise ScoringError("batch scoring needs rows: a list, an array or a DataFrame")
        chunks = [rows[i:i + batch_size] for i in range(0, len(rows), batch_size)]
        started, done, answers = time.perf_counter(), 0, [None] * len(chunks)
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            futures = {pool.submit(self.score, {"data": c}): i for i, c in enumerate(chunks)}
            for future in as_completed(futures):
                answers[futures[future]] = future.result().value
                done += len(chunks[futures[future]])
                if on_progress:
                    on_progress(done, len(rows))
        merged: list[Any] = []
        for answer in answers:
            merged.extend(answer if isinstance(answer, list) else [answer])
        return ScoreResult(merged, 200, time.perf_counter() - started, _index_of(data))


def _index_of(data: Any) -> Any:
    return data.index if hasattr(data, "columns") and hasattr(data, "index") else None


def _raise_for_status(response: requests.Response) -> None:
    if response.status_code < 400:
        return
    if response.status_code == 401:
        raise ScoringError(
            "the service answered 401: it was deployed with auth on and needs a key: "
            "service.score() sends it; other clients send `Authorization: Bearer <key>` with a "
            "key from service.get_keys().", status_code=401, body=response.text)
    try:
        message = response.json().get("message") or response.text
    except (ValueError, AttributeError):
        message = response.text
    raise ScoringError(
        f"the service answered {response.status_code}: {message}",
        status_code=response.status_code, body=response.text,
    )


def _decode(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def health_url(base_url: str) -> str:
    """The health route for a service whose root is ``base_url``."""
    return base_url.rstrip("/") + protocol.HEALTH_PATH
