"""MLflow model folders: the ``MLmodel`` file read as plain YAML, no MLflow needed on the host.

A folder saved by ``mlflow.<flavour>.save_model`` carries everything a service needs: the
``python_function`` flavour (how ``mlflow.pyfunc.load_model`` loads it), the signature (column or
tensor types), an input example, and the environment (``requirements.txt``, ``python_env.yaml``
and ``conda.yaml``, tried in that order, as MLflow's own serving does). The image loads it with
``mlflow-skinny`` of the same version instead of the whole of MLflow (a few MB against ~190 MB):
a ``mlflow`` requirement is rewritten to ``mlflow-skinny``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement

from jupyter_deploy.errors import ConfigurationError, EnvironmentSpecError
from jupyter_deploy.spec.formats import load as load_environment
from jupyter_deploy.spec.models.description import ModelDescription
from jupyter_deploy.spec.models.requirements import read_requirements_file, requirement_name
from jupyter_deploy.spec.models.tensors import COLUMN, TensorSpec, oip_datatype

MLMODEL = "MLmodel"
PYFUNC = "python_function"
#: MLflow column types → the protocol's datatypes.
COLUMN_TYPES: dict[str, str] = {
    "double": "FP64", "float": "FP32", "long": "INT64", "integer": "INT32", "boolean": "BOOL",
    "string": "BYTES", "binary": "BYTES", "datetime": "BYTES",
}
#: Rows of the input example kept as the swagger sample (the whole example stays in the folder).
EXAMPLE_ROWS = 3


def is_mlflow_folder(path: Path) -> bool:
    """Whether ``path`` is a folder holding an ``MLmodel`` file."""
    return (path / MLMODEL).is_file()


def describe_mlflow(folder: Path, location: str = ".") -> ModelDescription:
    """Describe the MLflow model in ``folder`` (found at ``location`` in the model directory).

    Raises:
        ConfigurationError: ``MLmodel`` is not YAML, or has no ``python_function`` flavour.
        EnvironmentSpecError: its requirements or conda file are not valid.
    """
    mlmodel = _read_mlmodel(folder)
    flavors = mlmodel.get("flavors") or {}
    pyfunc = flavors.get(PYFUNC)
    if not isinstance(pyfunc, dict):
        raise ConfigurationError(
            f"the MLflow model in {folder} has no python_function flavour (it has: "
            f"{', '.join(sorted(flavors)) or 'none'}), so mlflow.pyfunc cannot load it: save it "
            "with a flavour that adds python_function (mlflow.sklearn, mlflow.pyfunc, …), or "
            "deploy it with your own score.py (entry_script=…).")
    signature = mlmodel.get("signature") or {}
    example, kind = _input_example(folder, mlmodel)
    requirements, conda, source = _environment(folder, pyfunc, mlmodel.get("mlflow_version"))
    return ModelDescription(
        "mlflow", folder, location, _specs(signature.get("inputs"), "input"),
        _specs(signature.get("outputs"), "output"), tuple(requirements), conda, source, example,
        kind,
        {"loader_module": pyfunc.get("loader_module", ""),
         "flavors": sorted(flavors), "mlflow_version": mlmodel.get("mlflow_version") or ""})


def skinny_requirements(lines: list[str], mlflow_version: str | None) -> list[str]:
    """``lines`` with ``mlflow`` replaced by ``mlflow-skinny`` (same version and marker),
    and ``mlflow-skinny`` plus ``pandas`` (which pyfunc needs and skinny does not pull) added
    when missing."""
    out: list[str] = []
    for line in lines:
        requirement = Requirement(line)
        if requirement_name(line) == "mlflow":
            marker = f"; {requirement.marker}" if requirement.marker else ""
            line = f"mlflow-skinny{requirement.specifier}{marker}"
        out.append(line)
    names = {requirement_name(line) for line in out}
    if "mlflow-skinny" not in names:
        out.append(f"mlflow-skinny=={mlflow_version}" if mlflow_version else "mlflow-skinny")
    if "pandas" not in names:
        out.append("pandas")
    return out


def _read_mlmodel(folder: Path) -> dict[str, Any]:
    path = folder / MLMODEL
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise ConfigurationError(f"{path} cannot be read as YAML ({e}): is it an MLflow "
                                 "model folder? Save the model again with mlflow.") from e
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path} is not an MLflow model file (not a YAML mapping).")
    return data


def _specs(text: Any, prefix: str) -> tuple[TensorSpec, ...]:
    """The signature's columns or tensors (MLflow stores each list as a JSON string)."""
    if not text:
        return ()
    try:
        items = json.loads(text) if isinstance(text, str) else text
    except ValueError as e:
        raise ConfigurationError(f"the MLflow signature's {prefix}s are not JSON: {e}") from e
    specs = []
    for index, item in enumerate(items):
        name = str(item.get("name") or f"{prefix}-{index}")
        if item.get("type") == "tensor":
            tensor = item.get("tensor-spec") or {}
            specs.append(TensorSpec(name, oip_datatype(str(tensor.get("dtype", "object"))),
                                    tuple(tensor.get("shape") or (-1,))))
        elif isinstance(item.get("type"), str) and item["type"] in COLUMN_TYPES:
            specs.append(TensorSpec(name, COLUMN_TYPES[item["type"]], (-1,), COLUMN))
        else:  # arrays, objects and maps of MLflow 2.10+: sent as JSON
            specs.append(TensorSpec(name, "BYTES", (-1,), json.dumps(item.get("type"))))
    return tuple(specs)


