"""The Open Inference Protocol (KServe "v2", Triton, MLServer) over the loaded ``score.py``.

Routes: ``GET /v2/health/live`` and ``/v2/health/ready``, ``GET /v2`` (server metadata),
``GET /v2/models/{name}[/versions/{version}]`` (model metadata), ``…/ready`` and ``POST …/infer``.
The one model is the service: its name is the service's name (``SERVICE_NAME``, set when the
container starts; the entry script's stem on the host), its version the model's. Requests are
JSON, or JSON followed by binary tensors (Triton's ``binary_tensor_data`` extension, what
``tritonclient`` sends by default); answers are JSON unless binary outputs are asked for. Errors
are ``{"error": message}``: 400 for a request that cannot be read or mapped onto ``run()``, 404
for another model, name or version, 500 when ``run()`` fails.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from typing import Any

try:
    from . import answers, binding, codec, entry, protocol, tensors
    from .answers import Answer
    from .signature import Signature
except ImportError:  # pragma: no cover - run as a plain script
    import answers  # type: ignore[no-redef]
    import binding  # type: ignore[no-redef]
    import codec  # type: ignore[no-redef]
    import entry  # type: ignore[no-redef]
    import protocol  # type: ignore[no-redef]
    import tensors  # type: ignore[no-redef]
    from answers import Answer  # type: ignore[no-redef]
    from signature import Signature  # type: ignore[no-redef]

PREFIX = "/v2"
LIVE_PATH = "/v2/health/live"
READY_PATH = "/v2/health/ready"
MODELS = "/v2/models/"
SERVER_NAME = "jupyter-deploy"
EXTENSIONS = ["binary_tensor_data"]
HEADER_LENGTH = "inference-header-content-length"
#: Whether the whole answer is a DataFrame (one output per column) or a dict (one per key).
FRAME_ANSWER, DICT_ANSWER = "pd", "dict"


def error(status: int, message: str) -> Answer:
    """The protocol's error answer: ``{"error": message}``."""
    return answers.json_answer(status, {"error": message})


