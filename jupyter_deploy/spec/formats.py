"""Environments to and from text: our YAML/JSON, conda environment files, the seeds' JSON.

Users arrive with files written for other tools — a conda ``environment.yml``, the Azure ML
inference-configuration JSON (camelCase, ``entryScript`` and an inline ``environment``), an SDK
environment JSON — and expect them to work as they are. This module reads all of them into one
:class:`~jupyter_deploy.spec.environment.Environment` and writes it back in any of them. Every error
names the key path and, when the text is YAML or JSON, the line, so a user can go straight to it.
Passwords are read (kept in memory) but never written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from jupyter_deploy.errors import EnvironmentSpecError
from jupyter_deploy.spec.environment import Environment, RegistryCredentials
from jupyter_deploy.spec.schema import (
    CONDA,
    INFERENCE,
    NATIVE,
    SDK_ENV,
    SDK_PASSTHROUGH,
    check,
    is_str_list,
    located,
    prefixed,
)

FORMATS: tuple[str, ...] = ("yaml", "json", "conda", "inference-config", "azureml")

#: Extras written back when an SDK environment JSON is produced, with the SDK's own defaults.
_SDK_EXTRA_DEFAULTS: dict[str, Any] = {
    "docker.enabled": False,
    "docker.sharedVolumes": True,
    "python.baseCondaEnvironment": None,
    "python.condaDependenciesFile": None,
    "python.condaDependencies.name": "project_environment",
}


@dataclass(frozen=True)
class InferenceSpec:
    """What an inference-configuration JSON holds: the entry script, its folder, the environment."""

    entry_script: str
    environment: Environment
    source_directory: str | None = None


def loads(text: str, format: str | None = None, name: str | None = None) -> Environment:
    """Read an environment from ``text``, detecting the format unless ``format`` names it.

    Args:
        text: YAML or JSON text.
        format: One of :data:`FORMATS`; ``"yaml"``/``"json"`` mean our native form.
        name: Overrides the environment's name (conda files often have none).

    Raises:
        EnvironmentSpecError: bad syntax, an unknown key or a wrong type, with its path and line.
    """
    data = _parse(text)
    fmt = _check_format(format) if format else detect(data)
    with located(text):
        env = _from_data(data, fmt)
    return env.with_changes(name=name) if name else env


def dumps(env: Environment, format: str = "yaml", entry_script: str | None = None) -> str:
    """Write ``env`` as text in ``format`` (never with a password).

    Args:
        env: The environment.
        format: One of :data:`FORMATS`.
        entry_script: For ``"inference-config"``: the ``entryScript`` (default ``score.py``).

    Raises:
        EnvironmentSpecError: an unknown format.
    """
    fmt = _check_format(format)
    if fmt == "yaml":
        return _yaml(_native_dict(env))
    if fmt == "json":
        return json.dumps(_native_dict(env), indent=2) + "\n"
    if fmt == "conda":
        return _yaml(_conda_dict(env))
    if fmt == "azureml":
        return json.dumps(_sdk_dict(env), indent=4) + "\n"
    document = {"entryScript": entry_script or "score.py", "environment": _sdk_dict(env)}
    return json.dumps(document, indent=4) + "\n"


def load(path: str | Path, format: str | None = None, name: str | None = None) -> Environment:
    """Read an environment file (any format :func:`loads` reads).

    Raises:
        EnvironmentSpecError: the file is missing or invalid.
    """
    return loads(_read(path), format, name)


def save(env: Environment, path: str | Path, format: str | None = None) -> Path:
    """Write ``env`` to ``path``; the format follows the suffix (``.json`` → JSON) unless given."""
    target = Path(path)
    fmt = format or ("json" if target.suffix == ".json" else "yaml")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(dumps(env, fmt))
    return target


def loads_inference_config(text: str) -> InferenceSpec:
    """Read the seeds' inference-configuration JSON (``entryScript`` + inline ``environment``).

    Raises:
        EnvironmentSpecError: bad syntax, an unknown key or a wrong type, with its path and line.
    """
    data = _parse(text)
    with located(text):
        check(data, INFERENCE, "")
        if "entryScript" not in data:
            raise EnvironmentSpecError("is required: name the scoring script", "entryScript")
        env = _from_sdk(data.get("environment") or {}, "environment.")
    return InferenceSpec(data["entryScript"], env, data.get("sourceDirectory"))


def load_inference_config(path: str | Path) -> InferenceSpec:
    """:func:`loads_inference_config` on a file."""
    return loads_inference_config(_read(path))


def detect(data: Mapping[str, Any]) -> str:
    """Which format a parsed document is in."""
    if "entryScript" in data or "environment" in data:
        return "inference-config"
    if "python" in data or "docker" in data or "environmentVariables" in data:
        return "azureml"
    if "dependencies" in data and not set(data) & {"pip", "base_image", "env_vars"}:
        return "conda"
    return "yaml"


# -- reading -----------------------------------------------------------------------------------


def _read(path: str | Path) -> str:
    try:
        return Path(path).read_text()
    except OSError as e:
        raise EnvironmentSpecError(f"cannot read {path}: {e.strerror}") from e


def _parse(text: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise EnvironmentSpecError(f"not valid YAML/JSON: {e}", line=line) from e
    if not isinstance(data, dict):
        raise EnvironmentSpecError("the document must be a mapping (key: value pairs)")
    return data


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise EnvironmentSpecError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    return fmt


def _from_data(data: dict[str, Any], fmt: str) -> Environment:
    if fmt == "inference-config":
        check(data, INFERENCE, "")
        return _from_sdk(data.get("environment") or {}, "environment.")
    if fmt == "azureml":
        return _from_sdk(data, "")
    if fmt == "conda":
        return _from_conda(data, "")
    return _from_native(data)


def _from_native(data: dict[str, Any]) -> Environment:
    check(data, NATIVE, "")
    fields = {k: v for k, v in data.items() if v is not None and k != "registry"}
    registry = data.get("registry")
    if registry:
        fields["registry"] = RegistryCredentials(**registry)
    return Environment(**fields)


def _from_conda(data: dict[str, Any], prefix: str) -> Environment:
    check(data, CONDA, prefix)
    conda, pip = _split_dependencies(data.get("dependencies") or [], f"{prefix}dependencies")
    name = data.get("name") or "default"
    return Environment(name=name if _is_name(name) else "default", conda=tuple(conda),
                       pip=tuple(pip),
                       channels=data.get("channels") or (), env_vars=data.get("variables") or {},
                       extras={"python.condaDependencies.name": data.get("name")})


def _split_dependencies(items: list[Any], key: str) -> tuple[list[str], list[str]]:
    conda: list[str] = []
    pip: list[str] = []
    for index, item in enumerate(items):
        if isinstance(item, str):
            conda.append(item)
        elif isinstance(item, dict) and set(item) == {"pip"} and is_str_list(item["pip"]):
            pip.extend(item["pip"])
        else:
            raise EnvironmentSpecError(
                "must be a conda package spec or {pip: [requirements]}", f"{key}[{index}]"
            )
    return conda, pip


def _from_sdk(data: dict[str, Any], prefix: str) -> Environment:
    check(data, SDK_ENV, prefix)
    docker, python = data.get("docker") or {}, data.get("python") or {}
    conda_deps = python.get("condaDependencies") or {}
    conda, pip = _split_dependencies(conda_deps.get("dependencies") or [],
                                     f"{prefix}python.condaDependencies.dependencies")
    extras = {f"docker.{k}": docker[k] for k in ("enabled", "sharedVolumes", "gpuSupport",
                                                 "platform", "buildContext") if k in docker}
    extras |= {f"python.{k}": python[k] for k in ("baseCondaEnvironment",
                                                   "condaDependenciesFile") if k in python}
    if "name" in conda_deps:
        extras["python.condaDependencies.name"] = conda_deps["name"]
    extras |= {k: data[k] for k in SDK_PASSTHROUGH if k in data}
    extras = {k: v for k, v in extras.items() if k not in _SDK_EXTRA_DEFAULTS
              or v != _SDK_EXTRA_DEFAULTS[k]}
    registry = docker.get("baseImageRegistry") or {}
    fields: dict[str, Any] = {
        "name": data.get("name") or "default", "base_image": docker.get("baseImage") or "",
        "base_dockerfile": docker.get("baseDockerfile"), "shm_size": docker.get("shmSize"),
        "docker_arguments": docker.get("arguments") or (), "pip": tuple(pip),
        "conda": tuple(conda),
        "channels": conda_deps.get("channels") or (),
        "env_vars": data.get("environmentVariables") or {},
        "user_managed": bool(python.get("userManagedDependencies")),
        "interpreter_path": python.get("interpreterPath") or "python3",
        "inferencing_stack_version": data.get("inferencingStackVersion"),
        "version": data.get("version"), "extras": extras,
        "registry": RegistryCredentials(**registry) if any(registry.values()) else None,
    }
    with prefixed(prefix):
        return Environment(**fields)



def _is_name(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and value[0].isalnum()


# -- writing -----------------------------------------------------------------------------------


def _yaml(data: dict[str, Any]) -> str:
    return str(yaml.safe_dump(data, sort_keys=False, default_flow_style=False))


def _native_dict(env: Environment) -> dict[str, Any]:
    data = env.to_dict()
    defaults = Environment(name=env.name).to_dict()
    keep = {"name", "base_image"}
    return {k: v for k, v in data.items() if k in keep or v != defaults.get(k)}


def _dependencies(env: Environment) -> list[Any]:
    deps: list[Any] = list(env.conda)
    if env.pip:
        deps.append({"pip": list(env.pip)})
    return deps


def _conda_dict(env: Environment) -> dict[str, Any]:
    data: dict[str, Any] = {"name": env.extras.get("python.condaDependencies.name") or env.name}
    if env.channels:
        data["channels"] = list(env.channels)
    data["dependencies"] = _dependencies(env)
    if env.env_vars:
        data["variables"] = dict(env.env_vars)
    return data


def _sdk_dict(env: Environment) -> dict[str, Any]:
    extras = {**_SDK_EXTRA_DEFAULTS, **env.extras}
    docker: dict[str, Any] = {
        "arguments": list(env.docker_arguments), "baseDockerfile": env.base_dockerfile,
        "baseImage": env.base_image or None, "enabled": extras["docker.enabled"],
        "sharedVolumes": extras["docker.sharedVolumes"], "shmSize": env.shm_size,
    }
    docker |= {k: extras[f"docker.{k}"] for k in ("gpuSupport", "platform", "buildContext")
               if f"docker.{k}" in extras}
    if env.registry is not None:
        docker["baseImageRegistry"] = {"address": env.registry.address,
                                       "username": env.registry.username, "password": None}
    data: dict[str, Any] = {
        "docker": docker, "environmentVariables": dict(env.env_vars), "name": env.name,
        "python": {
            "baseCondaEnvironment": extras["python.baseCondaEnvironment"],
            "condaDependencies": {"channels": list(env.channels),
                                  "dependencies": _dependencies(env),
                                  "name": extras["python.condaDependencies.name"]},
            "condaDependenciesFile": extras["python.condaDependenciesFile"],
            "interpreterPath": env.interpreter_path,
            "userManagedDependencies": env.user_managed,
        },
        "version": env.version,
    }
    if env.inferencing_stack_version is not None:
        data["inferencingStackVersion"] = env.inferencing_stack_version
    data |= {k: extras[k] for k in SDK_PASSTHROUGH if k in extras}
    return data
