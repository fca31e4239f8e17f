"""Write the sample notebooks (except the quickstart) from the cells below.

Keeping the cells here as code makes them reviewable; run ``python3 notebooks/make_notebooks.py``
after editing a cell, and commit both. Every notebook writes its files under ``workdir/``
(ignored by git) and removes what it started — and only that: a container it did not start is
never stopped or removed, even when it has the name the notebook wanted. Scores are printed as
``scores: [...]`` lists (JSON), so a reader and the tests can compare them as numbers.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SAMPLE = ('{"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10],\n'
          '          [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]]}')


def workdir(name: str) -> str:
    return f'''import json
import os
from pathlib import Path

import numpy as np

# Everything this notebook writes goes into workdir/{name} (ignored by git).
work = Path("workdir/{name}").resolve()
work.mkdir(parents=True, exist_ok=True)
os.chdir(work)

# A linear model with ten features, stored as plain JSON weights.
rng = np.random.default_rng(0)
X = rng.random((200, 10))
y = X @ np.arange(1, 11)
weights, *_ = np.linalg.lstsq(X, y, rcond=None)
Path("model.json").write_text(json.dumps({{"weights": weights.tolist()}}))
print("weights:", np.round(weights, 3))'''


SCORE_PY = '''%%writefile score.py
import json
import os

import numpy as np


def init():
    # Called once when the container starts: load the model from AZUREML_MODEL_DIR.
    global weights
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.json")) as f:
        weights = np.array(json.load(f)["weights"])


def run(raw_data):
    # Called for every request with the raw JSON body.
    data = np.array(json.loads(raw_data)["data"])
    return (data @ weights).tolist()'''

MAGICS: list[tuple[str, str]] = [
    ("markdown", """# The workflow from `%%` cells: the jupyter_deploy magics

Define an environment, package and launch a model, score it, watch it, reload it and stop it —
each step one magic. Every magic is documented by `%magic_name?`, and its settings are
`%config DeployConfig` / `%config DeployMagics`. Errors end in a one-paragraph message that says
what to do next."""),
    ("code", workdir("magics")),
    ("code", SCORE_PY),
    ("code", "%load_ext jupyter_deploy"),
    ("markdown", """## An environment from a cell

The cell is YAML in jupyter_deploy's own form; a conda `environment.yml` or the Azure ML
inference-configuration JSON work as they are. The environment is bound to its name."""),
    ("code", """%%deploy_env numpy_env
pip:
  - numpy==2.4.6
env_vars:
  MODEL_KIND: linear"""),
    ("markdown", """## Package and launch

The build log and the container's start-up log stream into the cell; the service is bound to
a variable named after it."""),
    ("code", "%deploy magics-demo --model model.json --entry score.py --env numpy_env"),
    ("code", 'print(magics_demo.state, magics_demo.scoring_uri)'),
    ("markdown", """## Share the image through the workspace registry, and pull it back

`%deploy_pull` shows one progress bar for all layers; credentials (for a private registry) come
from `-u USER -p $password_variable`, the environment or Docker's config, and are never
printed."""),
    ("code", """from jupyter_deploy.config import get_config
from jupyter_deploy.engine.base_images import publish
from jupyter_deploy.engine.client import docker_client

registry = get_config().registry_address  # the workspace registry (127.0.0.1:5000 by default)
shared = publish(magics_demo.image, registry)
docker_client().images.remove(shared)  # now only the registry has it under this name
print(shared)"""),
    ("code", "%deploy_pull $shared"),
    ("markdown", """## Score

The cell body is JSON, or `$df` names a DataFrame. `VAR <<` keeps the answer."""),
    ("code", f"%%deploy_score magics-demo scores <<\n{SAMPLE}"),
    ("code", "scores"),
    ("code", """import pandas as pd

