"""One container answers three protocols, each spoken by its own client.

A scikit-learn Ridge model with a plain ``run(raw_data)`` is deployed once for the module. Then
``tritonclient``'s HTTP client (the Open Inference Protocol), MLflow's own scoring-server client
and its documented request formats, and ``service.score(…, protocol=…)`` all score the same rows:
every answer must equal the same rows through ``/score`` and in this process. Bad input gets each
protocol's own 4xx and error shape, and the server goes on serving.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
import requests
import sklearn
from samples import JOBLIB_SCORE_PY

import jupyter_deploy as jd
from jupyter_deploy.scoring.parity import run_in_process

ROWS = np.array([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1],
                 [0, 0, 1, 0, 0, 2, 0, 0, 3, 0]])
COLUMNS = [f"f{i}" for i in range(10)]


@pytest.fixture(scope="module")
def a_service(tmp_path_factory: pytest.TempPathFactory, test_labels: dict[str, str]
              ) -> Iterator[Any]:
    """The Ridge model behind a plain score.py, deployed once (one image for the module)."""
    from runs import RUN_ID
    from sklearn.linear_model import Ridge

    folder = tmp_path_factory.mktemp("protocols")
    features = np.random.default_rng(0).normal(size=(50, 10))
    joblib.dump(Ridge().fit(features, features @ np.arange(1, 11) + 3), folder / "model.pkl")
    (folder / "score.py").write_text(JOBLIB_SCORE_PY)
    env = jd.Environment(name="protocols", pip=(f"scikit-learn=={sklearn.__version__}",
                                                f"joblib=={joblib.__version__}"))
    service = jd.deploy(f"jdtest-{RUN_ID}-protocols", folder / "score.py",
                        models=[folder / "model.pkl"], environment=env, labels=test_labels)
    try:
        yield service
    finally:
        service.remove()


@pytest.fixture(scope="module")
def expected(a_service: Any) -> list[float]:
    """The rows scored through /score, checked against the same script run in this process."""
    scored = a_service.score({"data": ROWS.tolist()}).value
    local = run_in_process(a_service.source_package(), {"data": ROWS.tolist()})
    assert scored == pytest.approx(local, rel=1e-9)
    return list(scored)


def _host(service: Any) -> str:
    return service.base_url.split("//", 1)[1]


def test_tritonclient_reads_the_metadata_and_infers(a_service: Any, expected: list[float]
                                                   ) -> None:
    import tritonclient.http as triton

    # Given tritonclient's own HTTP client on the service's port
    client = triton.InferenceServerClient(_host(a_service))
    name = a_service.name
    # Then the server and the model are live and ready, under the service's name
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready(name) and not client.is_model_ready("another-model")
    metadata = client.get_model_metadata(name)
    assert (metadata["name"], metadata["versions"]) == (name, ["1"])
    assert client.get_server_metadata()["extensions"] == ["binary_tensor_data"]
    # When the rows are sent as FP64 (binary, the client's default) and INT64 (JSON)
    for datatype, binary in (("FP64", True), ("INT64", False)):
        tensor = triton.InferInput("rows", list(ROWS.shape), datatype)
        tensor.set_data_from_numpy(ROWS.astype(np.float64 if datatype == "FP64" else np.int64),
                                   binary_data=binary)
        result = client.infer(name, [tensor])
        # Then the one output holds the /score answer
        assert result.as_numpy("output-0").tolist() == pytest.approx(expected, rel=1e-9)
        assert result.get_response()["model_version"] == "1"
    client.close()


def test_mlflows_client_and_documented_formats(a_service: Any, expected: list[float]) -> None:
    from mlflow.pyfunc.scoring_server.client import ScoringServerClient

    # Given MLflow's own scoring-server client
    host, port = _host(a_service).split(":")
    client = ScoringServerClient(host, int(port))
    client.ping()
    assert client.get_version()
    # When it sends a DataFrame (as dataframe_split), Then the predictions are /score's
    frame = pd.DataFrame(ROWS, columns=COLUMNS)
    response = client.invoke(frame)
    assert response["predictions"] == pytest.approx(expected, rel=1e-9)
    assert response.get_predictions()[0].tolist() == pytest.approx(expected, rel=1e-9)
    # And each documented request format answers the same
    url = a_service.base_url + "/invocations"
    records = frame.to_dict(orient="records")
    for body in ({"dataframe_split": frame.to_dict(orient="split")},
                 {"dataframe_records": records}, {"instances": ROWS.tolist()},
                 {"inputs": ROWS.tolist()}, {"instances": records}):
        answer = requests.post(url, json=body, timeout=30)
        assert answer.status_code == 200, (list(body), answer.text)
        assert answer.json()["predictions"] == pytest.approx(expected, rel=1e-9)
    csv = requests.post(url, data=frame.to_csv(index=False), timeout=30,
                        headers={"Content-Type": "text/csv"})
    assert csv.json()["predictions"] == pytest.approx(expected, rel=1e-9)


def test_service_score_and_parity_through_each_protocol(a_service: Any,
                                                        expected: list[float]) -> None:
    frame = pd.DataFrame(ROWS, columns=COLUMNS)
    for protocol in ("azureml", "v2", "mlflow"):
        # When the DataFrame is scored through the protocol, Then /score's answer
        assert a_service.score(frame, protocol=protocol).value == \
            pytest.approx(expected, rel=1e-9), protocol
        batched = a_service.score(frame, batch_size=2, protocol=protocol).value
        assert batched == pytest.approx(expected, rel=1e-9), protocol
        # And in-process and in-container agree through it
        report = a_service.parity_check(frame, protocol=protocol)
        assert report.equal, (protocol, str(report))


def test_bad_input_gets_each_protocols_error_and_the_server_keeps_serving(
        a_service: Any, expected: list[float]) -> None:
    import tritonclient.http as triton
    from tritonclient.utils import InferenceServerException

    base, name = a_service.base_url, a_service.name
    infer = f"{base}/v2/models/{name}/infer"
    tensor = {"name": "rows", "shape": [3, 10], "datatype": "FP64",
              "data": ROWS.astype(float).reshape(-1).tolist()}
    refused = {
        "wrong datatype": requests.post(infer, json={"inputs": [
            {**tensor, "datatype": "INT64"}]}, timeout=30),
        "shape against data": requests.post(infer, json={"inputs": [
            {**tensor, "shape": [2, 10]}]}, timeout=30),
        "unknown model": requests.post(f"{base}/v2/models/nope/infer",
                                       json={"inputs": [tensor]}, timeout=30),
    }
    for label, answer in refused.items():
        assert 400 <= answer.status_code < 500 and list(answer.json()) == ["error"], label
    assert refused["unknown model"].status_code == 404
    # tritonclient reports the server's error and its status
    client = triton.InferenceServerClient(_host(a_service))
    with pytest.raises(InferenceServerException) as failure:
        client.get_model_metadata("nope")
    assert failure.value.status() == "404" and "is not served here" in failure.value.message()
    client.close()
    # MLflow: two keys at once, a CSV row with too many fields
    url = base + "/invocations"
    two = requests.post(url, json={"inputs": [[1]], "instances": [[1]]}, timeout=30)
    bad_csv = requests.post(url, data="a,b\n1,2\n3,4,5\n", timeout=30,
                            headers={"Content-Type": "text/csv"})
    for answer in (two, bad_csv):
        assert answer.status_code == 400 and answer.json()["error_code"] == "BAD_REQUEST"
    assert "exactly one of the input fields" in two.json()["message"]
    assert "Expected 2 fields in line 3, saw 3" in bad_csv.json()["message"]
    # And every protocol still answers
    assert requests.post(infer, json={"inputs": [tensor]}, timeout=30).status_code == 200
    assert requests.post(url, json={"inputs": ROWS.tolist()}, timeout=30).json()[
        "predictions"] == pytest.approx(expected, rel=1e-9)
    assert a_service.score({"data": ROWS.tolist()}).value == pytest.approx(expected, rel=1e-9)
    assert json.loads(requests.get(base + "/swagger.json?version=3", timeout=30).text)[
        "paths"].keys() >= {"/invocations", "/v2/models/{model_name}/infer"}


def test_the_image_knows_its_name_and_probes_are_open(a_service: Any) -> None:
    base = a_service.base_url
    for path in ("/v2/health/live", "/v2/health/ready", "/ping", "/health"):
        assert requests.get(base + path, timeout=30).status_code == 200, path
    assert requests.get(f"{base}/v2/models/{a_service.name}/ready", timeout=30).json() == {
        "name": a_service.name, "ready": True}
    assert Path(a_service.source_package().entry_script).name == "score.py"
