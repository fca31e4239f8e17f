"""The protocols beside /score, called through the app in-process: how requests reach run().

Echo scripts return exactly what ``run()`` received, so each mapping rule of the README's
"Protocols" section is checked as written: a DataFrame-shaped request is ``{"data": rows}`` for a
plain ``run(raw_data)`` and records for a pandas parameter, one tensor is ``{"data": value}``,
several a dict, ``params`` join the JSON. Bad input answers each protocol's error shape.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.scoring import parity, protocols
from jupyter_deploy.server import aml, auth, entry, oip, signature, tensors
from jupyter_deploy.server.app import ScoringApp
from jupyter_deploy.server.settings import Settings, model_version
from jupyter_deploy.spec.package import PackageSpec

COMPAT = Path(__file__).parents[1] / "compat" / "scripts"
ROWS = [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]]
JSON = {"Content-Type": "application/json"}

ECHO_PLAIN = """
import json
def init():
    pass
def run(raw_data):
    return {"got": json.loads(raw_data)}
"""

ECHO_DECORATED = """
import numpy as np, pandas as pd
from inference_schema.schema_decorators import input_schema, output_schema
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.parameter_types.standard_py_parameter_type import (
    StandardPythonParameterType)

def init():
    pass

@input_schema("frame", PandasParameterType(pd.DataFrame({"a": [1.0], "n": [2], "s": ["x"]})))
@input_schema("scale", StandardPythonParameterType(1.0), optional=True)
@output_schema(NumpyParameterType(np.array([1.0])))
def run(frame, scale=1.0):
    return {"columns": list(frame.columns), "a": (frame["a"] * scale).tolist(),
            "n": frame["n"].tolist(), "s": frame["s"].tolist(), "scale": scale}
"""

RAW = """
from azureml.contrib.services.aml_request import rawhttp
def init():
    pass
@rawhttp
def run(request):
    return request.get_data()