df = pd.DataFrame(rng.random((3, 10)))"""),
    ("code", "%%deploy_score magics-demo\n$df"),
    ("markdown", "## Watch, edit and reload without rebuilding"),
    ("code", "%deploy_ls"),
    ("code", "%deploy_logs magics-demo -n 5"),
    ("code", SCORE_PY.replace("return (data @ weights).tolist()",
                              "return np.round(data @ weights, 1).tolist()")),
    ("code", "%deploy_reload magics-demo"),
    ("code", f"%%deploy_score magics-demo rounded <<\n{SAMPLE}"),
    ("markdown", """## Images, and a Dockerfile folder instead of an image

`%deploy_images` shows the workspace registry and the local images; `--output` writes the
build context for a plain `docker build`."""),
    ("code", "%deploy_images"),
    ("code", "%deploy magics-files --model model.json --env numpy_env --output dockerfile-folder"),
    ("code", 'sorted(p.name for p in Path("dockerfile-folder").iterdir())'),
    ("markdown", "## Stop and remove"),
    ("code", "%deploy_stop magics-demo"),
    ("code", 'print(magics_demo.state)'),
    ("code", """docker_client().images.remove(shared)
%deploy_rm magics-demo --image"""),
    ("code", "%deploy_ls"),
]

PANELS: list[tuple[str, str]] = [
    ("markdown", """# The widget panels

The same workflow with buttons: an environment editor, a deploy panel, a scoring panel and a
services overview. Each comes from `%deploy_panel` (or `jupyter_deploy.widgets`), and works on
its own thread, so the notebook stays usable while an image builds. The cells below also drive
the panels from code (`panel.launch()`, `panel.wait()`), which is what a button does."""),
    ("code", workdir("panels")),
    ("code", SCORE_PY),
    ("code", "%load_ext jupyter_deploy"),
    ("code", """%%deploy_env panels_env
pip:
  - numpy==2.4.6"""),
    ("markdown", "## Environment editor"),
    ("code", """editor = %deploy_panel env panels_env
editor"""),
    ("markdown", "## Deploy panel"),
    ("code", """deploy_panel = %deploy_panel deploy panels-demo
deploy_panel.models.value = "model.json"
deploy_panel.env.value = "panels_env"
deploy_panel"""),
    ("code", "deploy_panel.launch()   # what the Launch button does: returns at once"),
    ("code", """# This cell runs while the panel builds and starts the service on its own thread.
print("still working:", not deploy_panel.last_job.done())"""),
    ("code", """service = deploy_panel.wait()   # a script can wait for the panel's work
print(service.state, service.scoring_uri)"""),
    ("markdown", "## Scoring panel"),
    ("code", """score_panel = %deploy_panel score panels-demo
score_panel"""),
    ("code", """score_panel.send()   # what the Send button does
print("scores:", score_panel.wait().result.value)"""),
    ("markdown", "## Services overview"),
    ("code", """services = %deploy_panel services
services"""),
    ("markdown", "Remove the service with the overview's *Remove* button, or:"),
    ("code", "%deploy_rm panels-demo --image"),
]

CUSTOM_BASE: list[tuple[str, str]] = [
    ("markdown", """# Deploy a model on a custom Docker base image

The Azure ML guide *Deploy a model using a custom Docker base image*, run locally: build a base
image from a Dockerfile once, push it to the workspace registry, and deploy on it — then the same
from a password-protected private registry. The SDK code is the guide's, with only the import
prefix changed (`jupyter_deploy.azureml.core` for `azureml.core`). There is no public registry
here, so the base starts `FROM` the local Python base image instead of `ubuntu`."""),
    ("code", workdir("custom-base")),
    ("code", SCORE_PY.replace(
        "        weights = np.array(json.load(f)[\"weights\"])",
        "        weights = np.array(json.load(f)[\"weights\"])\n"
        "    # Software pre-installed in the custom base image:\n"
        "    print(open(\"/opt/custom/README\").read().strip())")),
    ("markdown", """## The workspace and its registry

The workspace's registry (the guide's "get the container registry name") is a local registry,
started when first needed; it needs no credentials."""),
    ("code", """from jupyter_deploy.azureml.core import Workspace