class OpenInference:
    """The protocol's routes for one model: the loaded script, under its name and version."""

    def __init__(self, script: entry.UserScript, bound: binding.Binding, name: str,
                 version: str, timeout_ms: int) -> None:
        self.script = script
        self.binding = bound
        self.signature: Signature = bound.signature
        self.name = name
        self.version = version
        self.timeout_ms = timeout_ms
        self.metadata = answers.to_json(self._metadata())
        #: Whether :meth:`infer_plain` may answer (a DataFrame's inputs take the general path).
        self.plain_inputs = not self.signature.frame_inputs
        self.output_name = self.signature.output_name

    def _metadata(self) -> dict[str, Any]:
        found: dict[str, Any] = {"name": self.name, "versions": [self.version],
                 "platform": self.signature.platform, "inputs": self.signature.inputs,
                 "outputs": self.signature.outputs}
        if self.signature.parameters:
            found["parameters"] = self.signature.parameters
        return found

    # routes

    def live(self, request: entry.Request) -> Answer:
        return answers.json_answer(200, {"live": True})

    def ready(self, request: entry.Request) -> Answer:
        return answers.json_answer(200, {"ready": True})

    def server_metadata(self, request: entry.Request) -> Answer:
        return answers.json_answer(200, {"name": SERVER_NAME, "version": protocol.VERSION,
                                         "extensions": EXTENSIONS})

    def model_route(self, request: entry.Request) -> Answer | Awaitable[Answer]:
        """``/v2/models/{name}[/versions/{version}][/ready|/infer]``."""
        parts = request.path[len(MODELS):].split("/")
        name, rest = parts[0], parts[1:]
        version = None
        if rest[:1] == ["versions"] and len(rest) >= 2:
            version, rest = rest[1], rest[2:]
        action = rest[0] if len(rest) == 1 else "" if not rest else None
        if action not in ("", "ready", "infer"):
            return error(404, f"There is no route {request.path}: use /v2/models/{self.name}"
                              "[/versions/{version}][/ready|/infer].")
        if name != self.name:
            return error(404, f"Model '{name}' is not served here: this server serves "
                              f"'{self.name}' (GET /v2/models/{self.name}).")
        if version is not None and version != self.version:
            return error(404, f"Model '{name}' has no version '{version}': it serves version "
                              f"'{self.version}'.")
        wanted = "POST" if action == "infer" else "GET"
        if request.method != wanted and not (wanted == "GET" and request.method == "HEAD"):
            return error(405, f"{request.path} answers {wanted} only.")
        if action == "infer":
            return self.infer(request)
        if action == "ready":
            return answers.json_answer(200, {"name": self.name, "ready": True})
        return 200, self.metadata, list(answers.JSON_HEADERS)

    @property
    def infer_path(self) -> str:
        """This model's infer route, which the dispatch finds by one look-up (no parsing)."""
        return f"{MODELS}{self.name}/infer"

    def infer_route(self, request: entry.Request) -> Answer | Awaitable[Answer]:
        if request.method != "POST":
            return error(405, f"{request.path} answers POST only.")
        return self.infer(request)

    def infer(self, request: entry.Request) -> Answer | Awaitable[Answer]:
        """Decode the inputs, call ``run()`` through :mod:`binding`, encode its answer."""
        try:
            body, binary = tensors.split_request(request.body, _header_length(request))
            inputs = tensors.decode_inputs(body, binary)
            wanted = _requested(body)
            payload: binding.Payload = inputs
            if (body.get("parameters") or {}).get("content_type") == FRAME_ANSWER:
                payload = binding.frame_from_columns(inputs)
            kwargs = self.binding.arguments(payload, None, request.headers)
        except (tensors.TensorError, entry.InputError) as e:
            return error(400, str(e))

        def finish(value: Any) -> Answer:
            return self._answer(body, value, wanted)

        return answers.invoke(self.script, kwargs, self.timeout_ms, finish, _run_failed)

    def infer_plain(self, request: entry.Request) -> Answer | None:
        """``POST …/infer`` of one input of numbers in JSON to a plain ``run(data)``: what
        :meth:`infer`, :mod:`binding` and :meth:`_answer` do, in one frame (None: any other
        request, which :meth:`infer` answers).

        For the server's caller to use only with a plain script (sync ``run(data)`` taking the
        body as text, no DataFrame inputs in its metadata), as ``/score``'s short path is: the
        two paths give ``run()`` the same text and the client the same answer (a unit test sends
        each kind of request through both). Few frames and objects, for the reason ``/score``'s
        path gives: between requests ``run()`` pushes them out of the CPU's caches.
        """
        if not self.plain_inputs:
            return None
        for name, _ in request.headers.raw:
            if name == _HEADER_LENGTH:  # binary data follows the JSON
                return None
        try:
            body = codec.loads_numbers(request.body)  # (long integers: numbers_in_shape)
        except ValueError:
            return None
        if type(body) is not dict or body.keys() - _PLAIN_REQUEST:
            return None
        inputs = body.get("inputs")
        if type(inputs) is not list or len(inputs) != 1:
            return None
        rows = tensors.numbers_in_shape(inputs[0])
        if rows is None:
            return None
        kwargs = {self.binding.first: codec.dumps({"data": rows}).decode()}
        try:
            value, _ = entry.call_timed(self.script.run, kwargs, self.timeout_ms)
        except (entry.RunTimeout, Exception) as e:
            return _run_failed(answers.run_failed(e, self.timeout_ms))
        found = tensors.flat_kind(value) if "id" not in body else None
        if found is None:
            return answers.finished(value, lambda v: self._answer(body, v, None), _run_failed)
        shape, datatype = found
        return 200, answers.to_json({
            "model_name": self.name, "model_version": self.version, "outputs": [{
                "name": self.output_name, "datatype": datatype, "shape": shape,
                "data": value}]}), list(answers.JSON_HEADERS)

    # answers

    def _answer(self, body: dict[str, Any], value: Any,
                wanted: dict[str, bool] | None) -> Answer:
        outputs, kind = self.outputs(value)
        if wanted is not None:
            unknown = sorted(set(wanted) - {o["name"] for o in outputs})
            if unknown:
                return error(400, f"Output(s) {', '.join(unknown)} do not exist: run() "
                                  f"answered {', '.join(o['name'] for o in outputs)}.")
            outputs = [o for o in outputs if o["name"] in wanted]
        found: dict[str, Any] = {"model_name": self.name, "model_version": self.version}
        if "id" in body:
            found["id"] = body["id"]
        if kind:
            found["parameters"] = {"content_type": kind}
        binary_default = bool((body.get("parameters") or {}).get("binary_data_output"))
        pieces = []
        for output in outputs if wanted is not None or binary_default else ():
            if (wanted or {}).get(output["name"], binary_default):
                data = tensors.to_binary(output)
                del output["data"]
                output.setdefault("parameters", {})["binary_data_size"] = len(data)
                pieces.append(data)
        found["outputs"] = outputs
        header = answers.to_json(found)
        if not pieces:
            return 200, header, list(answers.JSON_HEADERS)
        return 200, header + b"".join(pieces), [
            (b"content-type", b"application/octet-stream"),
            (HEADER_LENGTH.encode(), str(len(header)).encode())]

    def outputs(self, value: Any) -> tuple[list[dict[str, Any]], str]:
        """``run()``'s answer as output tensors, and the kind of answer they make up.

        A DataFrame is one output per column (kind ``pd``), a dict one per key (kind ``dict``),
        anything else the one output (named by the metadata, else ``output-0``).
        """
        if hasattr(value, "columns") and hasattr(value, "to_dict"):
            return [tensors.encode(str(c), value[c].to_numpy()) for c in value.columns], \
                FRAME_ANSWER
        if isinstance(value, dict):
            return [tensors.encode(str(k), v) for k, v in value.items()], DICT_ANSWER
        return [tensors.encode(self.output_name, value)], ""