"""


class Answer:
    def __init__(self, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        self.status, self.body = status, body
        self.headers = {k.decode().lower(): v.decode() for k, v in headers}

    def json(self) -> Any:
        return json.loads(self.body)


def ask(app: ScoringApp, method: str, path: str, body: bytes | str | dict[str, Any] = b"",
        headers: dict[str, str] | None = None) -> Answer:
    """One request through the app's single entry point (as the HTTP protocol calls it)."""
    if isinstance(body, dict):
        body, headers = json.dumps(body), {**JSON, **(headers or {})}
    raw = body.encode() if isinstance(body, str) else body
    request = entry.Request(method, path, b"", aml.Headers(
        raw=[(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]), raw)
    answer = app.respond(request)
    assert isinstance(answer, tuple)
    status, data, found = answer
    assert isinstance(data, bytes)
    return Answer(status, data, found)


@pytest.fixture
def an_app_for(an_app_for: Callable[..., ScoringApp]) -> Callable[..., ScoringApp]:
    """The shared builder, the model named ``m``, version 3."""

    def build(name: str = "", text: str = "", keys: auth.KeyFiles | None = None) -> ScoringApp:
        return an_app_for(name, text, keys, model_name="m", model_version="3")

    return build


def infer(app: ScoringApp, *inputs: dict[str, Any], **extra: Any) -> Answer:
    return ask(app, "POST", "/v2/models/m/infer", {"inputs": list(inputs), **extra})


def tensor(name: str, rows: Any, datatype: str = "INT64") -> dict[str, Any]:
    flat = list(np.array(rows).reshape(-1).tolist())
    return {"name": name, "shape": list(np.array(rows).shape), "datatype": datatype,
            "data": flat}


# How requests reach a plain run(raw_data)


def test_every_dataframe_shaped_request_reaches_a_plain_run_as_data_rows(
        an_app_for: Callable[..., ScoringApp]) -> None:
    app = an_app_for(text=ECHO_PLAIN)
    expected = {"got": {"data": ROWS}}
    records = [dict(zip("abcdefghij", row, strict=True)) for row in ROWS]
    csv = "a,b,c,d,e,f,g,h,i,j\n" + "\n".join(",".join(map(str, r)) for r in ROWS)
    answers = [
        ask(app, "POST", "/score", {"data": ROWS}).json(),
        ask(app, "POST", "/invocations", {"dataframe_split": {"columns": list("abcdefghij"),
                                                              "data": ROWS}}).json(),
        ask(app, "POST", "/invocations", {"dataframe_records": records}).json(),
        ask(app, "POST", "/invocations", {"instances": ROWS}).json(),
        ask(app, "POST", "/invocations", {"inputs": ROWS}).json(),
        ask(app, "POST", "/invocations", {"instances": records}).json(),
        ask(app, "POST", "/invocations", csv, {"Content-Type": "text/csv"}).json(),
        oip.decode_answer(infer(app, tensor("anything", ROWS)).body),
        oip.decode_answer(infer(app, *[tensor(c, [r[i] for r in ROWS])
                                       for i, c in enumerate("abcdefghij")],
                                parameters={"content_type": "pd"}).body),
    ]
    assert answers[0] == expected
    assert answers[1:7] == [{"predictions": expected}] * 6
    assert answers[7:] == [expected] * 2


def test_named_inputs_become_a_dict_and_params_join_it(
        an_app_for: Callable[..., ScoringApp]) -> None:
    app = an_app_for(text=ECHO_PLAIN)
    # Several OIP inputs: a dict of their values in their shapes
    both = infer(app, tensor("x", [[1, 2], [3, 4]]), tensor("y", [0.5], "FP64"),
                 {"name": "z", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]})
    assert oip.decode_answer(both.body) == {"got": {"x": [[1, 2], [3, 4]], "y": [0.5],
                                                    "z": ["a", "b"]}}
    # MLflow inputs as a dict, with params beside them
    answer = ask(app, "POST", "/invocations", {"inputs": {"x": [1], "y": [2]},
                                               "params": {"k": 3}})
    assert answer.json() == {"predictions": {"got": {"x": [1], "y": [2], "k": 3}}}
    assert ask(app, "POST", "/invocations", {"inputs": [1], "params": {"data": 1}}
               ).status == 400


# How requests reach a decorated run()


def test_a_pandas_parameter_gets_a_dataframe_with_its_columns(
        an_app_for: Callable[..., ScoringApp]) -> None:
    app = an_app_for(text=ECHO_DECORATED)
    expected = {"columns": ["a", "n", "s"], "a": [2.0, 4.0], "n": [1, 2], "s": ["p", "q"],
                "scale": 2.0}
    frame = pd.DataFrame({"a": [1.0, 2.0], "n": [1, 2], "s": ["p", "q"]})
    split = {"dataframe_split": {"columns": ["a", "n", "s"], "data": frame.values.tolist()},
             "params": {"scale": 2.0}}
    assert ask(app, "POST", "/invocations", split).json() == {"predictions": expected}
    csv = "a,n,s\n1.0,1,p\n2.0,2,q\n"
    assert ask(app, "POST", "/invocations", csv, {"Content-Type": "text/csv"}).json() == {
        "predictions": {**expected, "a": [1.0, 2.0], "scale": 1.0}}
    # The OIP inputs are the DataFrame's columns (the metadata says so), plus the scale
    columns = protocols.v2_body(frame)["inputs"]
    answer = infer(app, *columns, {"name": "scale", "shape": [1], "datatype": "FP64",
                                   "data": [2.0]})
    assert answer.status == 200, answer.body
    assert oip.decode_answer(answer.body) == expected