ws = Workspace.from_config()
registry = ws.ensure_registry()
print("workspace registry:", ws.get_details()["containerRegistry"])"""),
    ("markdown", "## Build the base image from a Dockerfile and push it to the registry"),
    ("code", """%%writefile Dockerfile
FROM jupyter-deploy/python:3.11
# Pre-install slow software once here; every deployment on this base reuses it.
RUN mkdir -p /opt/custom \\
 && echo "custom base image: tools pre-installed once" > /opt/custom/README
ENV CUSTOM_BASE=1"""),
    ("code", """from jupyter_deploy.engine.base_images import build_base

base_image = f"{registry}/base/custom-python:1"
base = build_base("Dockerfile", base_image, push=True)"""),
    ("markdown", "## The environment, the inference configuration and a local deployment"),
    ("code", """from jupyter_deploy.azureml.core import Environment
from jupyter_deploy.azureml.core.conda_dependencies import CondaDependencies

myenv = Environment(name="myenv")
myenv.docker.enabled = True
myenv.docker.base_image = base_image
myenv.inferencing_stack_version = "latest"

conda_dep = CondaDependencies()
conda_dep.add_pip_package("azureml-defaults")  # provided by the scoring server
conda_dep.add_pip_package("numpy==2.4.6")
myenv.python.conda_dependencies = conda_dep"""),
    ("code", """from jupyter_deploy.azureml.core.model import InferenceConfig, Model
from jupyter_deploy.azureml.core.webservice import LocalWebservice
from jupyter_deploy.engine.containers import free_port

model = Model.register(ws, model_path="model.json", model_name="custom-base-model")
inference_config = InferenceConfig(entry_script="score.py", environment=myenv)
deployment_config = LocalWebservice.deploy_configuration(port=free_port())

service = Model.deploy(ws, "custom-base-service", [model], inference_config, deployment_config)
service.wait_for_deployment(show_output=True)
print(service.state)"""),
    ("code", f"""sample = json.dumps({SAMPLE})
print("scores:", service.run(sample))"""),
    ("code", 'print(service.get_logs(num_lines=20))'),
    ("markdown", """## The same base image from a private registry

A second registry, with a username and a password (Basic auth), stands in for a private
registry. The password lives in a variable and in memory only: it never shows in reprs, logs or
container labels."""),
    ("code", """import secrets

from jupyter_deploy.engine import images
from jupyter_deploy.engine.client import docker_client
from jupyter_deploy.registry.local import LocalRegistry, write_htpasswd
from jupyter_deploy.spec.environment import RegistryCredentials

password = secrets.token_urlsafe(16)
htpasswd = write_htpasswd(work / "htpasswd", {"reader": password})
private = LocalRegistry(f"127.0.0.1:{free_port()}", root=work / "private-registry",
                        htpasswd=htpasswd)
private.start()

private_image = f"{private.address}/base/custom-python:1"
docker_client().images.get(base_image).tag(f"{private.address}/base/custom-python", "1")
login = RegistryCredentials(private.address, "reader", password)  # goes to this registry only
print(images.push(private_image, auth_config=login.auth_config()))"""),
    ("code", """from jupyter_deploy.errors import RegistryAuthError

# The base is removed locally, so deploying must pull it with the credentials.
docker_client().images.remove(private_image)
try:
    wrong = RegistryCredentials(private.address, "reader", "wrong")
    images.pull(private_image, auth_config=wrong.auth_config())
except RegistryAuthError as e:
    print("wrong password:", e)"""),
    ("code", """myenv.docker.base_image = private_image
myenv.docker.base_image_registry.address = private.address
myenv.docker.base_image_registry.username = "reader"
myenv.docker.base_image_registry.password = password
print(myenv.docker.base_image_registry)

private_service = Model.deploy(ws, "custom-base-private", [model],
                               InferenceConfig(entry_script="score.py", environment=myenv),
                               LocalWebservice.deploy_configuration())
