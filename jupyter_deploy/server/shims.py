"""Azure's import paths for ``score.py`` files, served from this package when nothing else has them.

Entry scripts import ``AMLRequest``/``rawhttp``/``AMLResponse`` from
``azureml.contrib.services.*`` (or ``azureml_inference_server_http.api.*``), the schema
decorators from ``inference_schema.*`` and ``Model`` (for ``get_model_path``) from
``azureml.core.model`` — or, with the import prefix changed, ``jupyter_deploy.azureml.core.model``,
which images do not hold either; a ``logging.json`` copied from the peer names its formatter
``azureml_inference_server_http.log_config.AMLLogFormatter``. A finder placed *last* on
``sys.meta_path`` answers those names only when no installed package does, so a real
``inference_schema`` or ``azureml`` package still wins and scripts run unchanged either way.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

try:
    from . import aml, logs, model_path, schema
except ImportError:  # pragma: no cover - run as a plain script
    import aml  # type: ignore[no-redef]
    import logs  # type: ignore[no-redef]
    import model_path  # type: ignore[no-redef]
    import schema  # type: ignore[no-redef]

_PACKAGES = {
    "azureml", "azureml.contrib", "azureml.contrib.services", "azureml.core",
    "azureml_inference_server_http", "azureml_inference_server_http.api",
    "inference_schema", "inference_schema.parameter_types",
    "jupyter_deploy", "jupyter_deploy.azureml", "jupyter_deploy.azureml.core",
}
_MODULES: dict[str, ModuleType] = {
    "azureml.core.model": model_path,
    "jupyter_deploy.azureml.core.model": model_path,
    "azureml.contrib.services.aml_request": aml,
    "azureml.contrib.services.aml_response": aml,
    "azureml_inference_server_http.api.aml_request": aml,
    "azureml_inference_server_http.api.aml_response": aml,
    "azureml_inference_server_http.log_config": logs,
    "inference_schema.schema_decorators": schema,
    "inference_schema.schema_util": schema,
    "inference_schema.parameter_types.abstract_parameter_type": schema,
    "inference_schema.parameter_types.standard_py_parameter_type": schema,
    "inference_schema.parameter_types.numpy_parameter_type": schema,
    "inference_schema.parameter_types.pandas_parameter_type": schema,
}


class AzureShimFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds and loads the Azure module names listed above, from this package's modules."""

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname in _PACKAGES:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        if fullname in _MODULES:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        source = _MODULES.get(module.__name__)
        if source is not None:
            module.__dict__.update(
                {k: v for k, v in vars(source).items() if not k.startswith("__")}
            )


def install() -> None:
    """Put the finder at the end of ``sys.meta_path`` (once)."""
    if not any(isinstance(f, AzureShimFinder) for f in sys.meta_path):
        sys.meta_path.append(AzureShimFinder())
