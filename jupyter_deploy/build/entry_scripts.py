"""Scoring scripts for models that describe themselves, and the packages made from them.

An MLflow folder, an ONNX file or a fitted estimator needs no hand-written ``score.py``: the
model's :class:`~jupyter_deploy.spec.models.ModelDescription` is turned into one, written where
the user can read and edit it (``./jupyter-deploy/<service>/score.py``, with the saved estimator
beside it), and from there on it is an ordinary package — build, deploy, reload, update, parity
check and swagger all work on it unchanged. A script the user has edited is never overwritten:
each generated file carries the fingerprint of its own text, and a file whose text no longer
matches it is kept (and said to be kept).
"""

from __future__ import annotations

import hashlib
import math
import pprint
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from jupyter_deploy.build import script_templates as t
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.spec.environment import Environment
from jupyter_deploy.spec.models import (
    ModelDescription,
    describe,
    remember_deployed,
    save_estimator,
)
from jupyter_deploy.spec.models.requirements import merged
from jupyter_deploy.spec.package import ModelFiles, PackageSpec

#: The folder (below the current one) that generated scripts and saved estimators go in.
GENERATED_ROOT = "jupyter-deploy"
SCRIPT = "score.py"
_MARK = "# jupyter-deploy generated this file; fingerprint "
Log = Callable[[str], None]


def generated_package(
    name: str, models: Sequence[ModelFiles | str | Path] = (), environment: Environment | None
    = None, estimator: Any = None, folder: Path | None = None, log: Log | None = None,
) -> PackageSpec:
    """The package for a model without an entry script: its generated ``score.py``, the model,
    and ``environment`` (the default one when None) with the model's requirements added.

    ``folder`` is where the script (and a saved estimator) go: ``./jupyter-deploy/<name>`` by
    default.

    Raises:
        ConfigurationError: no model, several, one that does not describe itself, or one that
            cannot be read or saved (each says what to do instead).
        EnvironmentSpecError: the model's requirements are not valid.
    """
    folder = folder or Path.cwd() / GENERATED_ROOT / name
    if estimator is not None:
        if models:
            raise ConfigurationError(
                "pass the estimator (model=…) or model files (models=[…]), not both: a service "
                "without a score.py serves one model.")
        description = save_estimator(estimator, folder)
        files = ModelFiles(description.path, name)
    else:
        files = _one_model(models)
        found = describe(files.path)
        if found is None:
            raise no_entry_script(files.path)
        description = found
    script = write_entry_script(description, folder / SCRIPT, log)
    if estimator is not None:
        remember_deployed(script, estimator)
    return PackageSpec(name, script, with_requirements(environment, description), (files,))


def no_entry_script(model: Path | None = None) -> ConfigurationError:
    """The error for a package with neither an entry script nor a model that describes itself."""
    what = f"{model} does not describe itself" if model else "there is no model"
    return ConfigurationError(
        f"no entry script, and {what}: pass entry_script='score.py' (a script with init() and "
        "run()), or a model that needs none — an MLflow model folder (with its MLmodel file), "
        "an .onnx file, or a fitted estimator of the kernel (model=clf, %deploy NAME --model "
        "clf).")


def with_requirements(environment: Environment | None, description: ModelDescription
                      ) -> Environment:
    """``environment`` plus the model's requirements (the environment's own win by name)."""
    env = environment or Environment()
    conda = (*env.conda, *(c for c in description.conda if c not in env.conda))
    return env.with_changes(pip=merged(env.pip, description.requirements), conda=conda)


def write_entry_script(description: ModelDescription, path: Path, log: Log | None = None
                       ) -> Path:
    """Write the script for ``description`` to ``path`` unless the user edited the one there.

    Raises:
        ConfigurationError: the file cannot be written.
    """
    text = render(description)
    say = log or (lambda _: None)
    if path.is_file() and path.read_text() != text and _edited(path.read_text()):
        say(f"Kept your edited {path} (delete it to have it generated again).")
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    except OSError as e:
        raise ConfigurationError(f"cannot write the scoring script {path}: {e.strerror}. "
                                 "Run from a folder you can write to.") from e
    say(f"Generated the scoring script {path} from {_what(description)}: read or edit it, "
        "then service.reload() to use your edits.")
    return path