private_service.wait_for_deployment(show_output=False)
print(private_service.state, "scores:", private_service.run(sample))"""),
    ("markdown", "## Clean up"),
    ("code", """service.delete()
private_service.delete()
private.stop()
print(service.state, private_service.state)"""),
]

PACKAGING: list[tuple[str, str]] = [
    ("markdown", """# Package a model as a Docker image

The Azure ML guide *Package a registered model with Docker*, run locally: package a model into
an image in the workspace registry, pull it, run it by name with `docker run`, score it with the
guide's sample client and kill it; then the other path — generate a Dockerfile folder, save it
and build it with plain `docker build`. The SDK code is the guide's with only the import prefix
changed."""),
    ("code", workdir("packaging")),
    ("code", SCORE_PY),
    ("code", """from jupyter_deploy.azureml.core import Environment, Workspace
from jupyter_deploy.azureml.core.conda_dependencies import CondaDependencies
from jupyter_deploy.azureml.core.model import InferenceConfig, Model

ws = Workspace.from_config()
model = Model.register(ws, model_path="model.json", model_name="packaged-model")

myenv = Environment(name="myenv")
conda_dep = CondaDependencies()
conda_dep.add_pip_package("numpy==2.4.6")
myenv.python.conda_dependencies = conda_dep
inference_config = InferenceConfig(entry_script="score.py", environment=myenv)"""),
    ("markdown", "## Package into an image in the workspace registry, and pull it"),
    ("code", """package = Model.package(ws, [model], inference_config)
package.wait_for_creation(show_output=True)
print(package.location)"""),
    ("code", "package.pull()"),
    ("code", "!docker images {package.location}"),
    ("markdown", """## Run the image by name and score it

The guide runs `docker run -p 6789:5001 --name mycontainer <image>`; here the port is published
on 127.0.0.1 only, and a free one is picked."""),
    ("code", """import subprocess
import time

import requests

from jupyter_deploy.engine.containers import free_port


def docker_run(image, name, port):
    # `docker run -d -p 127.0.0.1:PORT:5001 --name NAME IMAGE`. When it fails (the name taken by
    # another container, say) the notebook stops here, before a later cell could kill or remove
    # a container it did not start.
    done = subprocess.run(["docker", "run", "-d", "-p", f"127.0.0.1:{port}:5001", "--name", name,
                           image], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"docker run failed: {done.stderr.strip()}")
    print(done.stdout.strip())


def wait_until_answers(url, timeout=120):
    # Poll the server's health route; raise (never pretend) if it does not come up.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


port = free_port()
docker_run(package.location, "packaged-container", port)
wait_until_answers(f"http://127.0.0.1:{port}/")"""),
    ("markdown", "The guide's sample client:"),
    ("code", f"""headers = {{"Content-Type": "application/json"}}
test_sample = json.dumps({SAMPLE})
response = requests.post(f"http://127.0.0.1:{{port}}/score", data=test_sample, headers=headers)
print(response.status_code)
print(response.elapsed)
print("scores:", response.json())"""),
    ("code", """!docker kill packaged-container
!docker rm packaged-container"""),
    ("markdown", """## Generate a Dockerfile instead, and build it with `docker build`

`generate_dockerfile=True` makes a build context; `save()` writes it (the Dockerfile, the model,
the entry script, the scoring server and the wheels it installs offline);
`get_container_registry()` says where the Dockerfile's base image is and how to log in."""),
    ("code", """package = Model.package(ws, [model], inference_config, generate_dockerfile=True)
package.wait_for_creation(show_output=True)
package.save("./imagefiles")
acr = package.get_container_registry()
print(acr.address, acr.username)
print(sorted(p.name for p in Path("imagefiles").iterdir()))"""),
    ("code", "!docker build --quiet --tag packaged-myimage imagefiles"),
    ("code", """port = free_port()
docker_run("packaged-myimage", "packaged-myimage", port)
wait_until_answers(f"http://127.0.0.1:{port}/")
response = requests.post(f"http://127.0.0.1:{port}/score", data=test_sample, headers=headers)
print("scores:", response.json())"""),
    ("code", """!docker kill packaged-myimage
!docker rm packaged-myimage"""),
]