def _input_example(folder: Path, mlmodel: dict[str, Any]) -> tuple[Any, str]:
    """The input example as a JSON-ready value and its kind (the first rows only)."""
    info = mlmodel.get("saved_input_example_info") or {}
    path = folder / str(info.get("artifact_path") or "input_example.json")
    if not path.is_file():
        return None, ""
    try:
        data = json.loads(path.read_text())
    except ValueError:
        return None, ""
    kind = str(info.get("type") or "")
    if kind == "dataframe" or (not kind and isinstance(data, dict) and "columns" in data):
        if info.get("pandas_orient") == "records" and isinstance(data, list):
            columns = list(data[0]) if data else []
            data = {"columns": columns, "data": [[r.get(c) for c in columns] for r in data]}
        rows = list(data.get("data") or [])[:EXAMPLE_ROWS]
        return {"columns": list(data.get("columns") or []), "data": rows}, "dataframe"
    if kind == "ndarray" or (isinstance(data, dict) and set(data) == {"inputs"}):
        value = data.get("inputs", data) if isinstance(data, dict) else data
        if isinstance(value, list):
            value = value[:EXAMPLE_ROWS]
        return value, "ndarray"
    return data, "json"


def _environment(folder: Path, pyfunc: dict[str, Any], mlflow_version: str | None
                 ) -> tuple[list[str], tuple[str, ...], str]:
    """The pip requirements (and conda specs) from the first environment file there is."""
    env = pyfunc.get("env")
    env_files = env if isinstance(env, dict) else {"conda": env} if isinstance(env, str) else {}
    requirements = folder / "requirements.txt"
    if requirements.is_file():
        return (skinny_requirements(read_requirements_file(requirements), mlflow_version), (),
                str(requirements))
    python_env = folder / str(env_files.get("virtualenv") or "python_env.yaml")
    if python_env.is_file():
        return (skinny_requirements(_python_env_lines(python_env), mlflow_version), (),
                str(python_env))
    conda = folder / str(env_files.get("conda") or "conda.yaml")
    if conda.is_file():
        from_conda = load_environment(conda, "conda")
        return (skinny_requirements(list(from_conda.pip), mlflow_version), from_conda.conda,
                str(conda))
    return skinny_requirements([], mlflow_version), (), f"{folder / MLMODEL} (no environment files)"


def _python_env_lines(path: Path) -> list[str]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise EnvironmentSpecError(f"cannot read {path}: {e}") from e
    lines: list[str] = []
    for line in data.get("dependencies") or []:
        text = str(line).strip()
        if text.startswith(("-r ", "--requirement ")):
            lines += read_requirements_file(path.parent / text.split(None, 1)[1])
        elif text and not text.startswith("-"):
            lines.append(text)
    return lines