def render(description: ModelDescription) -> str:
    """The text of the scoring script for ``description``."""
    body = {"mlflow": _mlflow, "onnx": _onnx, "estimator": _estimator}[description.kind](
        description)
    return _fingerprinted(body)


# -- the three kinds ---------------------------------------------------------------------------


def _mlflow(d: ModelDescription) -> str:
    table = "rows in the order of COLUMNS, or records (dicts) by column name"
    if d.has_columns:
        constants = _constant("The signature's columns and the type each is cast to.",
                              "COLUMNS", {s.name: s.numpy_dtype for s in d.inputs})
        model_input, how = t.TABLE_INPUT.replace("$astype", ".astype(COLUMNS)"), table
    elif d.inputs:
        constants = _constant("The signature's tensors and the numpy type each is cast to.",
                              "INPUT_TYPES", {s.name: s.numpy_dtype for s in d.inputs})
        model_input, how = t.TENSOR_INPUT, "an array, or a dict of arrays by input name"
    elif d.example_kind == "dataframe":
        constants = _constant("The input example's columns.", "COLUMNS",
                              list(d.input_example["columns"]))
        model_input, how = t.TABLE_INPUT.replace("$astype", ""), table
    else:
        constants, model_input, how = "", t.PASS_INPUT, "rows (as a table) or any JSON value"
    how = (f"It loads the model with mlflow.pyfunc (mlflow-skinny in the image); POST /score "
           f'takes {{"data": …}}: {how}.')
    return t.MLFLOW.substitute(
        _common(d, how, constants, model_input),
        numpy_import="import numpy as np\n" if model_input is t.TENSOR_INPUT else "")


def _onnx(d: ModelDescription) -> str:
    constants = _constant("Each graph input and the numpy type it is cast to.", "INPUT_TYPES",
                          {s.name: s.numpy_dtype for s in d.inputs})
    how = ('It serves the graph with ONNX Runtime; POST /score takes {"data": rows} for a '
           'single input (cast to its type) or {"data": {input: value, …}} by input name, and '
           "answers every output by name.")
    return t.ONNX.substitute(_common(d, how, constants, t.ONNX_FEEDS))


def _estimator(d: ModelDescription) -> str:
    features = list(d.details.get("features") or ())
    if features:
        constants = _constant("The features the estimator was fitted on.", "COLUMNS", features)
        model_input = t.TABLE_INPUT.replace("$astype", "")
        how = "rows in the order of COLUMNS, or records (dicts) by feature name"
    else:
        constants, model_input, how = "", t.ROWS_INPUT, "rows of features"
    how = (f"It loads the estimator saved beside it with joblib; POST /score takes "
           f'{{"data": …}}: {how}.')
    return t.ESTIMATOR.substitute(
        _common(d, how, constants, model_input),
        array_import="import pandas as pd\n" if features else "import numpy as np\n",
        method=str(d.details.get("method") or "predict"))


def _common(d: ModelDescription, how: str, constants: str, model_input: str) -> dict[str, str]:
    """The substitutions every template takes."""
    inputs, outputs = _samples(d)
    return {"header": _header(d, how), "schema_imports": t.IMPORTS_SCHEMA,
            "location": _literal(d.location),
            "metadata": _literal(d.metadata(), len("MODEL_METADATA = ")),
            "input_constants": constants + inputs + outputs, "decorators": _decorators(outputs),
            "model_input": model_input, "to_json": t.TO_JSON}


# -- pieces ------------------------------------------------------------------------------------


def _header(d: ModelDescription, how: str) -> str:
    lines = "\n".join(f"    {line}" for line in d.requirements) or "    (none)"
    title = f"Scoring script generated by jupyter_deploy for {_what(d)}."
    return t.HEADER.substitute(title=_wrapped(title), how=_wrapped(how),
                               source=d.requirements_source, requirements=lines)