EXTENSIBILITY_SCORE = """%%writefile source/score.py
import json
import os

import numpy as np
import tabulate  # not in the prebuilt image: added when the container starts


def init():
    global weights
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.json")) as f:
        weights = np.array(json.load(f)["weights"])
    print("tabulate", tabulate.__version__, "from", os.path.dirname(tabulate.__file__))


def run(raw_data):
    scores = (np.array(json.loads(raw_data)["data"]) @ weights).tolist()
    return {"scores": scores, "table": tabulate.tabulate([[s] for s in scores], ["score"])}"""

EXTENSIBILITY: list[tuple[str, str]] = [
    ("markdown", """# Python package extensibility for prebuilt images

The Azure ML guide *Python package extensibility for prebuilt Docker images*, run locally: add
a package (`tabulate`) to a prebuilt inference image without rebuilding it, in the guide's two
ways, side by side with their start-up times:

* **Dynamic installation** — `AZUREML_EXTRA_REQUIREMENTS_TXT` names a `requirements.txt` beside
  `score.py`; it is installed each time the container starts (slower start; for prototyping).
  The container has no network, so the wheels are fetched on the host and mounted.
* **Pre-installed packages** — `AZUREML_EXTRA_PYTHON_LIB_PATH` names a virtualenv's
  `site-packages`, mounted into the container first on the path (fast start; works offline).

Both paths are relative to the source directory; keep the entry script, the requirements file
and the virtualenv out of the model's folder."""),
    ("code", workdir("extensibility") + '\nPath("source").mkdir(exist_ok=True)'),
    ("code", EXTENSIBILITY_SCORE),
    ("code", """%%writefile source/requirements.txt
# Pin every version: an unpinned package can break score.py later.
tabulate==0.9.0"""),
    ("markdown", """## A prebuilt inference image

Built once with numpy and the scoring server (the guide starts from Microsoft's prebuilt
images; there is no public registry here)."""),
    ("code", """import jupyter_deploy as jd
from jupyter_deploy.build.context import PackageSpec

prebuilt_env = jd.Environment(name="prebuilt", pip=["numpy==2.4.6"])
prebuilt = jd.build_package(PackageSpec("prebuilt-inference", Path("source/score.py"),
                                        prebuilt_env)).tag
print(prebuilt)"""),
    ("code", """from jupyter_deploy.azureml.core import Environment, Workspace
from jupyter_deploy.azureml.core.model import InferenceConfig, Model
from jupyter_deploy.azureml.core.webservice import LocalWebservice

ws = Workspace.from_config()
model = Model.register(ws, model_path="model.json", model_name="extensibility-model")
sample = json.dumps({"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]]})


def prebuilt_environment(name, variables):
    # The guide's settings: the prebuilt image, its own Python, and one extensibility variable.
    env = Environment(name=name)
    env.docker.base_image = prebuilt
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = "/opt/jupyter-deploy/venv/bin/python"
    env.environment_variables = variables
    return env"""),
    ("markdown", "## 1. Dynamic installation: a requirements file"),
    ("code", """env_requirements = prebuilt_environment(
    "extra-requirements", {"AZUREML_EXTRA_REQUIREMENTS_TXT": "requirements.txt"})
config = InferenceConfig(source_directory="source", entry_script="score.py",
                         environment=env_requirements)
service_requirements = Model.deploy(ws, "extensibility-requirements", [model], config,
                                    LocalWebservice.deploy_configuration())
service_requirements.wait_for_deployment()
print(service_requirements.state)
answer = service_requirements.run(sample)
print("scores:", answer["scores"])
print(answer["table"])"""),
    ("markdown", """## 2. Pre-installed packages: a mounted virtualenv

The virtualenv is made with the same Python version as the image's (3.11), and holds every
package `score.py` needs beyond the image (here only `tabulate`)."""),
    ("code", """import sys

site_packages = "source/myenv/lib/python3.11/site-packages"
pip_install = f"{sys.executable} -m pip install -q --root-user-action=ignore --upgrade"
!{sys.executable} -m venv --without-pip source/myenv
!{pip_install} --target {site_packages} tabulate==0.9.0"""),
    ("code", """env_mounted = prebuilt_environment(
    "extra-lib-path", {"AZUREML_EXTRA_PYTHON_LIB_PATH": "myenv/lib/python3.11/site-packages"})
config = InferenceConfig(source_directory="source", entry_script="score.py",
                         environment=env_mounted)
service_mounted = Model.deploy(ws, "extensibility-mounted", [model], config,
                               LocalWebservice.deploy_configuration())
service_mounted.wait_for_deployment()
print(service_mounted.state)
answer = service_mounted.run(sample)
print("scores:", answer["scores"])
print(answer["table"])"""),
    ("markdown", """## Start-up times, side by side

*First start*: from the new container's start to `init()` done, read from the engine's clock
(the container's start time and its log's timestamps). *Restart*: the same container stopped
and started again (median of three); the requirements installed at the first start are kept
in the container, so only a new container pays for the installation again."""),
    ("code", """import statistics
import time
from datetime import datetime

import pandas as pd


def engine_time(stamp):
    return datetime.fromisoformat(stamp.rstrip("Z")[:26])


def first_start_seconds(service):
    container = service.deployment.container
    container.reload()
    started = engine_time(container.attrs["State"]["StartedAt"])
    lines = container.logs(timestamps=True).decode().splitlines()
    ready = next(line.split(" ", 1)[0] for line in lines if "init() completed" in line)
    return (engine_time(ready) - started).total_seconds()


def restart_seconds(service, rounds=3):
    times = []
    for _ in range(rounds):
        service.deployment.stop()
        started = time.perf_counter()
        service.deployment.start(wait=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


services = {"requirements file (installed at start)": service_requirements,
            "mounted virtualenv": service_mounted}
startup = pd.DataFrame({
    "first start (s)": [first_start_seconds(s) for s in services.values()],
    "restart (s)": [restart_seconds(s) for s in services.values()],
}, index=list(services))
ratio = startup["first start (s)"].iloc[0] / startup["first start (s)"].iloc[1]
print(f"first start: the requirements file is {ratio:.1f}x slower than the mounted packages")
startup.round(2)"""),
    ("code", 'print(service_requirements.get_logs(num_lines=8))'),
    ("markdown", """| | Dynamic installation | Pre-installed packages |
|---|---|---|
| Installation | at every start, from `requirements.txt` | once, into a virtualenv |
| Set-up | a pinned requirements file | a virtualenv of the image's Python version |
| Debugging | the start-up log shows the installation | the folder is inspectable on the host |
| Scale-out | each container installs again | identical folder everywhere |"""),
    ("code", """service_requirements.delete()
service_mounted.delete()
print(service_requirements.state, service_mounted.state)"""),
]


