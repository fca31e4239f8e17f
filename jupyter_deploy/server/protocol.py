"""The conventions shared by the in-image scoring server, the packager and the client.

A leaf module: standard library only, because it is copied into every image next to
``server.py``. The names follow Azure Machine Learning's inference server so ``score.py`` files
written for it find their files and settings where they expect them.
"""

from __future__ import annotations

#: Port the server listens on inside the container.
DEFAULT_PORT = 5001
#: Where the entry script and source folder go in the image.
APP_ROOT = "/var/azureml-app"
#: Where registered models go in the image; ``AZUREML_MODEL_DIR`` points below it.
MODELS_ROOT = f"{APP_ROOT}/azureml-models"
#: Where the server package (``jd_scoring``) is installed in the image.
SERVER_ROOT = "/var/jupyter-deploy/server"
#: Name of the server's package inside the image.
SERVER_PACKAGE = "jd_scoring"
#: Packages the in-image server needs beyond the standard library (pinned, from the wheelhouse).
#: orjson writes (and reads) JSON 5 to 12 times faster than the standard library (see
#: ``codec.py``); it adds 0.3 MB.
SERVER_REQUIREMENTS: tuple[str, ...] = ("uvicorn==0.54.0", "httptools==0.9.0", "uvloop==0.23.0",
                                        "orjson==3.13.0")
#: The server's compiled packages, whose debugging sections the image build drops (see
#: ``jupyter_deploy/build/strip_debug.py``): uvloop's alone would add 11 MB to every image.
SERVER_COMPILED: tuple[str, ...] = ("uvloop", "httptools")

#: Environment variables the server reads (the peer's names).
ENV_ENTRY_SCRIPT = "AZUREML_ENTRY_SCRIPT"
ENV_APP_ROOT = "AML_APP_ROOT"
ENV_SOURCE_DIR = "AZUREML_SOURCE_DIRECTORY"
ENV_MODEL_DIR = "AZUREML_MODEL_DIR"
ENV_PORT = "SERVER_PORT"
#: Older name of the port variable, still honoured.
ENV_PORT_ALIAS = "AZUREML_SERVER_PORT"
ENV_WORKERS = "WORKER_COUNT"
ENV_TIMEOUT_MS = "SCORING_TIMEOUT_MS"
ENV_CORS_ORIGINS = "AML_CORS_ORIGINS"
ENV_LOG_LEVEL = "AZUREML_LOG_LEVEL"
ENV_SERVER_VERSION = "HTTP_X_MS_SERVER_VERSION"
#: ``false`` drops the ``x-ms-server-version`` answer header (sent by default, as the peer does).
ENV_SERVER_VERSION_ENABLED = "SERVER_VERSION_LOG_RESPONSE_ENABLED"
#: This server's version (the package's; a unit test keeps the two equal) and its header value.
VERSION = "0.1.0"
SERVER_VERSION = f"jupyter-deploy/{VERSION}"
ENV_MAX_BODY = "JD_MAX_BODY_BYTES"
#: A file the worker writes its per-phase time sums to, for the benchmark (see ``phases.py``).
ENV_PHASE_CLOCK = "JD_PHASE_CLOCK"
#: The service's name: the model's name in the Open Inference Protocol and the swagger title
#: (set when a service's container starts; unset, the entry script's stem).
ENV_SERVICE_NAME = "SERVICE_NAME"
#: Comma-separated files holding the bearer keys requests must carry (unset: no keys needed).
ENV_AUTH_KEY_FILES = "JD_AUTH_KEY_FILES"
#: Seconds the server keeps serving after SIGTERM while its health route answers 503, so a load
#: balancer stops sending it requests before it closes any connection (unset: no drain).
ENV_DRAIN_SECONDS = "JD_DRAIN_SECONDS"
ENV_EXTRA_REQUIREMENTS = "AZUREML_EXTRA_REQUIREMENTS_TXT"
ENV_EXTRA_LIB_PATH = "AZUREML_EXTRA_PYTHON_LIB_PATH"
#: Where the deploy step mounts the wheels pre-downloaded for ``AZUREML_EXTRA_REQUIREMENTS_TXT``.
ENV_WHEEL_CACHE = "JD_EXTRA_WHEELS"
WHEEL_CACHE_MOUNT = "/var/jupyter-deploy/extra-wheels"
#: Where the deploy step mounts the folder named by ``AZUREML_EXTRA_PYTHON_LIB_PATH``.
EXTRA_LIB_MOUNT = "/var/jupyter-deploy/extra-lib"
#: Where the deploy step mounts the file named by ``AZUREML_EXTRA_REQUIREMENTS_TXT``.
EXTRA_REQUIREMENTS_MOUNT = "/var/jupyter-deploy/extra-requirements.txt"

#: Defaults of the settings above (the peer's).
DEFAULT_TIMEOUT_MS = 3_600_000
DEFAULT_MAX_BODY = 100 * 1024 * 1024
#: Exit status of a server whose entry script failed to load or ``init()`` (gunicorn's boot error).
EXIT_INIT_FAILED = 3

#: Routes.
HEALTH_PATH = "/"
SCORE_PATH = "/score"
SWAGGER_PATH = "/swagger.json"
HEALTHY_BODY = "Healthy"
DRAINING_BODY = "Draining"

#: Request-id headers, echoed or generated, and the per-request answer headers.
REQUEST_ID = "x-request-id"
LEGACY_REQUEST_ID = "x-ms-request-id"
CLIENT_REQUEST_ID = "x-ms-client-request-id"
HEADER_LIMIT = 100
RUN_TIME_HEADER = "x-ms-run-fn-exec-ms"
RUN_FAILED_HEADER = "x-ms-run-function-failed"


def error_body(message: str) -> dict[str, str]:
    """The JSON body of every error answer: ``{"message": …}``."""
    return {"message": message}
