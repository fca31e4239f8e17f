"""The client side of scoring: send user data to a service and read the answer.

Accepts what notebooks hold — a list, a dict, a JSON string, a numpy array or a pandas
DataFrame — through any of the service's protocols (``/score``, the Open Inference Protocol,
MLflow's ``/invocations``: :mod:`jupyter_deploy.scoring.protocols` encodes and decodes them), and
raises :class:`ScoringError` carrying the server's own message when scoring fails, so the user
sees why without a client-side traceback.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import requests

from jupyter_deploy.errors import ConfigurationError, ScoringError
from jupyter_deploy.scoring import protocols
from jupyter_deploy.scoring.protocols import _rows, to_payload
from jupyter_deploy.server import protocol

__all__ = ["ScoreResult", "ScoringClient", "health_url", "to_payload"]


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
    """An HTTP client for one service, reusing its connection; it speaks each protocol the
    service answers (see :mod:`jupyter_deploy.scoring.protocols`)."""

    def __init__(self, scoring_uri: str, timeout: float = 60.0, key: str | None = None,
                 model_name: str | None = None) -> None:
        self.scoring_uri = scoring_uri
        #: The service's root: the scoring URI without its ``/score``.
        self.base_url = scoring_uri[:-len(protocol.SCORE_PATH)] \
            if scoring_uri.endswith(protocol.SCORE_PATH) else scoring_uri.rstrip("/")
        self.model_name = model_name
        self.timeout = timeout
        self._session = requests.Session()
        if key:  # sent to this endpoint only: the session is this client's own
            self._session.headers["Authorization"] = f"Bearer {key}"

    def score(self, data: Any, protocol: str = protocols.AZUREML) -> ScoreResult:
        """Score ``data`` through ``protocol`` (``azureml``: ``/score``, ``mlflow``:
        ``/invocations``, ``v2``: the Open Inference Protocol) and return the decoded answer.

        Raises:
            ScoringError: the server answered an error (its message included) or is unreachable.
            ConfigurationError: an unknown protocol, ``v2`` without a model name, or data JSON
                cannot carry.
        """
        if protocols.check(protocol) == protocols.V2 and not self.model_name:
            raise ConfigurationError("protocol='v2' needs the model's name: pass "
                                     "ScoringClient(..., model_name=<the service's name>).")
        wire = protocols.encode(protocol, data, self.model_name or "")
        url = self.scoring_uri if protocol == protocols.AZUREML else self.base_url + wire.path
        started = time.perf_counter()
        try:
            response = self._session.post(url, data=wire.body, timeout=self.timeout,
                                          headers=wire.headers)
        except requests.RequestException as e:
            raise ScoringError(
                f"could not reach {url} ({type(e).__name__}): is the service "
                "running? Check its state and logs."
            ) from e
        elapsed = time.perf_counter() - started
        _raise_for_status(response)
        value = protocols.decode(protocol, response.status_code, response.content,
                                 response.headers)
        return ScoreResult(value, response.status_code, elapsed, _index_of(data))

    def score_batches(
        self, data: Any, batch_size: int, concurrency: int = 4,
        on_progress: Callable[[int, int], None] | None = None,
        protocol: str = protocols.AZUREML,
    ) -> ScoreResult:
        """Score row data in batches of ``batch_size`` rows, ``concurrency`` requests at a time.

        The answers (lists) are concatenated in input order. ``on_progress(done, total)`` is
        called as rows complete. A DataFrame is sent as DataFrames (columns kept).

        Raises:
            ScoringError: the first batch that failed, with the server's message.
        """
        if hasattr(data, "columns") and hasattr(data, "iloc"):
            chunks: list[Any] = [data.iloc[i:i + batch_size]
                                 for i in range(0, len(data), batch_size)]
            total = len(data)
        else:
            rows = _rows(data)
            if not isinstance(rows, list):
                raise ScoringError("batch scoring needs rows: a list, an array or a DataFrame")
            chunks = [{"data": rows[i:i + batch_size]} for i in range(0, len(rows), batch_size)]
            total = len(rows)
        started, done, answers = time.perf_counter(), 0, [None] * len(chunks)
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            futures = {pool.submit(self.score, c, protocol): i for i, c in enumerate(chunks)}
            for future in as_completed(futures):
                index = futures[future]
                answers[index] = future.result().value
                chunk = chunks[index]
                done += len(chunk) if not isinstance(chunk, dict) else len(chunk["data"])
                if on_progress:
                    on_progress(done, total)
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
    raise ScoringError(
        f"the service answered {response.status_code}: "
        f"{protocols.error_message(response.content)}",
        status_code=response.status_code, body=response.text,
    )


def health_url(base_url: str) -> str:
    """The health route for a service whose root is ``base_url``."""
    return base_url.rstrip("/") + protocol.HEALTH_PATH
