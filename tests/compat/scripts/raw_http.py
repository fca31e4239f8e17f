"""@rawhttp: run() gets the request and answers with an AMLResponse of its own."""
import json

from azureml.contrib.services.aml_request import AMLRequest, rawhttp
from azureml.contrib.services.aml_response import AMLResponse


def init():
    pass


@rawhttp
def run(request: AMLRequest):
    if request.method == "GET":
        return {"args": dict(request.args), "path": request.path}
    if request.method != "POST":
        return AMLResponse("bad method", 405)
    body = request.get_data(False)
    if not body:
        return AMLResponse(json.dumps({"message": "empty"}), 400,
                           {"Content-Type": "application/json"})
    return AMLResponse(body[::-1], 201, {"Content-Type": "application/octet-stream",
                                         "X-Custom": "a, b"})
