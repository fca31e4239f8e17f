"""Validating environment documents against a tiny schema, and finding a key's line.

Kept apart from :mod:`jupyter_deploy.spec.formats` (which converts documents) so the rules for
each accepted format read as data: a type, a tuple of allowed types, ``"str-list"``,
``"str-map"`` or a nested dict. Errors name the dotted key path; :func:`key_line` finds the line
of that key in the original YAML/JSON text so the message can point straight at it.
"""

from __future__ import annotations

from typing import Any

import yaml

from jupyter_deploy.errors import EnvironmentSpecError

#: Whole sections of the SDK's environment JSON with no local meaning, kept verbatim.
SDK_PASSTHROUGH = ("spark", "databricks", "r", "assetId", "environmentVariablesFile")

# Tiny schema language: a type, a tuple of allowed types, "str-list", "str-map" or a dict.
_OPT_STR = (str, type(None))
_OPT_BOOL = (bool, type(None))
_REGISTRY = {"address": _OPT_STR, "username": _OPT_STR, "password": _OPT_STR}
NATIVE: dict[str, Any] = {
    "name": str, "base_image": _OPT_STR, "pip": "str-list", "conda": "str-list",
    "channels": "str-list", "env_vars": "str-map", "registry": _REGISTRY,
    "user_managed": bool, "interpreter_path": str, "base_dockerfile": _OPT_STR,
    "docker_arguments": "str-list", "shm_size": _OPT_STR, "python_version": _OPT_STR,
    "inferencing_stack_version": _OPT_STR, "version": _OPT_STR, "extras": dict,
}
CONDA = {"name": _OPT_STR, "channels": "str-list", "dependencies": list,
               "prefix": _OPT_STR, "variables": "str-map"}
SDK_ENV: dict[str, Any] = {
    "name": _OPT_STR, "version": _OPT_STR, "inferencingStackVersion": _OPT_STR,
    "environmentVariables": "str-map",
    "docker": {"arguments": "str-list", "baseDockerfile": _OPT_STR, "baseImage": _OPT_STR,
               "baseImageRegistry": _REGISTRY, "enabled": _OPT_BOOL, "sharedVolumes": _OPT_BOOL,
               "shmSize": _OPT_STR, "gpuSupport": _OPT_BOOL, "platform": object,
               "buildContext": object},
    "python": {"baseCondaEnvironment": _OPT_STR, "condaDependencies": CONDA,
               "condaDependenciesFile": _OPT_STR, "interpreterPath": _OPT_STR,
               "userManagedDependencies": _OPT_BOOL},
    **{key: object for key in SDK_PASSTHROUGH},
}
INFERENCE: dict[str, Any] = {"entryScript": str, "sourceDirectory": _OPT_STR,
                              "environment": SDK_ENV}


def check(data: Any, schema: Any, path: str) -> None:
    """Validate ``data`` against ``schema``; the error names the dotted key path."""
    key = path.rstrip(".") or None
    if isinstance(schema, dict):
        if not isinstance(data, dict):
            raise EnvironmentSpecError(f"must be a mapping, got {_kind(data)}", key)
        for name, value in data.items():
            if name not in schema:
                known = ", ".join(sorted(schema))
                raise EnvironmentSpecError(f"unknown key (known keys: {known})", f"{path}{name}")
            check(value, schema[name], f"{path}{name}.")
    elif schema == "str-list":
        if not is_str_list(data):
            raise EnvironmentSpecError(f"must be a list of strings, got {_kind(data)}", key)
    elif schema == "str-map":
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise EnvironmentSpecError(f"must map names to strings, got {_kind(data)}", key)
    elif not isinstance(data, schema) or (schema is int and isinstance(data, bool)):
        raise EnvironmentSpecError(f"must be {_expected(schema)}, got {_kind(data)}", key)


def is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _expected(schema: Any) -> str:
    types = schema if isinstance(schema, tuple) else (schema,)
    return " or ".join("null" if t is type(None) else t.__name__ for t in types)


class located:
    """Context manager adding the line of the failing key (found in ``text``) to spec errors."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: Any, tb: Any) -> None:
        if isinstance(error, EnvironmentSpecError) and error.key and error.line is None:
            line = key_line(self.text, error.key)
            if line:
                raise EnvironmentSpecError(_bare(error), error.key, line) from error


class prefixed:
    """Context manager putting ``prefix`` before the key of spec errors raised inside."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: Any, tb: Any) -> None:
        if isinstance(error, EnvironmentSpecError) and error.key and self.prefix:
            key = _native_to_sdk_key(error.key)
            raise EnvironmentSpecError(_bare(error), f"{self.prefix}{key}") from error


def _bare(error: EnvironmentSpecError) -> str:
    text = error.message
    return text.split(f"{error.key}: ", 1)[1] if error.key and f"{error.key}: " in text else text


def _native_to_sdk_key(key: str) -> str:
    mapping = {"name": "name", "env_vars": "environmentVariables",
               "pip": "python.condaDependencies.dependencies.pip",
               "conda": "python.condaDependencies.dependencies"}
    head, sep, rest = key.partition("[")
    return mapping.get(head, head) + sep + rest


def key_line(text: str, key: str) -> int | None:
    """The 1-based line of dotted ``key`` (``a.b[2].c``) in YAML/JSON ``text``, if found."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in key.replace("[", ".[").split("."):
        if node is None or not part:
            break
        node, line = _child(node, part, line)
    return line


def _child(node: Any, part: str, line: int | None) -> tuple[Any, int | None]:
    if part.startswith("[") and isinstance(node, yaml.SequenceNode):
        index = int(part.strip("[]"))
        child = node.value[index] if index < len(node.value) else None
        return child, child.start_mark.line + 1 if child is not None else line
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == part:
                return value_node, key_node.start_mark.line + 1
    return None, line