def _header_length(request: entry.Request) -> str | None:
    """``Inference-Header-Content-Length``, read from the raw headers (nothing decoded)."""
    for name, value in request.headers.raw:
        if name == _HEADER_LENGTH:
            return value.decode("latin-1")
    return None


_HEADER_LENGTH = HEADER_LENGTH.encode()
#: The keys of a request :meth:`OpenInference.infer_plain` answers.
_PLAIN_REQUEST = {"inputs", "id"}


def _requested(body: dict[str, Any]) -> dict[str, bool] | None:
    """The outputs asked for (name → binary or not), or None for all of them.

    Raises:
        tensors.TensorError: ``outputs`` is not a list of named outputs.
    """
    outputs = body.get("outputs")
    if outputs is None:
        return None
    if not isinstance(outputs, list) or not all(
            isinstance(o, dict) and isinstance(o.get("name"), str) for o in outputs):
        raise tensors.TensorError("'outputs' must be a list of {name, parameters}.")
    default = bool((body.get("parameters") or {}).get("binary_data_output"))
    return {o["name"]: bool((o.get("parameters") or {}).get("binary_data", default))
            for o in outputs}


def _run_failed(failure: answers.RunFailed) -> Answer:
    if failure.timed_out:
        return error(500, str(failure))
    return error(500, f"run() failed: {failure}")


def decode_answer(body: bytes, header_length: str | None = None) -> Any:
    """An infer answer back to the value ``run()`` returned (the client's side of
    :meth:`OpenInference.outputs`): one output's value, a dict, or DataFrame records.

    Raises:
        tensors.TensorError: the answer is not an infer answer.
    """
    cut = int(header_length) if header_length else len(body)
    document = json.loads(body[:cut])
    binary, offset, values = body[cut:], 0, {}
    for output in document.get("outputs", []):
        size = (output.get("parameters") or {}).get("binary_data_size")
        piece = binary[offset:offset + size] if size is not None else b""
        offset += size or 0
        values[output["name"]] = tensors.decode_output(output, piece)
    kind = (document.get("parameters") or {}).get("content_type")
    if kind == FRAME_ANSWER:
        columns = list(values)
        rows = zip(*values.values(), strict=False)
        return [dict(zip(columns, row, strict=False)) for row in rows]
    if kind == DICT_ANSWER or len(values) != 1:
        return values
    return next(iter(values.values()))