def test_model_metadata_comes_from_the_schema_decorators(
        an_app_for: Callable[..., ScoringApp]) -> None:
    pandas_model = ask(an_app_for(text=ECHO_DECORATED), "GET", "/v2/models/m").json()
    assert pandas_model == {
        "name": "m", "versions": ["3"], "platform": signature.PLATFORM,
        "inputs": [{"name": "a", "datatype": "FP64", "shape": [-1]},
                   {"name": "n", "datatype": "INT64", "shape": [-1]},
                   {"name": "s", "datatype": "BYTES", "shape": [-1]},
                   {"name": "scale", "datatype": "FP64", "shape": [1]}],
        "outputs": [{"name": "output-0", "datatype": "FP64", "shape": [-1]}],
        "parameters": {"content_type": "pd"}}
    numpy_model = ask(an_app_for("schema_numpy"), "GET", "/v2/models/m/versions/3").json()
    assert numpy_model["inputs"] == [{"name": "data", "datatype": "FP64", "shape": [-1, 10]},
                                     {"name": "scale", "datatype": "FP64", "shape": [1]}]
    assert ask(an_app_for("plain_json"), "GET", "/v2/models/m").json()["inputs"] == []


def test_a_script_can_state_its_own_metadata(an_app_for: Callable[..., ScoringApp],
                                             tmp_path: Path) -> None:
    told = {"inputs": [{"name": "f0", "datatype": "FP32", "shape": [-1]},
                       {"name": "f1", "datatype": "FP32", "shape": [-1]}],
            "outputs": [{"name": "predict", "datatype": "FP64", "shape": [-1]}],
            "platform": "mlflow_sklearn", "parameters": {"content_type": "pd"}}
    # Given the attribute in a plain script, Then it is the metadata
    app = an_app_for(text=ECHO_PLAIN.replace("def init", f"MODEL_METADATA = {told!r}\ndef init"))
    assert ask(app, "GET", "/v2/models/m").json() == {"name": "m", "versions": ["3"], **told}
    # And inputs named after its columns form a DataFrame: {"data": rows} for a plain run()
    answer = infer(app, tensor("f0", [1.0, 2.0], "FP32"), tensor("f1", [3.0, 4.0], "FP32"))
    assert json.loads(answer.body)["outputs"][0]["name"] == "got"
    # Given the file instead, Then the same
    (tmp_path / signature.METADATA_FILE).write_text(json.dumps(told))
    assert ask(an_app_for(text=ECHO_PLAIN), "GET", "/v2/models/m").json()["platform"] == \
        "mlflow_sklearn"
    # A bad one stops the start, saying what is wrong
    (tmp_path / signature.METADATA_FILE).write_text('{"inputs": [{"name": "x"}]}')
    with pytest.raises(signature.MetadataError, match="needs a name, a datatype"):
        an_app_for(text=ECHO_PLAIN)


def test_a_rawhttp_script_says_it_answers_only_score(
        an_app_for: Callable[..., ScoringApp]) -> None:
    app = an_app_for(text=RAW)
    for answer in (infer(app, tensor("x", [1])),
                   ask(app, "POST", "/invocations", {"inputs": [1]})):
        assert answer.status == 400
        assert "@rawhttp" in answer.body.decode() and "/score" in answer.body.decode()


# The answers


def test_answers_are_typed_tensors_and_predictions(an_app_for: Callable[..., ScoringApp]
                                                   ) -> None:
    # A DataFrame answer: one tensor per column
    app = an_app_for(text="def init():\n    pass\n"
                          "def run(raw):\n    import pandas as pd\n"
                          "    return pd.DataFrame({'p': [0.5, 1.5], 'label': ['a', 'b']})\n")
    answer = json.loads(infer(app, tensor("x", [1])).body)
    assert answer["parameters"] == {"content_type": "pd"}
    assert [(o["name"], o["datatype"], o["shape"]) for o in answer["outputs"]] == [
        ("p", "FP64", [2]), ("label", "BYTES", [2])]
    records = [{"p": 0.5, "label": "a"}, {"p": 1.5, "label": "b"}]
    assert ask(app, "POST", "/invocations", {"inputs": [1]}).json() == {"predictions": records}
    assert ask(app, "POST", "/score", {"data": 1}).json() == records
    # Booleans, float32 arrays, ragged lists
    assert tensors.encode("o", [True, False])["datatype"] == "BOOL"
    assert tensors.encode("o", np.ones((2, 3), dtype=np.float32))["shape"] == [2, 3]
    assert tensors.encode("o", np.ones((2, 3), dtype=np.float32))["datatype"] == "FP32"
    ragged = tensors.encode("o", [[1], [2, 3]])
    assert (ragged["datatype"], tensors.decode_output(ragged)) == ("BYTES", [[1], [2, 3]])
    assert tensors.encode("o", 7) == {"name": "o", "datatype": "INT64", "shape": [],
                                      "data": [7]}


