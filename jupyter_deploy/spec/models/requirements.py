"""Requirements of self-describing models: read from their files, or pinned as this kernel has them.

A model is only reproducible in an image with the versions it was made with. MLflow writes them
into ``requirements.txt``; an ONNX file or an estimator in a notebook says nothing, so the
versions this very Python has installed (``importlib.metadata``) are the truth, and are pinned —
with the packages they depend on, so the image gets the same SciPy as the kernel, not merely one
that satisfies scikit-learn.
"""

from __future__ import annotations

import importlib.metadata as metadata
from collections.abc import Iterable
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from jupyter_deploy.errors import EnvironmentSpecError


def installed_version(distribution: str) -> str | None:
    """The version of ``distribution`` installed here, or None."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def host_pin(distribution: str) -> str:
    """``name==version`` as installed here, or the bare name when it is not installed."""
    version = installed_version(distribution)
    return f"{distribution}=={version}" if version else distribution


def pinned_with_dependencies(distributions: Iterable[str]) -> list[str]:
    """``name==version`` for each installed distribution and everything it needs, as installed.

    Dependencies behind an extra, or whose marker does not hold on this Python (which is the
    image's Python version on Linux), are left out; distributions not installed are skipped.
    """
    environment: dict[str, str] = {k: str(v) for k, v in default_environment().items()}
    environment["extra"] = ""
    pins: dict[str, str] = {}
    pending = [canonicalize_name(d) for d in distributions]
    while pending:
        name = pending.pop()
        if name in pins:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        pins[name] = f"{name}=={dist.version}"
        for line in dist.requires or ():
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                pending.append(canonicalize_name(requirement.name))
    return [pins[name] for name in sorted(pins)]


def read_requirements_file(path: Path, _seen: frozenset[Path] = frozenset()) -> list[str]:
    """The requirement lines of a pip requirements file (``-r`` files included).

    Comments, blank lines and pip options (``--extra-index-url``…) are dropped: the image is
    built from the host's wheelhouse, never from another index.

    Raises:
        EnvironmentSpecError: the file cannot be read or a line is not a requirement.
    """
    try:
        text = path.read_text()
    except OSError as e:
        raise EnvironmentSpecError(f"cannot read {path}: {e.strerror}") from e
    lines: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            included = (path.parent / line.split(None, 1)[1]).resolve()
            if included not in _seen:
                lines += read_requirements_file(included, _seen | {path.resolve()})
            continue
        if line.startswith("-"):
            continue
        try:
            Requirement(line)
        except InvalidRequirement as e:
            raise EnvironmentSpecError(f"{line!r} is not a pip requirement ({e}): fix the file",
                                       str(path), number) from e
        lines.append(line)
    return lines


def requirement_name(line: str) -> str:
    """The canonical distribution name of a requirement line."""
    return str(canonicalize_name(Requirement(line).name))


def merged(first: Iterable[str], then: Iterable[str]) -> tuple[str, ...]:
    """``first`` and every line of ``then`` whose distribution ``first`` does not name."""
    kept = list(first)
    names = {requirement_name(line) for line in kept}
    return (*kept, *(line for line in then if requirement_name(line) not in names))
