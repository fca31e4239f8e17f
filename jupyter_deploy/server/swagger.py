"""``GET /swagger.json``: the user's own swagger file when there is one, else one generated.

Generated documents describe ``/`` and ``/score``, with ``ServiceInput``/``ServiceOutput`` taken
from the ``inference_schema`` decorators (empty objects for an undecorated ``run()``), in the
peer's versions: 2 (the default, also ``2.0``), 3 (``3.0``) and 3.1. The OpenAPI 3 documents also
list the Open Inference Protocol's and MLflow's routes; the Swagger 2 document stays the peer's
(tools written for Azure ML read it and compare its paths).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

try:
    from . import schema
except ImportError:  # pragma: no cover - run as a plain script
    import schema  # type: ignore[no-redef]

VERSIONS = {"2": "2", "2.0": "2", "3": "3", "3.0": "3", "3.1": "3.1"}


class SwaggerError(LookupError):
    """No swagger document for the version asked (the message lists the valid ones)."""


def document(app_root: str, run: Callable[..., Any], version: str | None) -> dict[str, Any]:
    """The swagger document for ``version`` (default 2).

    Raises:
        SwaggerError: the version is not one of 2, 2.0, 3, 3.0, 3.1.
    """
    canonical = VERSIONS.get(version or "2")
    if canonical is None:
        raise SwaggerError(
            f"Swagger version [{version}] is not valid. Supported versions: [2, 3, 3.1]."
        )
    names = ["swagger.json", "swagger2.json"] if canonical == "2" else [f"swagger{canonical}.json"]
    for name in names:
        path = os.path.join(app_root, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                return dict(json.load(f))
    return _generated(canonical, *_schemas(run))


def _schemas(run: Callable[..., Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    if schema.is_schema_decorated(run):
        return schema.get_input_schema(run), schema.get_output_schema(run)
    util = sys.modules.get("inference_schema.schema_util")
    if util is not None and util.is_schema_decorated(run):
        return util.get_input_schema(run), util.get_output_schema(run)
    empty = {"type": "object", "example": {}}
    return empty, dict(empty)


def _generated(version: str, service_input: dict[str, Any], service_output: dict[str, Any]
               ) -> dict[str, Any]:
    name = os.environ.get("SERVICE_NAME", "ML service")
    info = {"title": name, "description": f"API specification for {name}",
            "version": os.environ.get("SERVICE_VERSION", "1.0")}
    error = {"type": "object", "properties": {"message": {"type": "string"}}}
    if version == "2":
        ref = "#/definitions/"
        body: dict[str, Any] = {"parameters": [{"name": "serviceInputPayload", "in": "body",
                                "schema": {"$ref": ref + "ServiceInput"}}]}
        doc: dict[str, Any] = {"swagger": "2.0", "info": info, "schemes": ["http"],
                               "consumes": ["application/json"],
                               "produces": ["application/json"]}
    else:
        ref = "#/components/schemas/"
        body = {"requestBody": {"content": {"application/json": {
            "schema": {"$ref": ref + "ServiceInput"}}}}}
        doc = {"openapi": "3.1.0" if version == "3.1" else "3.0.1", "info": info}
    answer = {"200": {"description": "The scores", "schema": {"$ref": ref + "ServiceOutput"}},
              "default": {"description": "An error", "schema": {"$ref": ref + "ErrorResponse"}}}
    doc["paths"] = {
        "/": {"get": {"operationId": "ServiceHealthCheck",
                      "responses": {"200": {"description": "Healthy"}}}},
        "/score": {"post": {"operationId": "RunMLService", **body, "responses": answer}},
        "/swagger.json": {"get": {"operationId": "GetSwaggerSpec",
                                  "responses": {"200": {"description": "This document"}}}},
    }
    schemas = {"ServiceInput": service_input, "ServiceOutput": service_output,
               "ErrorResponse": error}
    if version == "2":
        doc["definitions"] = schemas
    else:
        doc["paths"].update(protocol_paths())
        doc["components"] = {"schemas": schemas}
    return doc


def protocol_paths() -> dict[str, Any]:
    """The OpenAPI 3 paths of the Open Inference Protocol and of MLflow's scoring protocol."""
    def op(method: str, op_id: str, summary: str, content: tuple[str, ...] = ()
           ) -> dict[str, Any]:
        found: dict[str, Any] = {"operationId": op_id, "summary": summary,
                                 "responses": {"200": {"description": "OK"},
                                               "default": {"description": "An error"}}}
        if content:
            found["requestBody"] = {"required": True, "content": {
                c: {"schema": {"type": "object" if c.endswith("json") else "string"}}
                for c in content}}
        return {method: found}

    name = {"name": "model_name", "in": "path", "required": True, "schema": {"type": "string"}}
    version = {"name": "model_version", "in": "path", "required": True,
               "schema": {"type": "string"}}
    paths: dict[str, Any] = {
        "/v2/health/live": op("get", "OipServerLive", "Open Inference Protocol: live"),
        "/v2/health/ready": op("get", "OipServerReady", "Open Inference Protocol: ready"),
        "/v2": op("get", "OipServerMetadata", "Open Inference Protocol: server metadata"),
    }
    for base, params, suffix in (("/v2/models/{model_name}", [name], ""),
                                 ("/v2/models/{model_name}/versions/{model_version}",
                                  [name, version], "Version")):
        paths[base] = {**op("get", f"OipModelMetadata{suffix}", "The model's inputs and "
                            "outputs (name, datatype, shape)"), "parameters": params}
        paths[base + "/ready"] = {**op("get", f"OipModelReady{suffix}", "The model is ready"),
                                  "parameters": params}
        paths[base + "/infer"] = {**op("post", f"OipInfer{suffix}", "Score tensors",
                                       ("application/json", "application/octet-stream")),
                                  "parameters": params}
    paths.update({
        "/ping": op("get", "MlflowPing", "MLflow scoring protocol: health"),
        "/health": op("get", "MlflowHealth", "MLflow scoring protocol: health"),
        "/version": op("get", "MlflowVersion", "The scoring server's version"),
        "/invocations": op("post", "MlflowInvocations", "Score dataframe_split, "
                           "dataframe_records, instances or inputs (JSON) or CSV",
                           ("application/json", "text/csv")),
    })
    return paths
