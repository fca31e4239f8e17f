"""Fitted estimators that are still variables of the kernel: checked, saved, and pinned.

A service runs a *copy* of the estimator, so the copy must be possible and faithful: the object
is pickled once to a sink before anything else, which proves it can be saved (a lambda or a lock
inside it fails here, with its reason, not in the image) and reveals every module its pickle
refers to. Those modules' distributions, pinned at the versions this kernel has, with their own
dependencies, are the image's requirements; a class defined in the notebook itself cannot be
imported in the image and is refused. The kernel keeps a reference to each object it deployed
(:func:`deployed_object`) so that the parity check compares the service with the very object,
not with a reloaded copy.
"""

from __future__ import annotations

import importlib.metadata as metadata
import pickle
import sys
import types
import weakref
from pathlib import Path
from typing import Any

from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.spec.models.description import ModelDescription
from jupyter_deploy.spec.models.requirements import pinned_with_dependencies
from jupyter_deploy.spec.models.tensors import TensorSpec, oip_datatype

#: The file an estimator is saved to, next to its generated scoring script.
MODEL_FILE = "model.joblib"
#: Distributions the generated script itself imports.
SCRIPT_NEEDS = ("joblib", "numpy")
#: Rows of zeros in the swagger sample when the estimator has no example.
SAMPLE_ROWS = 2

_deployed: dict[str, Any] = {}


class _Sink:
    """A file that forgets what is written to it (the pickle is only walked, not kept)."""

    def write(self, data: bytes) -> int:
        return len(data)


class _ModuleCollector(pickle.Pickler):
    """A pickler that notes the module of every class and function the pickle refers to."""

    def __init__(self) -> None:
        super().__init__(_Sink(), protocol=pickle.HIGHEST_PROTOCOL)
        self.modules: set[str] = set()
        self.from_main: set[str] = set()

    def persistent_id(self, obj: Any) -> None:
        named = isinstance(obj, type | types.FunctionType | types.BuiltinFunctionType)
        module = getattr(obj, "__module__", None) if named else type(obj).__module__
        if isinstance(module, str):
            self.modules.add(module)
            if module == "__main__":
                self.from_main.add(getattr(obj, "__qualname__", type(obj).__qualname__))
        return None


def check_estimator(estimator: Any) -> set[str]:
    """Check that ``estimator`` can be served from a saved copy; return the modules it uses.

    Raises:
        ConfigurationError: it has no ``predict``, is not fitted, cannot be pickled, or uses a
            class or function defined in the notebook (which the image cannot import).
    """
    kind = type(estimator).__name__
    if not callable(getattr(estimator, "predict", None)):
        raise ConfigurationError(
            f"a {kind} has no predict() method, so it cannot be served without a score.py: "
            "pass a fitted estimator (model=clf), or write a score.py (entry_script=…).")
    _check_fitted(estimator)
    collector = _ModuleCollector()
    try:
        collector.dump(estimator)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as e:
        raise ConfigurationError(
            f"the {kind} cannot be pickled ({e}), and the service runs a saved copy of it: "
            "replace lambdas and functions defined inside other functions by module-level "
            "functions, drop open files, locks and connections from it, or write a score.py "
            "that builds the model (entry_script=…).") from e
    if collector.from_main:
        raise ConfigurationError(
            f"the {kind} uses {', '.join(sorted(collector.from_main))}, defined in the notebook "
            "itself, which the image cannot import: move it into a .py module next to the "
            "notebook and write a score.py that imports it (entry_script=…, source_dir=…).")
    return collector.modules


def save_estimator(estimator: Any, folder: Path) -> ModelDescription:
    """Save ``estimator`` with joblib as ``folder/model.joblib`` and describe it, pinning what
    it needs as this kernel has it installed.

    Raises:
        ConfigurationError: it cannot be served from a saved copy (see
            :func:`check_estimator`), or joblib is missing.
    """
    modules = check_estimator(estimator)
    try:
        import joblib
    except ImportError as e:
        raise ConfigurationError("saving an estimator needs joblib: `pip install joblib` "
                                 "(scikit-learn installs it).") from e
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MODEL_FILE
    joblib.dump(estimator, path)
    return describe_estimator(estimator, path, modules)


def describe_estimator(estimator: Any, saved: Path, modules: set[str]) -> ModelDescription:
    """Describe ``estimator``, saved at ``saved``, whose pickle refers to ``modules``."""
    features = [str(f) for f in getattr(estimator, "feature_names_in_", ())]
    needs = [*_distributions(modules), *SCRIPT_NEEDS, *(["pandas"] if features else [])]
    count = int(getattr(estimator, "n_features_in_", 0) or len(features))
    rows = [[0.0] * count for _ in range(SAMPLE_ROWS)] if count else None
    example: Any = {"columns": features, "data": rows} if features else rows
    kind = "dataframe" if features else ("ndarray" if rows else "")
    return ModelDescription(
        "estimator", saved, saved.name, _inputs(features, count), (_output(estimator),),
        tuple(pinned_with_dependencies(needs)), (), "this kernel's installed packages",
        example, kind,
        {"class": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
         "features": features, "method": "predict"})


def remember_deployed(script: Path, estimator: Any) -> None:
    """Keep ``estimator`` as the object the service of ``script`` was made from (for parity)."""
    key = str(script.resolve())
    try:
        _deployed[key] = weakref.ref(estimator)
    except TypeError:  # objects without weak references are kept alive instead
        _deployed[key] = lambda: estimator


def deployed_object(script: str) -> Any:
    """The very estimator ``script`` was generated for, when this process deployed it."""
    ref = _deployed.get(str(Path(script).resolve()))
    return ref() if ref is not None else None


def _check_fitted(estimator: Any) -> None:
    if "sklearn" not in sys.modules:
        return
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if isinstance(estimator, BaseEstimator):
        try:
            check_is_fitted(estimator)
        except NotFittedError as e:
            raise ConfigurationError(
                f"the {type(estimator).__name__} is not fitted yet: call .fit(X, y) before "
                "deploying it.") from e


def _distributions(modules: set[str]) -> list[str]:
    """The installed distributions that provide ``modules`` (the standard library has none)."""
    providers = metadata.packages_distributions()
    found: set[str] = set()
    for module in modules:
        top = module.split(".", 1)[0]
        if top in sys.stdlib_module_names or top == "builtins":
            continue
        found.update(providers.get(top, ()))
    return sorted(found)


def _inputs(features: list[str], count: int) -> tuple[TensorSpec, ...]:
    if features:
        return tuple(TensorSpec(f, "FP64", (-1,), "column") for f in features)
    return (TensorSpec("input-0", "FP64", (-1, count if count else -1)),)


def _output(estimator: Any) -> TensorSpec:
    classes = getattr(estimator, "classes_", None)
    dtype = getattr(classes, "dtype", None)
    return TensorSpec("predict", oip_datatype(str(dtype)) if dtype is not None else "FP64",
                      (-1,))
