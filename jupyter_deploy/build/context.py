"""Turn a model, an entry script and an environment into a Docker build context.

The context is a plain folder that ``docker build`` (with ``--network none``) turns into the
scoring image: a Dockerfile, the wheels (and the uv binary that installs them), the scoring
server, the models and the user's code. It is deterministic — the same inputs give the same bytes
and so the same content-hash tag — and the Dockerfile orders layers from slowest-changing to
fastest (dependencies, server, models, code), so editing ``score.py`` rebuilds only the last
layer.

The Dockerfile comes in two forms with the same image contents. The portable one (saved
folders, engines without BuildKit) copies the wheels into a first stage and the finished venv
into the image, so no wheel is left in a layer. With ``mounts`` (for an engine that builds with
BuildKit), the install step reads the wheels through a bind mount instead: one stage, no copy of
the wheels and no second copy of the venv, which is most of what a cold build spent besides
installing.

With BuildKit the dependencies are also an image of their own (:func:`write_environment_context`:
the base image and the installed environment, named by the hash of what went into it), and the
service's context holds only the server, models and code on top of it (``environment_image``).
An edit of ``score.py`` then sends a few kilobytes to the engine, not the wheels again (which
BuildKit would otherwise read and hash in full just to find its install step cached).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from jupyter_deploy.build.bytecode import link_bytecode
from jupyter_deploy.build.installer import (
    BYTECODE,
    COMPILE_TOOL,
    SCRIPT,
    SCRIPT_TEXT,
    UV_BINARY,
    Installer,
    fetch_uv,
    install_line,
)
from jupyter_deploy.build.wheelhouse import PIP_REQUIREMENT, download, link_or_copy, platforms_for
from jupyter_deploy.config import LABEL_MANAGED, LABEL_PREFIX
from jupyter_deploy.errors import ConfigurationError, DependencyError
from jupyter_deploy.server import protocol
from jupyter_deploy.spec.conda import conda_only, python_pin
from jupyter_deploy.spec.environment import Environment, parse_requirement
from jupyter_deploy.spec.package import ModelFiles, PackageSpec, check_entry_script

VENV = "/opt/jupyter-deploy/venv"
#: The in-image server package, copied whole into every context.
SERVER_DIR = Path(protocol.__file__).parent
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
class BuildContext:
    """A written build context and the content-hash tag of what it holds."""

    path: Path
    digest: str
    warnings: tuple[str, ...] = ()

    @property
    def dockerfile(self) -> Path:
        """The Dockerfile inside the context."""
        return self.path / "Dockerfile"


def write_build_context(
    spec: PackageSpec, dest: Path, log: Log | None = None, base_has_conda: bool = False,
    architecture: str = "x86_64", installer: Installer = "uv", mounts: bool = False,
    environment_image: str | None = None,
) -> BuildContext:
    """Write the complete build context for ``spec`` into ``dest`` (emptied first).

    ``base_has_conda`` says whether the base image has conda, ``architecture`` what machine the
    engine runs (wheels are picked for it, and for ``spec.environment.image_python``): the
    engine layer knows both, and its caller passes them in, so writing a context never talks to
    the engine. ``installer`` and ``mounts`` choose the Dockerfile (see :func:`render_dockerfile`).
    With ``environment_image`` (what :func:`write_environment_context` was built into) the
    context holds no dependencies: its image starts from that one.

    Raises:
        EntryScriptError, DependencyError, ConfigurationError: bad inputs, before any build.
    """
    check_entry_script(spec.entry_script)
    check_conda(spec.environment, base_has_conda)
    _empty(dest)
    warnings: tuple[str, ...] = ()
    if environment_image is None:
        installer, warnings = _write_dependencies(spec.environment, dest, log, architecture,
                                                  installer)
    _copy_server(dest / "server" / protocol.SERVER_PACKAGE)
    _copy_models(spec.models, dest / "models")
    _copy_app(spec, dest / "app")
    (dest / "Dockerfile").write_text(render_dockerfile(spec, installer, mounts, environment_image))
    _log_warnings(warnings, log)
    return BuildContext(dest, content_digest(dest), warnings)


def write_environment_context(
    env: Environment, dest: Path, log: Log | None = None, base_has_conda: bool = False,
    architecture: str = "x86_64", installer: Installer = "uv",
) -> BuildContext | None:
    """Write the context of ``env``'s own image (BuildKit): its base image with the conda
    packages and wheels installed, and nothing of any one service. None when there is nothing
    to install (a user-managed environment): services then start from the base image.

    Its digest names each wheel (and each wheel's bytecode) by file name and size rather than
    reading its bytes: a file of the wheel cache is named for what it holds (an index never
    serves other bytes under a released file's name), and hashing the hundred-odd megabytes of a
    scientific stack took most of the preparation of an update.

    Raises:
        DependencyError: conda packages and a base image without conda, or wheels not found.
    """
    if env.user_managed:
        return None
    check_conda(env, base_has_conda)
    _empty(dest)
    installer, warnings = _write_dependencies(env, dest, log, architecture, installer)
    (dest / "Dockerfile").write_text(render_environment_dockerfile(env, installer))
    _log_warnings(warnings, log)
    return BuildContext(dest, content_digest(dest, by_name=_named_for_content), warnings)


def _write_dependencies(env: Environment, dest: Path, log: Log | None, architecture: str,
                        installer: Installer) -> tuple[Installer, tuple[str, ...]]:
    """The wheels (with uv, their bytecode and the install tools) and requirements.txt; the
    installer that will run and the warnings found on the way."""
    warnings: tuple[str, ...] = tuple(python_warnings(env))
    if env.user_managed:
        return installer, warnings
    lines = [*protocol.SERVER_REQUIREMENTS, *pip_requirements(env)]
    platforms = platforms_for(architecture)
    house = download(lines, env.image_python, platforms, log=log)
    house.copy_to(dest / "wheels")
    installer, refusal = _add_installer(installer, env.image_python, platforms,
                                        dest / "wheels", log)
    if installer == "uv":  # pip compiles as it installs
        installed = [w for w in house.files if not w.name.startswith(f"{PIP_REQUIREMENT}-")]
        link_bytecode(installed, env.image_python, dest / "wheels" / BYTECODE, log)
    for tool in (STRIP_TOOL, COMPILE_TOOL):
        shutil.copyfile(Path(__file__).with_name(tool), dest / "wheels" / tool)
    (dest / "wheels" / SCRIPT).write_text(SCRIPT_TEXT)
    (dest / "requirements.txt").write_text("".join(f"{line}\n" for line in lines))
    return installer, warnings + house.warnings + refusal


def _named_for_content(path: Path) -> bool:
    """A wheel, or the tar of a wheel's bytecode (named after it and the bytecode's magic)."""
    return path.suffix in (".whl", ".tar") and "wheels" in path.parts


def _empty(dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)


def _log_warnings(warnings: Sequence[str], log: Log | None) -> None:
    for warning in warnings:
        if log:
            log(f"warning: {warning}")


def render_dockerfile(
    spec: PackageSpec, installer: Installer = "uv", mounts: bool = False,
    environment_image: str | None = None,
) -> str:
    """The Dockerfile text for ``spec``; no credentials ever appear in it.

    ``installer`` installs the wheels (uv, with pip as its fallback; or pip alone). ``mounts``
    reads them through ``RUN --mount`` (BuildKit only) instead of copying them into a stage.
    ``environment_image`` has them installed already: the image starts from it.
    """
    env = spec.environment
    python = env.interpreter_path if env.user_managed else f"{VENV}/bin/python"
    lines = [f"# Generated by jupyter_deploy for package '{spec.name}'.", ""]
    with_conda = bool(conda_only(env.conda)) and not env.user_managed
    staged = not env.user_managed and not with_conda and not mounts and not environment_image
    if staged:
        lines += [f"FROM {env.base_image} AS dependencies", *_install_lines(installer), ""]
    lines.append(f"FROM {environment_image or env.base_image}")
    lines.append(f'LABEL {LABEL_MANAGED}="true" {LABEL_PREFIX}.package="{spec.name}"')
    if with_conda and not environment_image:
        lines.append(_conda_line(env))
    if staged:
        lines.append(f"COPY --from=dependencies {VENV} {VENV}")
    elif not env.user_managed and not environment_image:
        lines += _install_lines(installer, mounts=mounts, single_stage=True)
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


def render_environment_dockerfile(env: Environment, installer: Installer = "uv") -> str:
    """The Dockerfile of an environment's own image (BuildKit: the wheels through a mount).

    Its labels are only ours and the same for every service that shares it: images built on it
    inherit them, so a caller's labels (a test run's, say) would leak into other services.
    """
    lines = ["# Generated by jupyter_deploy: an environment that services' images start from.",
             "", f"FROM {env.base_image}", f'LABEL {LABEL_MANAGED}="true"']
    if conda_only(env.conda):
        lines.append(_conda_line(env))
    return "\n".join([*lines, *_install_lines(installer, mounts=True, single_stage=True), ""])


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


def check_conda(env: Environment, base_has_conda: bool = False) -> None:
    """Refuse conda-only packages when the base image has no conda, naming them.

    Whether it has conda is the engine layer's answer
    (:func:`jupyter_deploy.engine.base_images.has_conda`, which also reads a base Dockerfile).

    Raises:
        DependencyError: conda packages were requested and the base image has no conda.
    """
    needed = conda_only(env.conda)
    if not needed or env.user_managed:
        return
    if not base_has_conda:
        raise DependencyError(
            f"{', '.join(needed)} can only be installed with conda, and the base image "
            f"{env.base_image} has no conda: install them with pip instead (move them to the "
            "pip list), or use a base image with conda (e.g. one built with build_base).",
            tuple(needed),
        )


def _install_lines(installer: Installer, mounts: bool = False,
                   single_stage: bool = False) -> list[str]:
    # The server's own compiled packages lose their debugging sections (base images seldom
    # have `strip`). A single stage without mounts must delete the wheels it copied in.
    command = [install_line(installer, VENV, "/tmp/wheels", "/tmp/requirements.txt"),
               f" && {VENV}/bin/python /tmp/wheels/{STRIP_TOOL} "
               + " ".join(protocol.SERVER_COMPILED)]
    if single_stage and not mounts:
        command.append(" && rm -rf /tmp/wheels")
    lines = [] if mounts else ["COPY wheels/ /tmp/wheels/",
                               "COPY requirements.txt /tmp/requirements.txt"]
    if installer == "uv":
        lines.append("# uv installs the wheels; when it refuses, pip does (uv's reason is logged).")
    if mounts:
        lines += ["RUN --mount=type=bind,source=wheels,target=/tmp/wheels \\",
                  "    --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt \\",
                  f"    {command[0]}"]
    else:
        lines.append(f"RUN {command[0]}")
    lines[-1] = " \\\n".join([lines[-1], *command[1:]])
    return lines


def _add_installer(installer: Installer, python_version: str, platforms: Sequence[str],
                   wheels: Path, log: Log | None) -> tuple[Installer, tuple[str, ...]]:
    """Put uv's binary beside the wheels; when it cannot be had, pip installs them (and why)."""
    if installer != "uv":
        return installer, ()
    try:
        link_or_copy(fetch_uv(python_version, platforms, log), wheels / UV_BINARY)
    except DependencyError as e:
        return "pip", (f"pip installs the wheels, as uv could not be downloaded: {e}",)
    return installer, ()


def _conda_line(env: Environment) -> str:
    channels = " ".join(f"-c {c}" for c in env.channels)
    specs = " ".join(f'"{s}"' for s in conda_only(env.conda))
    return f"RUN conda install -y {channels + ' ' if channels else ''}{specs} && conda clean -afy"


def content_digest(folder: Path, by_name: Callable[[Path], bool] | None = None) -> str:
    """A short hash of every file's relative path and bytes: equal inputs, equal tag.

    Files ``by_name`` picks count by their path and size alone (files named for their content).
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        if by_name and by_name(path):
            digest.update(str(path.stat().st_size).encode() + b"\0")
        else:
            digest.update(_file_digest(path))
    return digest.hexdigest()[:16]


def _file_digest(path: Path, chunk: int = 1 << 20) -> bytes:
    """SHA-256 of a file read a megabyte at a time: a multi-gigabyte model costs megabytes."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(chunk):
            digest.update(block)
    return digest.digest()


def _copy_server(dest: Path) -> None:
    shutil.copytree(SERVER_DIR, dest, ignore=_IGNORED)


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
