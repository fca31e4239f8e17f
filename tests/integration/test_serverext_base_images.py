"""The sidebar's ``base-images`` routes against the real engine, through Jupyter Server.

The catalogue's rows are checked against what the engine holds; building an entry the engine
already has answers at once (the ONNX Runtime base is built once per machine and reused), and
an unknown name is a 404 with the names that exist.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_jupyter.jupyter_core import jp_asyncio_loop  # noqa: F401 - the real one, here
from pytest_jupyter.jupyter_server import jp_server_cleanup  # noqa: F401 - the real one, here
from tornado.httpclient import HTTPClientError

from jupyter_deploy.engine import prebuilt
from jupyter_deploy.engine.client import docker_client
from jupyter_deploy.spec.base_catalog import entry


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"jupyter_deploy": True}}}


@pytest.fixture(scope="module")
def the_onnxruntime_base() -> str:
    """The catalogue's ONNX Runtime image, built when this engine does not have it yet."""
    return prebuilt.ensure(entry("onnxruntime"))


async def test_the_catalogue_says_what_the_engine_has(jp_fetch: Any, the_onnxruntime_base: str
                                                      ) -> None:
    answer = json.loads((await jp_fetch("jupyter-deploy", "base-images")).body)
    rows = {row["name"]: row for row in answer["images"]}
    assert list(rows) == ["minimal", "onnxruntime", "onnxruntime-cuda"]
    ort = rows["onnxruntime"]
    assert ort["built"] is True and ort["image"] == the_onnxruntime_base
    assert ort["size_bytes"] == docker_client().images.get(the_onnxruntime_base).attrs["Size"]
    assert ort["stands_for"] == ["mcr.microsoft.com/azureml/onnxruntime:latest"]
    assert [u["name"] for u in answer["unavailable"]] == [
        "mcr.microsoft.com/azureml/onnxruntime:latest-tensorrt",
        "mcr.microsoft.com/azureml/onnxruntime:latest-openvino-*"]
    assert all(u["instead"].startswith("Use ") for u in answer["unavailable"])


async def test_building_one_the_engine_has_answers_its_row(jp_fetch: Any,
                                                           the_onnxruntime_base: str) -> None:
    response = await jp_fetch("jupyter-deploy", "base-images", "onnxruntime", "build",
                              method="POST", body="{}")
    row = json.loads(response.body)
    assert row["name"] == "onnxruntime" and row["built"] is True
    assert row["image"] == the_onnxruntime_base


async def test_an_unknown_name_is_a_404_naming_the_known_ones(jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("jupyter-deploy", "base-images", "tensorrt", "build", method="POST",
                       body="{}")
    assert caught.value.code == 404 and caught.value.response is not None
    assert "minimal, onnxruntime, onnxruntime-cuda" in json.loads(
        caught.value.response.body)["message"]