NO_CODE: list[tuple[str, str]] = [
    ("markdown", """# Models without a score.py

Many models already say how they are loaded and what they take: an MLflow model folder (its
`MLmodel` file, signature, input example and requirements), an ONNX file (the inputs and
outputs in its graph), or an estimator that is still a variable of the kernel. jupyter_deploy
deploys each of them as it is: it writes a readable `score.py` for it (which you may edit),
takes the environment from the model, and serves it like any other package."""),
    ("code", """import os
from pathlib import Path

import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

# Everything this notebook writes goes into workdir/no-code-models (ignored by git).
work = Path("workdir/no-code-models").resolve()
work.mkdir(parents=True, exist_ok=True)
os.chdir(work)

X, y = load_iris(return_X_y=True, as_frame=True)
clf = LogisticRegression(max_iter=500).fit(X, y)
rows = X.iloc[[0, 55, 110, 149]]
print("in-process:", clf.predict(rows).tolist())"""),
    ("markdown", """## An MLflow model folder

Saved by `mlflow.sklearn.save_model` with a signature and an input example. The service loads
it with `mlflow.pyfunc` from `mlflow-skinny` (a `mlflow==` requirement becomes
`mlflow-skinny==`, the rest of `requirements.txt` is installed from wheels downloaded here)."""),
    ("code", """import shutil

import mlflow.sklearn
from mlflow.models import infer_signature

shutil.rmtree("iris_mlflow", ignore_errors=True)
mlflow.sklearn.save_model(clf, "iris_mlflow", input_example=X[:3],
                          signature=infer_signature(X, clf.predict(X)))
print(Path("iris_mlflow/requirements.txt").read_text())"""),
    ("code", """import jupyter_deploy as jd

mlflow_service = jd.deploy("nocode-mlflow", models=["iris_mlflow"], log=print)
print("mlflow scores:", mlflow_service.score(rows).value)"""),
    ("markdown", "The swagger document shows the model's input example as its sample request:"),
    ("code", """import requests

swagger = requests.get(mlflow_service.swagger_uri, timeout=10).json()
print("sample:", swagger["definitions"]["ServiceInput"]["example"]["data"][0])"""),
    ("markdown", """## An ONNX file

The same classifier converted by `skl2onnx`. The graph gives the input's name, type and shape;
`{"data": rows}` is cast to that type, and every output comes back by name (the converter's
ZipMap probabilities as a list of dicts). `%deploy` needs no `--entry`."""),
    ("code", """import skl2onnx

Path("iris.onnx").write_bytes(
    skl2onnx.to_onnx(clf, rows.to_numpy(np.float32)).SerializeToString())"""),
    ("code", "%load_ext jupyter_deploy"),
    ("code", "%deploy nocode-onnx --model iris.onnx --quiet"),
    ("code", """answer = nocode_onnx.score(rows).value
print("onnx scores:", answer["output_label"])
print("probabilities:", answer["output_probability"][0])"""),
    ("markdown", """## A fitted estimator of this kernel

`--model clf` names the variable: the estimator is saved with joblib beside a generated
`score.py`, with the versions of scikit-learn and its dependencies that this kernel has pinned.
The parity check compares the service with `clf` itself."""),
    ("code", "%deploy nocode-estimator --model clf --quiet"),
    ("code", """print("estimator scores:", nocode_estimator.score(rows).value)
print(nocode_estimator.parity_check(rows))"""),
    ("markdown", """The generated script and the saved estimator are in
`jupyter-deploy/nocode-estimator/`: read the script, edit it, and `nocode_estimator.reload()`
puts your edit into the service (an edited script is never overwritten). Its head says what it
does and what it pins:"""),
    ("code", """script = Path("jupyter-deploy/nocode-estimator/score.py")
print(script.read_text().split("\\nimport os")[0])"""),
    ("markdown", "## Clean up"),
    ("code", """for service in (mlflow_service, nocode_onnx, nocode_estimator):
    service.remove(image=True)
    print(service.name, "removed")"""),
]


NOTEBOOKS = {
    "magics.ipynb": MAGICS,
    "widget-panels.ipynb": PANELS,
    "custom-base-image.ipynb": CUSTOM_BASE,
    "packaging.ipynb": PACKAGING,
    "extensibility.ipynb": EXTENSIBILITY,
    "no-code-models.ipynb": NO_CODE,
}


def build(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """One notebook object from ``(kind, source)`` pairs."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    for index, (kind, source) in enumerate(cells):
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(make(source, id=f"cell-{index}"))  # stable ids: no noise in diffs
    return nb


if __name__ == "__main__":
    for name, cells in NOTEBOOKS.items():
        nbformat.write(build(cells), HERE / name)
        print(f"wrote {HERE / name}")
