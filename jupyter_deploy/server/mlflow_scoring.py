"""MLflow's scoring protocol over the loaded ``score.py``: what ``mlflow models serve`` answers.

Routes: ``GET /ping`` and ``/health`` (``"\\n"``), ``GET /version``, and ``POST /invocations``
with ``application/json`` — exactly one of ``dataframe_split``, ``dataframe_records``,
``instances`` or ``inputs``, and optional ``params`` — or ``text/csv`` (a header row, then
rows). The answer is ``{"predictions": …}``. Errors are MLflow's: 415 with its plain-text message
for another content type or charset, 400 ``{"error_code": "BAD_REQUEST", "message": …}`` with
its words for a body it would refuse (two of the keys, none, a list, bad JSON, a CSV row with
too many fields), and for a ``run()`` that fails, as MLflow answers a model that fails.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable
from typing import Any

try:
    from . import answers, binding, codec, entry, protocol, tensors
    from .answers import Answer
except ImportError:  # pragma: no cover - run as a plain script
    import answers  # type: ignore[no-redef]
    import binding  # type: ignore[no-redef]
    import codec  # type: ignore[no-redef]
    import entry  # type: ignore[no-redef]
    import protocol  # type: ignore[no-redef]
    import tensors  # type: ignore[no-redef]
    from answers import Answer  # type: ignore[no-redef]

PING_PATH, HEALTH_PATH, VERSION_PATH = "/ping", "/health", "/version"
INVOCATIONS_PATH = "/invocations"
CSV, JSON = "text/csv", "application/json"
FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
# MLflow's own words (mlflow/pyfunc/scoring_server), so its users recognise them.
REQUIRED_INPUT_FORMAT = ("The input must be a JSON dictionary with exactly one of the input "
                         "fields {'dataframe_split', 'dataframe_records', 'instances', 'inputs'}")
SCORING_PROTOCOL_CHANGE_INFO = (
    "IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0. If you are "
    "seeing this error, you are likely using an outdated scoring request format.")
CSV_ERROR = ("Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid "
             "CSV-formatted Pandas DataFrame produced using the `pandas.DataFrame.to_csv()` "
             "method. Error: '{}'")
MODEL_ERROR = ("Encountered an unexpected error while evaluating the model. Verify that the "
               "serialized input Dataframe is compatible with the model for inference.")
TEXT = [(b"content-type", b"text/plain; charset=utf-8")]


class MlflowError(Exception):
    """A request MLflow's server refuses; ``status`` and ``code`` are what it answers."""

    def __init__(self, message: str, status: int = 400, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def error(status: int, message: str, code: str = "BAD_REQUEST") -> Answer:
    """MLflow's error answer: ``{"error_code": …, "message": …}``."""
    return answers.json_answer(status, {"error_code": code, "message": message})


class MlflowScoring:
    """The protocol's routes for the loaded script."""

    def __init__(self, script: entry.UserScript, bound: binding.Binding, timeout_ms: int) -> None:
        self.script = script
        self.binding = bound
        self.timeout_ms = timeout_ms

    def ping(self, request: entry.Request) -> Answer:
        return 200, b"\n", list(answers.JSON_HEADERS)

    def version(self, request: entry.Request) -> Answer:
        return 200, protocol.VERSION.encode(), list(answers.JSON_HEADERS)

    def invocations(self, request: entry.Request) -> Answer | Awaitable[Answer]:
        if request.method != "POST":
            return answers.json_answer(405, {"detail": "Method Not Allowed"})
        content_type = request.headers.get("content-type")
        try:
            payload, params = parse(request.body, content_type)
            kwargs = self.binding.arguments(payload, params, request.headers)
        except MlflowError as e:
            if e.status == 415:
                return 415, str(e).encode(), list(TEXT)
            return error(e.status, str(e), e.code)
        except entry.InputError as e:
            return error(400, str(e))
        return answers.invoke(self.script, kwargs, self.timeout_ms, _predictions, _run_failed)


def _predictions(value: Any) -> Answer:
    return answers.json_answer(200, {"predictions": value})


def _run_failed(failure: answers.RunFailed) -> Answer:
    if failure.timed_out:
        return 504, b"Request processing time exceeded limit", list(answers.JSON_HEADERS)
    return error(400, f"{MODEL_ERROR} ({failure})")


def parse(body: bytes, content_type: str | None) -> tuple[binding.Payload, dict[str, Any] | None]:
    """The payload and ``params`` of an ``/invocations`` body.

    Raises:
        MlflowError: what MLflow's server answers to such a request (415 or 400).
    """
    mime = _content_type(content_type)
    if mime == CSV:
        return parse_csv(body), None
    if mime != JSON:
        raise MlflowError("This predictor only supports the following content types: Types: "
                          f"['{CSV}', '{JSON}']. Got '{content_type}'.", 415)
    return parse_json(body)


def _content_type(content_type: str | None) -> str:
    """The media type, once its parameters are ones MLflow accepts (charset=utf-8 only)."""
    parts = [p.strip() for p in (content_type or "").split(";")]
    options = {k.strip().lower(): v.strip() for k, _, v in (p.partition("=") for p in parts[1:])}
    if options.get("charset", "utf-8").lower() != "utf-8":
        raise MlflowError("The scoring server only supports UTF-8", 415)
    unknown = set(options) - {"charset"}
    if unknown:
        raise MlflowError(f"Unrecognized content type parameters: {', '.join(sorted(unknown))}. "
                          f"{SCORING_PROTOCOL_CHANGE_INFO}", 415)
    return parts[0].lower()


def parse_json(body: bytes) -> tuple[binding.Payload, dict[str, Any] | None]:
    """MLflow's four JSON formats (exactly one of them) and ``params``.

    Raises:
        MlflowError: bad JSON, not an object, not exactly one format, or a malformed one.
    """
    try:
        document = codec.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise MlflowError(f"Invalid input. Ensure that input is a valid JSON formatted string. "
                          f"Error: '{e!r}'") from None
    if isinstance(document, list):
        raise MlflowError(f"Invalid input. {REQUIRED_INPUT_FORMAT}. Received a list.")
    if not isinstance(document, dict):
        raise MlflowError(f"Invalid input. {REQUIRED_INPUT_FORMAT}. Received unexpected input "
                          f"type '{type(document)}.")
    found = [key for key in document if key in FORMATS]
    if len(found) != 1:
        raise MlflowError(f"{REQUIRED_INPUT_FORMAT}. Received dictionary with input fields: "
                          f"{found}. {SCORING_PROTOCOL_CHANGE_INFO}")
    params = document.get("params")
    if params is not None and not isinstance(params, dict):
        raise MlflowError("Invalid input. 'params' must be a JSON dictionary of parameter "
                          "names and values.")
    key = found[0]
    value = document[key]
    if key == "dataframe_split":
        return _split(value), params
    if key == "dataframe_records":
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            raise MlflowError("Invalid input. dataframe_records must be a list of records "
                              "(JSON dictionaries of column names and values).")
        return _records(value), params
    return _tensors(key, value), params


def _split(value: Any) -> binding.Frame:
    data = value.get("data") if isinstance(value, dict) else None
    if not isinstance(data, list) or not all(isinstance(row, list) for row in data):
        raise MlflowError("Invalid input. dataframe_split must be a JSON dictionary with "
                          "'data' (a list of rows) and optional 'columns' and 'index'.")
    columns = [str(c) for c in value.get("columns") or []]
    if columns and any(len(row) != len(columns) for row in data):
        raise MlflowError(f"Invalid input. dataframe_split has {len(columns)} columns but a "
                          "row of another length.")
    return binding.Frame(columns, data)


def _records(rows: list[dict[str, Any]]) -> binding.Frame:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    names = list(columns)
    return binding.Frame([str(c) for c in names], [[row.get(c) for c in names] for row in rows])


def _tensors(key: str, value: Any) -> binding.Payload:
    """``instances``/``inputs``: records are a DataFrame, a dict named inputs, else one input."""
    if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
        return _records(value)
    if isinstance(value, dict):
        return [tensors.Tensor(str(k), v, shape=_shape(v)) for k, v in value.items()]
    return [tensors.Tensor(key, value, shape=_shape(value))]


def _shape(value: Any) -> tuple[int, ...]:
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        value = value[0] if value else None
    return tuple(shape)


def parse_csv(body: bytes) -> binding.Frame:
    """A CSV body (a header row, then rows) as pandas would read it: typed per column.

    A column is whole numbers, numbers, true/false or text as all its fields allow; an empty
    field is null; a row with fewer fields is padded, one with more is refused (as pandas does).

    Raises:
        MlflowError: not UTF-8, no header, or a row with too many fields.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise MlflowError(f"Invalid input. Ensure that input is a valid UTF-8 encoded string. "
                          f"Error: '{e!r}'") from None
    lines = [row for row in csv.reader(io.StringIO(text)) if row]
    if not lines:
        raise MlflowError(CSV_ERROR.format("No columns to parse from file"))
    header, rows = lines[0], lines[1:]
    width = len(header)
    for number, row in enumerate(rows, start=2):
        if len(row) > width:
            raise MlflowError(CSV_ERROR.format(
                f"Error tokenizing data. Expected {width} fields in line {number}, "
                f"saw {len(row)}"))
        row.extend([""] * (width - len(row)))
    columns = [name or f"Unnamed: {i}" for i, name in enumerate(header)]
    typed = [_typed([row[i] for row in rows]) for i in range(width)]
    return binding.Frame(columns, [list(r) for r in zip(*typed, strict=True)] if rows else [])


def _typed(fields: list[str]) -> list[Any]:
    for convert in (int, float, _boolean):
        try:
            values = [convert(f) if f != "" else None for f in fields]
        except ValueError:
            continue
        if convert is int and None in values:  # pandas: a column with gaps is float
            return [float(v) if v is not None else None for v in values]
        return values
    return [f if f != "" else None for f in fields]


def _boolean(field: str) -> bool:
    if field in ("True", "true", "TRUE"):
        return True
    if field in ("False", "false", "FALSE"):
        return False
    raise ValueError(field)
