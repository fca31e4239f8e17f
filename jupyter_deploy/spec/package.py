"""What one scoring image is made of: the model files, the entry script, the environment.

Frozen values with no Docker import, so that the build layer, the service records in container
labels and the Azure ML adapter all share one definition. ``check_entry_script`` lives here too:
whether a script can be served is a property of the spec, checked before anything is built.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_deploy.errors import EntryScriptError
from jupyter_deploy.server import protocol
from jupyter_deploy.spec.environment import Environment


@dataclass(frozen=True)
class ModelFiles:
    """A model's files on the host, and the name/version it is mounted under in the image."""

    path: Path
    name: str
    version: int = 1

    @classmethod
    def of(cls, model: ModelFiles | str | Path) -> ModelFiles:
        """Accept a ready ``ModelFiles`` or a bare path (named after the file)."""
        if isinstance(model, ModelFiles):
            return model
        path = Path(model)
        return cls(path=path, name=path.stem if path.is_file() else path.name)


@dataclass(frozen=True)
class PackageSpec:
    """Everything one scoring image is made of."""

    name: str
    entry_script: Path
    environment: Environment = field(default_factory=Environment)
    models: tuple[ModelFiles, ...] = ()
    source_dir: Path | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "models", tuple(ModelFiles.of(m) for m in self.models))
        object.__setattr__(self, "entry_script", Path(self.entry_script))

    @property
    def model_dir(self) -> str:
        """``AZUREML_MODEL_DIR`` as the peer sets it: the model's own folder when there is one."""
        if len(self.models) == 1:
            m = self.models[0]
            return f"{protocol.MODELS_ROOT}/{m.name}/{m.version}"
        return protocol.MODELS_ROOT

    @property
    def entry_name(self) -> str:
        """The entry script's path relative to the app root inside the image."""
        if self.source_dir is not None:
            return self.entry_script.resolve().relative_to(self.source_dir.resolve()).as_posix()
        return self.entry_script.name


def check_entry_script(path: Path) -> None:
    """Check that ``path`` parses and defines ``init`` and ``run`` (the server calls both).

    Raises:
        EntryScriptError: the script is missing, does not parse, or lacks ``init``/``run``.
    """
    if not path.is_file():
        raise EntryScriptError(
            f"entry script {path} does not exist: check the path, or give the seeds' inference "
            "configuration (--ic inferenceconfig.json); a model that describes itself — an "
            "MLflow folder, an .onnx file, a fitted estimator — needs no script: leave it out.")
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except SyntaxError as e:
        raise EntryScriptError(f"{path}:{e.lineno}: syntax error: {e.msg}") from e
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    names |= {t.id for n in tree.body if isinstance(n, ast.Assign)
              for t in n.targets if isinstance(t, ast.Name)}
    missing = [f"{n}()" for n in ("init", "run") if n not in names]
    if missing:
        raise EntryScriptError(
            f"{path} defines no {' and no '.join(missing)} function: the server calls `init()` "
            "once at start (load the model there) and `run(raw_data)` for every request."
        )