def test_binary_tensors_in_and_out(an_app_for: Callable[..., ScoringApp]) -> None:
    # Given Triton's binary extension: a JSON header, then the raw tensors
    app = an_app_for("ridge")
    values = np.array(ROWS, dtype=np.float64)
    header = json.dumps({"inputs": [{"name": "x", "shape": [2, 10], "datatype": "FP64",
                                     "parameters": {"binary_data_size": values.nbytes}}],
                         "parameters": {"binary_data_output": True}}).encode()
    answer = ask(app, "POST", "/v2/models/m/infer", header + values.tobytes(),
                 {"Inference-Header-Content-Length": str(len(header))})
    # Then the answer is binary too, and decodes to the /score answer
    assert answer.status == 200, answer.body
    length = answer.headers["inference-header-content-length"]
    scored = ask(app, "POST", "/score", {"data": ROWS}).json()
    assert oip.decode_answer(answer.body, length) == pytest.approx(scored, rel=1e-12)
    strings = b"".join(struct.pack("<I", len(s)) + s for s in (b"ab", b"c"))
    assert tensors.decode_inputs({"inputs": [{"name": "s", "shape": [2], "datatype": "BYTES",
                                              "parameters": {"binary_data_size": len(strings)}}]},
                                 strings)[0].value == ["ab", "c"]


# Bad input, per protocol


@pytest.mark.parametrize(("inputs", "message"), [
    ([tensor("x", [1.5, 2.0], "FP64") | {"datatype": "INT64"}], "is INT64 but holds 1.5"),
    ([tensor("x", [1, 2], "BOOL")], "is BOOL but holds 1"),
    ([tensor("x", [300], "UINT8")], "is UINT8 but holds 300"),
    ([tensor("x", [1, 2, 3]) | {"shape": [2, 2]}], "has shape [2, 2] (4 elements) but 3"),
    ([tensor("x", [1]) | {"datatype": "INT128"}], "has datatype 'INT128'"),
    ([{"name": "x", "shape": [1], "datatype": "FP64"}], "has no 'data'"),
    ([], "needs 'inputs'"),
])
def test_bad_tensors_get_400_with_the_error_shape(
        an_app_for: Callable[..., ScoringApp], inputs: list[dict[str, Any]], message: str,
) -> None:
    app = an_app_for("plain_json")
    answer = infer(app, *inputs)
    assert (answer.status, list(answer.json())) == (400, ["error"])
    assert message in answer.json()["error"]
    assert ask(app, "POST", "/v2/models/m/infer", b"{", JSON).status == 400
    # And the server goes on answering
    assert infer(app, tensor("x", ROWS)).status == 200


def test_other_models_versions_and_methods(an_app_for: Callable[..., ScoringApp]) -> None:
    app = an_app_for("plain_json")
    other = ask(app, "GET", "/v2/models/other")
    assert other.status == 404 and "this server serves 'm'" in other.json()["error"]
    assert ask(app, "GET", "/v2/models/m/versions/9").status == 404
    assert ask(app, "POST", "/v2/models/other/infer", {"inputs": []}).status == 404
    assert ask(app, "GET", "/v2/models/m/infer").status == 405
    assert ask(app, "GET", "/v2/nowhere").status == 404
    assert ask(app, "GET", "/v2/models/m/ready").json() == {"name": "m", "ready": True}
    assert ask(app, "GET", "/v2").json()["extensions"] == ["binary_tensor_data"]
    assert ask(app, "POST", "/v2/health/live").status == 405
    assert ask(app, "GET", "/invocations").status == 405


