"""``Model.get_model_path()`` inside a scoring process: where a registered model's files are.

SDK v1 entry scripts find their model with ``Model.get_model_path("name")`` from
``azureml.core.model``. That package is not in our images, so :mod:`shims` serves a ``Model``
with this one static method (under ``azureml.core.model`` and under the
``jupyter_deploy.azureml.core.model`` prefix), resolving names the way Azure lays models out:
``<models root>/<name>/<version>/…``, the single file itself when a version holds one file.
"""

from __future__ import annotations

import os

try:
    from . import protocol
except ImportError:  # pragma: no cover - run as a plain script
    import protocol  # type: ignore[no-redef]


def get_model_path(model_name: str, version: int | None = None, _workspace: object = None
                   ) -> str:
    """The path of model ``model_name`` (its highest version unless ``version`` is given).

    Raises:
        FileNotFoundError: no such model under ``AZUREML_MODEL_DIR`` or the models root.
    """
    model_dir = os.environ.get(protocol.ENV_MODEL_DIR, "")
    candidates = []
    if model_dir:
        candidates.append(os.path.join(model_dir, model_name))
        parent, number = os.path.split(os.path.normpath(model_dir))
        if os.path.basename(parent) == model_name and (version is None or str(version) == number):
            candidates.append(model_dir)
    candidates.append(os.path.join(protocol.MODELS_ROOT, model_name))
    for candidate in candidates:
        if os.path.exists(candidate):
            return _resolve(candidate, version)
    raise FileNotFoundError(
        f"model {model_name!r} is not in {model_dir or protocol.MODELS_ROOT}: deploy it with the "
        "service (models=[…]) or check the name."
    )


def _resolve(path: str, version: int | None) -> str:
    if not os.path.isdir(path):
        return path
    versions = sorted((int(v) for v in os.listdir(path) if v.isdigit()), reverse=True)
    if versions:
        chosen = version if version in versions else versions[0]
        path = os.path.join(path, str(chosen))
    entries = os.listdir(path)
    return os.path.join(path, entries[0]) if len(entries) == 1 else path


class Model:
    """The part of ``azureml.core.model.Model`` an entry script uses at scoring time."""

    get_model_path = staticmethod(get_model_path)
