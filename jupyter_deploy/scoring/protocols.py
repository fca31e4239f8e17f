"""The client's side of the three protocols a service answers: requests out, answers back.

``azureml`` posts ``{"data": rows}`` (or the dict or JSON text given) to ``/score`` and returns
the JSON answer. ``mlflow`` posts to ``/invocations`` — a DataFrame as ``dataframe_split``, a dict
(not already an MLflow body) as named ``inputs``, anything else as ``inputs`` — and returns
``predictions``. ``v2`` posts an Open Inference Protocol request to
``/v2/models/{name}/infer`` — a DataFrame as one tensor per column (``content_type: "pd"``), a
dict as one tensor per key, anything else as one tensor ``data`` — and turns the output tensors
back into the value ``run()`` returned. Through the server's own mapping rules (see the README's
"Protocols"), a plain ``run(raw_data)`` receives the same ``{"data": rows}`` through each, so the
answers agree. The tensor codec is the server's own (:mod:`jupyter_deploy.server.tensors`).
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from typing import Any

from jupyter_deploy.errors import ConfigurationError, ScoringError
from jupyter_deploy.server import mlflow_scoring, oip, protocol, tensors


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


AZUREML, V2, MLFLOW = "azureml", "v2", "mlflow"
PROTOCOLS = (AZUREML, V2, MLFLOW)


@dataclass(frozen=True)
class WireRequest:
    """One scoring request: the path under the service's root, the body and its headers."""

    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def check(name: str) -> str:
    """``name`` when it is a protocol this client speaks.

    Raises:
        ConfigurationError: another name (the valid ones listed).
    """
    if name not in PROTOCOLS:
        raise ConfigurationError(f"protocol={name!r} is not one this client speaks: use "
                                 f"{', '.join(repr(p) for p in PROTOCOLS)}.")
    return name


def encode(name: str, data: Any, model_name: str) -> WireRequest:
    """The request that scores ``data`` through protocol ``name`` (for model ``model_name``).

    Raises:
        ConfigurationError: an unknown protocol, or a value JSON cannot carry.
    """
    check(name)
    if name == AZUREML:
        return WireRequest(protocol.SCORE_PATH, to_payload(data).encode(), _JSON)
    if isinstance(data, str | bytes):
        data = json.loads(data)
    try:
        if name == MLFLOW:
            return WireRequest(mlflow_scoring.INVOCATIONS_PATH, _dumps(mlflow_body(data)), _JSON)
        return WireRequest(f"{oip.MODELS}{model_name}/infer", _dumps(v2_body(data)), _JSON)
    except (TypeError, ValueError) as e:
        raise ConfigurationError(f"cannot send this data as JSON: {e}. Convert it to lists, "
                                 "numbers and strings (or a DataFrame) first.") from e


_JSON = {"Content-Type": "application/json"}


def _dumps(value: Any) -> bytes:
    return json.dumps(value, default=_plain).encode()


def mlflow_body(data: Any) -> dict[str, Any]:
    """``data`` as an ``/invocations`` body (a dict already in one of MLflow's formats as is)."""
    if _is_frame(data):
        return {"dataframe_split": {"columns": [str(c) for c in data.columns],
                                    "data": data.to_numpy().tolist()}}
    if isinstance(data, dict):
        if any(key in data for key in mlflow_scoring.FORMATS):
            return data
        return {"inputs": data}
    return {"inputs": data.tolist() if hasattr(data, "tolist") else data}


def v2_body(data: Any) -> dict[str, Any]:
    """``data`` as an Open Inference Protocol infer request (JSON tensors)."""
    if _is_frame(data):
        return {"inputs": [tensors.encode(str(c), data[c].to_numpy()) for c in data.columns],
                "parameters": {"content_type": oip.FRAME_ANSWER}}
    if isinstance(data, dict):
        return {"inputs": [tensors.encode(str(k), v) for k, v in data.items()]}
    return {"inputs": [tensors.encode("data", data)]}


def _is_frame(data: Any) -> bool:
    return hasattr(data, "columns") and hasattr(data, "to_numpy")


def decode(name: str, status: int, body: bytes, headers: Any) -> Any:
    """The scored value in an answer of protocol ``name``.

    Raises:
        ScoringError: an error status (with the server's own message) or an answer that is not
            the protocol's.
    """
    if status >= 400:
        raise ScoringError(f"the service answered {status}: {error_message(body)}",
                           status_code=status, body=body.decode("utf-8", "replace"))
    try:
        if name == V2:
            return oip.decode_answer(body, headers.get(oip.HEADER_LENGTH))
        value = json.loads(body)
        return value["predictions"] if name == MLFLOW else value
    except (ValueError, KeyError, TypeError) as e:
        if name == AZUREML:
            return body.decode("utf-8", "replace")
        raise ScoringError(f"the service's {name} answer cannot be read ({e}): "
                           f"{body[:200].decode('utf-8', 'replace')}", status_code=status,
                           body=body.decode("utf-8", "replace")) from e


def error_message(body: bytes) -> str:
    """The message in an error answer of any of the protocols (``message`` or ``error``)."""
    text = body.decode("utf-8", "replace")
    try:
        found = json.loads(body)
    except ValueError:
        return text
    if isinstance(found, dict):
        return str(found.get("message") or found.get("error") or found.get("detail") or text)
    return text