@pytest.mark.parametrize(("body", "content_type", "status", "start"), [
    ({"inputs": [1], "instances": [1]}, JSON["Content-Type"], 400,
     "The input must be a JSON dictionary with exactly one of the input fields"),
    ({"data": [1]}, JSON["Content-Type"], 400, "The input must be a JSON dictionary"),
    ([1, 2], JSON["Content-Type"], 400, "Invalid input. The input must be"),
    ('{"inputs": [1', JSON["Content-Type"], 400, "Invalid input. Ensure that input is a valid"),
    ("a,b\n1,2\n3,4,5\n", "text/csv", 400, "Failed to parse input as a Pandas DataFrame"),
    ({"inputs": [1]}, "text/plain", 415, "This predictor only supports the following content"),
    ({"inputs": [1]}, "application/json; charset=latin-1", 415, "The scoring server only "),
    ({"inputs": [1]}, "application/json; format=pandas-split", 415, "Unrecognized content"),
])
def test_mlflow_refuses_what_mlflow_refuses(
        an_app_for: Callable[..., ScoringApp], body: Any, content_type: str, status: int,
        start: str,
) -> None:
    app = an_app_for("plain_json")
    raw = body if isinstance(body, str) else json.dumps(body)
    answer = ask(app, "POST", "/invocations", raw, {"Content-Type": content_type})
    assert answer.status == status
    if status == 415:  # MLflow answers these as plain text
        assert answer.body.decode().startswith(start)
    else:
        assert answer.json()["error_code"] == "BAD_REQUEST"
        assert answer.json()["message"].startswith(start)
    assert "line 3, saw 3" in ask(app, "POST", "/invocations", "a,b\n1,2\n3,4,5\n",
                                  {"Content-Type": "text/csv"}).body.decode()


def test_csv_columns_are_typed_like_pandas(an_app_for: Callable[..., ScoringApp]) -> None:
    app = an_app_for(text=ECHO_PLAIN)
    csv = "i,f,b,s,gap\n1,1.5,true,x,1\n2,2,False,y,\n3,3,true,,3\n"
    got = ask(app, "POST", "/invocations", csv, {"Content-Type": "text/csv"}).json()
    assert got == {"predictions": {"got": {"data": [
        [1, 1.5, True, "x", 1.0], [2, 2.0, False, "y", None], [3, 3.0, True, None, 3.0]]}}}


# Health routes are open, the rest need a key; swagger lists the routes


def test_keys_guard_every_protocol_route_but_the_health_ones(
        an_app_for: Callable[..., ScoringApp], tmp_path: Path) -> None:
    (tmp_path / "key").write_text("k1")
    keys = auth.KeyFiles([str(tmp_path / "key")])
    keys.load()
    app = an_app_for("plain_json", keys=keys)
    for path in ("/v2/health/live", "/v2/health/ready", "/ping", "/health"):
        assert ask(app, "GET", path).status == 200, path
    for method, path in (("GET", "/v2"), ("GET", "/v2/models/m"), ("GET", "/version"),
                         ("GET", "/v2/models/m/ready"), ("POST", "/v2/models/m/infer"),
                         ("POST", "/invocations")):
        assert ask(app, method, path, b"{}", JSON).status == 401, path
    with_key = ask(app, "POST", "/invocations", {"inputs": ROWS},
                   {"Authorization": "Bearer k1"})
    assert with_key.json() == {"predictions": [56, 56]}