def _what(d: ModelDescription) -> str:
    if d.kind == "mlflow":
        flavours = ", ".join(d.details.get("flavors") or ())
        return f"the MLflow model {d.path.name} (flavours: {flavours})"
    if d.kind == "onnx":
        return f"the ONNX model {d.path.name}"
    module, _, name = str(d.details.get("class", "")).rpartition(".")
    return f"the estimator {name} ({module.split('.')[0]}), saved as {d.path.name}"


def _samples(d: ModelDescription) -> tuple[str, str]:
    """The INPUT_SAMPLE and OUTPUT_SAMPLE constants (the output only when the model says)."""
    inputs = _constant('The request\'s "data" as the swagger document shows it.',
                       "INPUT_SAMPLE", _plain(_input_sample(d)))
    if not d.outputs:
        return inputs, ""
    if d.kind == "onnx":
        sample: Any = {s.name: s.zeros() for s in d.outputs}
    elif all(s.structure == "column" for s in d.outputs):
        sample = [{s.name: s.zeros()[0] for s in d.outputs}]
    else:
        sample = d.outputs[0].zeros() if len(d.outputs) == 1 else {
            s.name: s.zeros() for s in d.outputs}
    return inputs, _constant("What run() answers, as the swagger document shows it.",
                             "OUTPUT_SAMPLE", _plain(sample))


def _input_sample(d: ModelDescription) -> Any:
    example, kind = d.input_example, d.example_kind
    if kind == "dataframe" and isinstance(example, dict):
        columns = list(example.get("columns") or [])
        return [dict(zip(columns, row, strict=False)) for row in example.get("data") or []]
    if example is not None:
        return example
    if d.has_columns:
        return [{s.name: s.zeros()[0] for s in d.inputs}]
    if len(d.inputs) == 1:
        return d.inputs[0].zeros()
    if d.inputs:
        return {s.name: s.zeros() for s in d.inputs}
    return []


def _decorators(outputs: str) -> str:
    lines = ['@input_schema("data", StandardPythonParameterType(INPUT_SAMPLE))']
    if outputs:
        lines.append("@output_schema(StandardPythonParameterType(OUTPUT_SAMPLE))")
    return "\n".join(lines)


def _constant(comment: str, name: str, value: Any) -> str:
    prefix = f"{name} = "
    return f"#: {comment}\n{prefix}{_literal(value, len(prefix))}\n"


def _literal(value: Any, indent: int = 0) -> str:
    """``value`` as a Python literal, continuation lines aligned after ``indent`` columns."""
    text = pprint.pformat(value, width=96 - indent, compact=True, sort_dicts=False)
    return text.replace("\n", "\n" + " " * indent)


def _plain(value: Any) -> Any:
    """JSON values as Python literals can spell them (no NaN or infinity)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _wrapped(text: str, width: int = 96) -> str:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "\n".join([*lines, line])


def _fingerprinted(body: str) -> str:
    docstring_end = body.index('"""\n', 3) + 4
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    return f"{body[:docstring_end]}{_MARK}{digest}\n{body[docstring_end:]}"


def _edited(text: str) -> bool:
    """Whether a generated script's text no longer matches its fingerprint (or has none)."""
    start = text.find(_MARK)
    if start < 0:
        return True
    end = text.index("\n", start)
    body = text[:start] + text[end + 1:]
    return hashlib.sha256(body.encode()).hexdigest()[:16] != text[start + len(_MARK):end]


def _one_model(models: Sequence[ModelFiles | str | Path]) -> ModelFiles:
    if not models:
        raise no_entry_script()
    if len(models) > 1:
        raise ConfigurationError(
            f"a service without an entry script serves exactly one model, and {len(models)} "
            "were given: pass one MLflow folder or .onnx file, or write a score.py "
            "(entry_script=…) that loads several.")
    return ModelFiles.of(models[0])
