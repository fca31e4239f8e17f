"""Turn a model, an entry script and an environment into a Docker build context.

The context is a plain folder that ``docker build`` (with ``--network none``) turns into the
scoring image: a Dockerfile, the wheels, the scoring server, the models and the user's code. It
is deterministic — the same inputs give the same bytes and so the same content-hash tag — and
the Dockerfile orders layers from slowest-changing to fastest (dependencies, server, models,
code), so editing ``score.py`` rebuilds only the last layer.
"""

from __future__ import annotations

import ast
import hashlib
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from .conda import conda_only, python_pin
from .config import LABEL_MANAGED, LABEL_PREFIX
from .environment import Environment, parse_requirement
from .errors import ConfigurationError, DependencyError, EntryScriptError
from .scoring import protocol
from .wheelhouse import download

VENV = "/opt/jupyter-deploy/venv"
SCORING_DIR = Path(__file__).parent / "scoring"
#: Copied next to the wheels; the install step runs it on the server's compiled packages.
STRIP_TOOL = "strip_debug.py"
#: pip packages of the seeds' SDK whose job our scoring server does; they are not installed.
SERVER_PROVIDED = frozenset(
    {"azureml-defaults", "azureml-inference-server-http", "azureml-telemetry"}
    # the server's own pinned packages: another version of them could not sit beside it
    | {canonicalize_name(parse_requirement(line).name) for line in protocol.SERVER_REQUIREMENTS}
)
Log = Callable[[str], None]


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


@dataclass(frozen=True)
class BuildContext:
    """A written build context and the content-hash tag of what it holds."""

    path: Path
    digest: str
    warnings: tuple[str, ...] = ()

    @property
    def dockerfile(self) -> Path:
        """The Dockerfile inside the context."""
        return self.path / "Dockerfile"


def check_entry_script(path: Path) -> None:
    """Check that ``path`` parses and defines ``init`` and ``run`` (the server calls both).

    Raises:
        EntryScriptError: the script is missing, does not parse, or lacks ``init``/``run``.
    """
    if not path.is_file():
        raise EntryScriptError(f"entry script {path} does not exist")
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


def write_build_context(
    spec: PackageSpec, dest: Path, log: Log | None = None, base_has_conda: bool | None = None
) -> BuildContext:
    """Write the complete build context for ``spec`` into ``dest`` (emptied first).

    ``base_has_conda`` says whether the base image has conda (looked up in the engine when None
    and the environment lists conda-only packages).

    Raises:
        EntryScriptError, DependencyError, ConfigurationError: bad inputs, before any build.
    """
    check_entry_script(spec.entry_script)
    env = spec.environment
    check_conda(env, base_has_conda)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    warnings: tuple[str, ...] = tuple(python_warnings(env))
    if not env.user_managed:
        lines = [*protocol.SERVER_REQUIREMENTS, *pip_requirements(env)]
        house = download(lines, env.image_python, log=log)
        house.copy_to(dest / "wheels")
        shutil.copyfile(Path(__file__).with_name(STRIP_TOOL), dest / "wheels" / STRIP_TOOL)
        warnings += house.warnings
        (dest / "requirements.txt").write_text("".join(f"{line}\n" for line in lines))
    _copy_server(dest / "server" / protocol.SERVER_PACKAGE)
    _copy_models(spec.models, dest / "models")
    _copy_app(spec, dest / "app")
    (dest / "Dockerfile").write_text(render_dockerfile(spec))
    for warning in warnings:
        if log:
            log(f"warning: {warning}")
    return BuildContext(dest, content_digest(dest), warnings)


def render_dockerfile(spec: PackageSpec) -> str:
    """The Dockerfile text for ``spec``; no credentials ever appear in it."""
    env = spec.environment
    python = env.interpreter_path if env.user_managed else f"{VENV}/bin/python"
    lines = [f"# Generated by jupyter_deploy for package '{spec.name}'.", ""]
    with_conda = bool(conda_only(env.conda)) and not env.user_managed
    if not env.user_managed and not with_conda:
        lines += [f"FROM {env.base_image} AS dependencies", *_install_lines(False), ""]
    lines.append(f"FROM {env.base_image}")
    lines.append(f'LABEL {LABEL_MANAGED}="true" {LABEL_PREFIX}.package="{spec.name}"')
    if with_conda:
        lines += [_conda_line(env), *_install_lines(True)]
    elif not env.user_managed:
        lines.append(f"COPY --from=dependencies {VENV} {VENV}")
    base_env = {
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": protocol.SERVER_ROOT,
        protocol.ENV_APP_ROOT: protocol.APP_ROOT,
        protocol.ENV_SOURCE_DIR: protocol.APP_ROOT,
        protocol.ENV_ENTRY_SCRIPT: spec.entry_name,
        protocol.ENV_MODEL_DIR: spec.model_dir,
        **dict(env.env_vars),
    }
    lines.append("ENV " + " \\\n    ".join(f"{k}={_quote(v)}" for k, v in base_env.items()))
    lines += [
        f"COPY server/ {protocol.SERVER_ROOT}/",
        f"COPY models/ {protocol.MODELS_ROOT}/",
        f"COPY app/ {protocol.APP_ROOT}/",
        f"WORKDIR {protocol.APP_ROOT}",
        f"EXPOSE {protocol.DEFAULT_PORT}",
        f'CMD ["{python}", "-m", "{protocol.SERVER_PACKAGE}.server"]',
        "",
    ]
    return "\n".join(lines)