def test_the_openapi_documents_list_the_protocol_routes(
        an_app_for: Callable[..., ScoringApp]) -> None:
    app = an_app_for("plain_json")
    three = ask(app, "GET", "/swagger.json").json()
    assert sorted(three["paths"]) == ["/", "/score", "/swagger.json"]  # the peer's, as is
    request = entry.Request("GET", "/swagger.json", b"version=3", aml.Headers([]), b"")
    answer = app.respond(request)
    assert isinstance(answer, tuple)
    paths = json.loads(answer[1])["paths"]  # type: ignore[arg-type]
    assert {"/v2/models/{model_name}/infer", "/invocations", "/ping", "/v2/health/ready"} <= \
        set(paths)


# The client's side and parity through each protocol


def test_the_client_encodes_what_the_server_decodes(an_app_for: Callable[..., ScoringApp]
                                                    ) -> None:
    app = an_app_for("plain_json")
    frame = pd.DataFrame(ROWS, columns=list("abcdefghij"))
    for data in (frame, ROWS, np.array(ROWS), {"data": ROWS}, json.dumps({"data": ROWS})):
        for name in protocols.PROTOCOLS:
            wire = protocols.encode(name, data, "m")
            answer = ask(app, "POST", wire.path, wire.body, wire.headers)
            assert protocols.decode(name, answer.status, answer.body, answer.headers) == \
                [56, 56], (name, type(data))
    with pytest.raises(ConfigurationError, match="protocol='grpc'"):
        protocols.check("grpc")


def test_parity_goes_through_each_protocol(tmp_path: Path) -> None:
    spec = PackageSpec("p", COMPAT / "schema_pandas.py")
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    answers = {p: parity.run_in_process(spec, frame, p) for p in ("v2", "mlflow")}
    assert answers == {"v2": [4.0, 6.0], "mlflow": [4.0, 6.0]}

    def score(data: Any, protocol: str = "azureml") -> Any:
        class Result:
            value = [4.0, 6.0 + 1e-9]
        return Result()

    assert parity.parity_check(spec, score, frame, protocol="v2").equal


def test_the_model_version_is_the_models_folder_in_the_image() -> None:
    assert model_version("/var/azureml-app/azureml-models/ridge/7") == "7"
    assert model_version("/var/azureml-app/azureml-models") == "1"
    assert model_version("/home/me/models") == "1"
    env = {"AZUREML_ENTRY_SCRIPT": "/x/my_model.py"}
    assert Settings.from_env(env).model_name == "my_model"
    assert Settings.from_env({**env, "SERVICE_NAME": "svc"}).model_name == "svc"


def test_an_async_run_and_a_failing_run(an_app_for: Callable[..., ScoringApp]) -> None:
    import asyncio

    app = an_app_for(text="import json\ndef init():\n    pass\n"
                          "async def run(raw):\n    return json.loads(raw)['data']\n")
    request = entry.Request("POST", "/invocations", b"", aml.Headers(
        raw=[(b"content-type", b"application/json")]), b'{"inputs": [1, 2]}')
    pending = app.respond(request)
    assert not isinstance(pending, tuple)
    status, body, _ = asyncio.run(pending)  # type: ignore[arg-type]
    assert (status, json.loads(body)) == (200, {"predictions": [1, 2]})
    # A run() that raises: MLflow's 400 with its words, the OIP's 500 {"error"}
    failing = an_app_for("run_raises")
    mlflow = ask(failing, "POST", "/invocations", {"inputs": ROWS})
    assert mlflow.status == 400 and "unexpected error while evaluating" in mlflow.json()["message"]
    oip_answer = infer(failing, tensor("x", ROWS))
    assert oip_answer.status == 500 and oip_answer.json()["error"].startswith("run() failed")


def test_cors_preflights_on_the_protocol_routes(an_app_for: Callable[..., ScoringApp]) -> None:
    app = an_app_for("plain_json")
    app.origins = {"http://lab.example"}
    answer = ask(app, "OPTIONS", "/invocations", b"", {
        "Origin": "http://lab.example", "Access-Control-Request-Method": "POST"})
    assert answer.status == 200
    assert answer.headers["access-control-allow-origin"] == "http://lab.example"
    assert ask(app, "OPTIONS", "/v2/models/m/infer").status == 200
