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
#: Files of ``jupyter_deploy/scoring/`` that make up the in-image server package.
SERVER_FILES: tuple[str, ...] = ("protocol.py", "server.py")
#: Packages the in-image server needs beyond the standard library (pinned, from the wheelhouse).
SERVER_REQUIREMENTS: tuple[str, ...] = ()

#: Environment variables the server reads (the peer's names).
ENV_ENTRY_SCRIPT = "AZUREML_ENTRY_SCRIPT"
ENV_APP_ROOT = "AML_APP_ROOT"
ENV_SOURCE_DIR = "AZUREML_SOURCE_DIRECTORY"
ENV_MODEL_DIR = "AZUREML_MODEL_DIR"
ENV_PORT = "AZUREML_SERVER_PORT"

#: Routes.
HEALTH_PATH = "/"
SCORE_PATH = "/score"
SWAGGER_PATH = "/swagger.json"
HEALTHY_BODY = "Healthy"


def error_body(message: str) -> dict[str, str]:
    """The JSON body of every error answer: ``{"message": …}``."""
    return {"message": message}