def pip_requirements(env: Environment) -> list[str]:
    """The environment's pip requirements minus those our scoring server replaces."""
    return [line for line in env.pip
            if canonicalize_name(parse_requirement(line).name) not in SERVER_PROVIDED]


def python_warnings(env: Environment) -> list[str]:
    """Warnings for settings the image cannot honour (a conda ``python=`` pin, dropped pip)."""
    found = []
    dropped = [line for line in env.pip if line not in pip_requirements(env)]
    if dropped and not env.user_managed:
        found.append(f"{', '.join(dropped)} not installed: jupyter_deploy's scoring server "
                     "takes their place in the image")
    pin = python_pin(env.conda)
    if pin and ".".join(pin.split(".")[:2]) != env.image_python:
        found.append(f"the environment asks for python={pin} but the base image runs Python "
                     f"{env.image_python}: pick a base image with that Python to honour it")
    return found


def check_conda(env: Environment, base_has_conda: bool | None = None) -> None:
    """Refuse conda-only packages when the base image has no conda, naming them.

    Raises:
        DependencyError: conda packages were requested and the base image has no conda.
    """
    needed = conda_only(env.conda)
    if not needed or env.user_managed:
        return
    has_conda = base_has_conda if base_has_conda is not None else _image_has_conda(env)
    if not has_conda:
        raise DependencyError(
            f"{', '.join(needed)} can only be installed with conda, and the base image "
            f"{env.base_image} has no conda: install them with pip instead (move them to the "
            "pip list), or use a base image with conda (e.g. one built with build_base).",
            tuple(needed),
        )


def _image_has_conda(env: Environment) -> bool:
    if env.base_dockerfile and "conda" in env.base_dockerfile.lower():
        return True
    import docker.errors

    from .engine import docker_client, translate_docker_errors

    with translate_docker_errors(f"inspecting {env.base_image}"):
        try:
            config = docker_client().images.get(env.base_image).attrs.get("Config") or {}
        except docker.errors.ImageNotFound:
            return False
    variables = config.get("Env") or []
    return any("conda" in v.lower() for v in variables)


def _install_lines(single_stage: bool) -> list[str]:
    # The venv sees the base image's own packages (pre-installed slow software is the point of
    # a custom base image); the environment's pip packages override them. The server's own
    # compiled packages lose their debugging sections (base images seldom have `strip`).
    return [
        f"RUN python3 -m venv --system-site-packages --without-pip {VENV}",
        "COPY wheels/ /tmp/wheels/",
        "COPY requirements.txt /tmp/requirements.txt",
        f"RUN {VENV}/bin/python \"$(ls /tmp/wheels/pip-*.whl)/pip\" install --no-index "
        "--no-cache-dir --disable-pip-version-check --find-links /tmp/wheels "
        "-r /tmp/requirements.txt \\\n"
        f" && {VENV}/bin/python /tmp/wheels/{STRIP_TOOL} {' '.join(protocol.SERVER_COMPILED)}"
        + (" \\\n && rm -rf /tmp/wheels" if single_stage else ""),
    ]


def _conda_line(env: Environment) -> str:
    channels = " ".join(f"-c {c}" for c in env.channels)
    specs = " ".join(f'"{s}"' for s in conda_only(env.conda))
    return f"RUN conda install -y {channels + ' ' if channels else ''}{specs} && conda clean -afy"


def content_digest(folder: Path) -> str:
    """A short hash of every file's relative path and bytes: equal inputs, equal tag."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def _copy_server(dest: Path) -> None:
    dest.mkdir(parents=True)
    (dest / "__init__.py").write_text('"""jupyter_deploy scoring server (in-image copy)."""\n')
    for name in protocol.SERVER_FILES:
        shutil.copyfile(SCORING_DIR / name, dest / name)


def _copy_models(models: Sequence[ModelFiles], dest: Path) -> None:
    dest.mkdir(parents=True)
    for model in models:
        if not model.path.exists():
            raise ConfigurationError(f"model path {model.path} does not exist")
        target = dest / model.name / str(model.version)
        if model.path.is_dir():
            shutil.copytree(model.path, target, ignore=_IGNORED)
        else:
            target.mkdir(parents=True)
            shutil.copyfile(model.path, target / model.path.name)


def _copy_app(spec: PackageSpec, dest: Path) -> None:
    if spec.source_dir is not None:
        shutil.copytree(spec.source_dir, dest, ignore=_IGNORED)
    else:
        dest.mkdir(parents=True)
        shutil.copyfile(spec.entry_script, dest / spec.entry_script.name)


_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", ".git")


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'
