"""The client side of scoring: turn user data into the ``{"data": …}`` body and read the answer.

Accepts what notebooks hold — a list, a dict, a JSON string, a numpy array or a pandas
DataFrame — and raises :class:`ScoringError` carrying the server's own ``message`` when scoring
fails, so the user sees why without a client-side traceback.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import requests

from ..errors import ScoringError
from . import protocol


def to_payload(data: Any) -> str:
    """The JSON request body for ``data``.

    A string is sent as is (it is already JSON); a dict as is; anything row-like is wrapped as
    ``{"data": rows}``.
    """
    if isinstance(data, str | bytes):
        return data.decode() if isinstance(data, bytes) else data
    if isinstance(data, dict):
        return json.dumps(data, default=_plain)
    return json.dumps({"data": _rows(data)}, default=_plain)


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
    raise TypeError(f"cannot send a {type(value).__name__} as JSON")


@dataclass(frozen=True)
class ScoreResult:
    """A scoring answer: the decoded body, the status and the round-trip time."""

    value: Any
    status_code: int
    seconds: float


class ScoringClient:
    """An HTTP client for one scoring endpoint (``…/score``), reusing its connection."""

    def __init__(self, scoring_uri: str, timeout: float = 60.0) -> None:
        self.scoring_uri = scoring_uri
        self.timeout = timeout
        self._session = requests.Session()

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
        return ScoreResult(_decode(response), response.status_code, elapsed)


def _raise_for_status(response: requests.Response) -> None:
    if response.status_code < 400:
        return
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
