"""The in-image scoring server's ASGI application, called directly (no sockets, no engine)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jupyter_deploy.server.app import ScoringApp

SAMPLE = {"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]]}


class Answer:
    """A complete answer from the app: status, headers (lower-case names) and body."""

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status = status
        self.headers = {k.decode(): v.decode() for k, v in headers}
        self.all_headers = [(k.decode(), v.decode()) for k, v in headers]
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


def call(app: ScoringApp, method: str = "POST", path: str = "/score", body: bytes = b"",
         headers: dict[str, str] | None = None, query: bytes = b"") -> Answer:
    """Run one request through the ASGI app and collect the answer."""
    sent: list[dict[str, Any]] = []
    pending = [{"type": "http.request", "body": body, "more_body": False}]
    scope = {"type": "http", "method": method, "path": path, "query_string": query,
             "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
             "client": ("127.0.0.1", 1234)}

    async def receive() -> dict[str, Any]:
        return pending.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return Answer(sent[0]["status"], sent[0]["headers"], sent[1]["body"])


def post_json(app: ScoringApp, payload: Any, **kwargs: Any) -> Answer:
    return call(app, body=json.dumps(payload).encode(),
                headers={"Content-Type": "application/json", **kwargs.pop("headers", {})},
                **kwargs)


def test_an_undecorated_run_gets_the_body_as_a_string(an_app_for: Callable[..., ScoringApp]
                                                     ) -> None:
    # Given the plain JSON script
    app = an_app_for("plain_json")
    # When the seed's two-row sample is posted
    answer = post_json(app, SAMPLE)
    # Then both rows are scored, with the run-time and run-failed headers
    assert answer.status == 200
    assert answer.json() == [56, 56]
    assert answer.headers["x-ms-run-function-failed"] == "False"
    assert float(answer.headers["x-ms-run-fn-exec-ms"]) >= 0


def test_get_passes_the_query_as_json(an_app_for: Callable[..., ScoringApp]) -> None:
    # Given the plain JSON script, When /score is read with the data in the query
    answer = call(an_app_for("plain_json"), "GET", query=b"data=[[1,2],[3,4]]")
    # Then the query values are parsed as JSON
    assert answer.json() == [4, 8]


def test_request_ids_are_echoed_or_generated(an_app_for: Callable[..., ScoringApp]) -> None:
    app = an_app_for("plain_json")
    # When no id is sent, Then one is generated and used for the legacy header too
    generated = post_json(app, SAMPLE).headers
    assert uuid.UUID(generated["x-request-id"]).version == 4
    assert str(uuid.UUID(generated["x-request-id"])) == generated["x-request-id"]
    assert generated["x-ms-request-id"] == generated["x-request-id"]
    # And every request gets an id of its own
    assert len({post_json(app, SAMPLE).headers["x-request-id"] for _ in range(100)}) == 100
    # When the client sends its ids, Then they come back
    echoed = post_json(app, SAMPLE, headers={"x-request-id": "abc",
                                             "x-ms-client-request-id": "mine"}).headers
    assert (echoed["x-request-id"], echoed["x-ms-client-request-id"]) == ("abc", "mine")
    assert echoed["x-ms-request-id"] == "mine"
    # When an id is too long, Then 431
    assert post_json(app, SAMPLE, headers={"x-request-id": "x" * 101}).status == 431


def test_numpy_values_are_serialised(an_app_for: Callable[..., ScoringApp]) -> None:
    answer = post_json(an_app_for("numpy_out"), SAMPLE)
    assert answer.status == 200
    assert answer.json() == {"sums": [55.0, 55.0], "max": 10.0}


@pytest.mark.parametrize(("body", "content_type", "status", "message"), [
    (b'{"data": [[1]]', "application/json", 400, "POST body could not be decoded as JSON"),
    (b"", "application/json", 400, "POST body is empty"),
    (b"[1, 2]", "application/json", 400, "POST body should be a JSON dictionary."),
    (b'{"rows": []}', "application/json", 400, "A value is not provided for the 'data'"),
    (b'{"data": []}', "text/plain", 415, "Expects Content-Type to be application/json"),
])
def test_schema_decorated_run_rejects_bad_input(
    an_app_for: Callable[..., ScoringApp], body: bytes, content_type: str, status: int,
    message: str,
) -> None:
    # Given a run() decorated with @input_schema, When a bad request arrives
    answer = call(an_app_for("schema_standard"), body=body,
                  headers={"Content-Type": content_type})
    # Then the peer's status and message
    assert answer.status == status
    assert answer.json()["message"].startswith(message)


def test_schema_types_convert_arguments(an_app_for: Callable[..., ScoringApp]) -> None:
    assert post_json(an_app_for("schema_numpy"), {**SAMPLE, "scale": 2}).json() == [110, 110]
    frame = post_json(an_app_for("schema_pandas"), {"data": [{"a": 1, "b": 2}, {"a": 3, "b": 4}]})
    assert frame.json() == [3.0, 7.0]


def test_rawhttp_run_answers_with_its_own_response(an_app_for: Callable[..., ScoringApp]
                                                  ) -> None:
    app = an_app_for("raw_http")
    answer = call(app, body=b"abc", headers={"Content-Type": "text/plain"})
    assert (answer.status, answer.body) == (201, b"cba")
    assert answer.headers["content-type"] == "application/octet-stream"
    assert ("x-custom", "a") in answer.all_headers and ("x-custom", "b") in answer.all_headers
    assert call(app, "GET", query=b"a=1").json() == {"args": {"a": "1"}, "path": "/score"}


@pytest.mark.parametrize("response", [
    'AMLResponse("x", 200, {"X-Evil": "a\\r\\nSet-Cookie: stolen=1"})',
    'AMLResponse("x", 200, {"Bad Name": "v"})',
    'AMLResponse("x", 999)',
])
def test_a_response_http_cannot_carry_gives_500(an_app_for: Callable[..., ScoringApp],
                                               response: str) -> None:
    # Given a @rawhttp run() answering with a header that would split the response, a header
    # name with a space, or a status that is not HTTP's
    app = an_app_for(text=f"""
        from azureml.contrib.services.aml_request import rawhttp
        from azureml.contrib.services.aml_response import AMLResponse
        def init():
            pass
        @rawhttp
        def run(request):
            return {response}
        """)
    # Then nothing of it reaches the wire: the client gets the internal-error answer
    answer = call(app, body=b"abc")
    assert answer.status == 500 and "Set-Cookie" not in answer.headers
    assert answer.json()["message"].startswith("An unexpected internal error occurred")


def test_an_answer_never_carries_two_content_lengths(an_app_for: Callable[..., ScoringApp]
                                                     ) -> None:
    app = an_app_for(text="""
        from azureml.contrib.services.aml_request import rawhttp
        from azureml.contrib.services.aml_response import AMLResponse
        def init():
            pass
        @rawhttp
        def run(request):
            return AMLResponse("four", 200, {"Content-Length": "999"})
        """)
    answer = call(app, body=b"abc")
    assert [k for k, _ in answer.all_headers].count("content-length") == 1
    assert (answer.headers["content-length"], answer.body) == ("4", b"four")


def test_a_raising_run_gives_500_with_a_message(an_app_for: Callable[..., ScoringApp]) -> None:
    answer = post_json(an_app_for("run_raises"), SAMPLE)
    assert answer.status == 500
    assert "ValueError: this model refuses to score" in answer.json()["message"]
    assert answer.headers["x-ms-run-function-failed"] == "True"


def test_a_slow_run_times_out(an_app_for: Callable[..., ScoringApp]) -> None:
    answer = post_json(an_app_for(text="def init(): pass\ndef run(d):\n"
                                  "    import time; time.sleep(5)\n", timeout_ms=200), SAMPLE)
    assert answer.status == 500
    assert answer.json() == {"message": "Scoring timeout after 200 ms"}


def test_routes_methods_and_limits(an_app_for: Callable[..., ScoringApp]) -> None:
    app = an_app_for("plain_json", max_body=10)
    assert call(app, "GET", "/").body == b"Healthy"
    assert call(app, "OPTIONS").status == 200
    assert call(app, "PUT").status == 405
    assert call(app, "GET", "/nowhere").status == 404
    too_large = post_json(app, SAMPLE)
    assert too_large.status == 413 and "JD_MAX_BODY_BYTES" in too_large.json()["message"]


def test_cors_origins(an_app_for: Callable[..., ScoringApp]) -> None:
    app = an_app_for("plain_json", cors_origins=("http://a.example",))
    allowed = post_json(app, SAMPLE, headers={"Origin": "http://a.example"})
    assert allowed.headers["access-control-allow-origin"] == "http://a.example"
    other = post_json(app, SAMPLE, headers={"Origin": "http://b.example"})
    assert "access-control-allow-origin" not in other.headers


def test_swagger_from_decorators_and_user_file(an_app_for: Callable[..., ScoringApp],
                                               tmp_path: Path) -> None:
    doc = call(an_app_for("schema_numpy"), "GET", "/swagger.json").json()
    assert doc["definitions"]["ServiceInput"]["example"]["data"] == [[1.0] * 10]
    assert call(an_app_for("plain_json"), "GET", "/swagger.json",
                query=b"version=9").status == 404
    app = an_app_for(text="def init(): pass\ndef run(d): return d\n")
    (tmp_path / "swagger.json").write_text('{"mine": true}')
    assert call(app, "GET", "/swagger.json").json() == {"mine": True}
