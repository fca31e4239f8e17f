"""Builds through the engine's BuildKit, so the install step reads the wheels through a mount.

docker-py's ``build`` speaks only to the classic builder, which copies every input into a layer
and commits every layer twice over (a tar, then its unpacking). The engine (20.10 and later, API
1.41) also runs BuildKit behind the same ``POST /build`` when asked with ``version=2``: the
context goes as a tar in the request body (no session needed, so nothing but docker-py's
connection is used) and the built-in Dockerfile frontend understands ``RUN --mount`` (nothing is
pulled). Progress comes back as BuildKit status messages (protobuf, base64 in ``aux``);
:mod:`.buildkit_progress` turns them into the classic builder's ``Step N/M`` and ``Using cache``
lines, so logs, progress bars and ``cached_steps`` read the same.

BuildKit keeps each request's context twice in its cache (the tar and its unpacked tree), and
keeps an image's layers after the image is removed; the engine collects that cache only when
configured to. So after each build, in the background, the copies it made are pruned, and so are
the installed environments no image uses any more (what the classic builder removed with the
image); otherwise a model of gigabytes would stay on disk once per build.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from jupyter_deploy.engine.buildkit_progress import Progress, Step
from jupyter_deploy.engine.client import docker_client, translate_docker_errors
from jupyter_deploy.engine.images import BuiltImage
from jupyter_deploy.errors import BuildError, DeployError

Log = Callable[[str], None]
#: The first engine API whose built-in Dockerfile frontend takes ``RUN --mount`` (Docker 20.10).
MIN_API = (1, 41)
_logger = logging.getLogger(__name__)
#: How BuildKit names the tar of a request-body context it keeps (its unpacked copy is a
#: parentless "fileop target" made while the tar is read).
_CONTEXT_TAR = re.compile(r"^http url http://build-context-\S+$")
_PAIRING_SECONDS = 10.0
_SETTLE_SECONDS = 1.0
#: How it names the result of our install step (see ``jupyter_deploy.build.installer``).
_INSTALL_STEP = re.compile(r"^mount / from exec /bin/sh -c sh /tmp/wheels/install\.sh ")


@dataclass(frozen=True)
class BuildKitImage(BuiltImage):
    """A :class:`BuiltImage` that also knows what each BuildKit step took."""

    steps: tuple[Step, ...] = ()


def available() -> bool:
    """Whether the engine builds with BuildKit and ``RUN --mount`` (a Linux engine, API 1.41+)."""
    with translate_docker_errors("asking the engine for its version"):
        version = docker_client().version()
    major, _, minor = str(version.get("ApiVersion", "0.0")).partition(".")
    api = (int(major or 0), int(minor or 0))
    return api >= MIN_API and str(version.get("Os", "linux")).lower() == "linux"


def build(
    context: str | Path, tag: str, log: Log | None = None,
    labels: Mapping[str, str] | None = None, network_mode: str | None = "none",
    nocache: bool = False,
) -> BuildKitImage:
    """Build the folder ``context`` with BuildKit into ``tag``, streaming ``Step`` lines to ``log``.

    Raises:
        BuildError: the build failed; ``build_log`` holds the whole log, the message its tail.
        DockerUnavailableError: no engine.
    """
    client = docker_client()
    started = time.monotonic()
    progress = Progress(log)
    image_id = ""
    params = {"t": tag, "version": "2", "dockerfile": "Dockerfile", "pull": False,
              "rm": True, "forcerm": True, "nocache": nocache,
              "labels": json.dumps(dict(labels or {})), "networkmode": network_mode}
    try:
        with _context_tar(Path(context)) as body, translate_docker_errors(f"building {tag}"):
            response = client.api._post(
                client.api._url("/build"), data=body, stream=True, timeout=None,
                params={k: v for k, v in params.items() if v is not None},
                headers={"Content-Type": "application/x-tar"})
            for chunk in client.api._stream_helper(response, decode=True):
                image_id = _read(chunk, progress, tag) or image_id
    finally:
        # housekeeping, off the deploy's path: the next build prunes whatever this one missed
        threading.Thread(target=_prune_leftovers, name="jd-buildkit-prune", daemon=True).start()
    if not image_id:
        with translate_docker_errors(f"looking up {tag}"):
            image_id = client.images.get(tag).id
    return BuildKitImage(image_id, tag, "\n".join(progress.lines), time.monotonic() - started,
                         tuple(progress.steps))


def _read(chunk: Mapping[str, Any], progress: Progress, tag: str) -> str:
    """Feed one message of the build stream; return the image id when it is the one naming it."""
    if "error" in chunk:
        progress.add(str(chunk["error"]).rstrip())
        raise _build_error(tag, progress.lines)
    if chunk.get("id") == "moby.buildkit.trace":
        progress.feed(str(chunk.get("aux") or ""))
    elif chunk.get("id") == "moby.image.id" and isinstance(chunk.get("aux"), dict):
        return str(chunk["aux"].get("ID") or "")
    elif chunk.get("stream"):
        progress.add(str(chunk["stream"]).rstrip("\n"))
    return ""


def _build_error(tag: str, lines: list[str], tail: int = 15) -> BuildError:
    shown = "\n".join(line for line in lines[-tail:] if line.strip())
    return BuildError(
        f"Building {tag} failed. The end of the build log:\n{shown}\n"
        "Fix the step above (the full log is on the error's build_log) and build again.",
        build_log="\n".join(lines),
    )


@contextlib.contextmanager
def _context_tar(folder: Path) -> Iterator[IO[bytes]]:
    """The context folder as a tar file on disk (a large model never sits in memory).

    GNU format with whole-second times: BuildKit takes a body whose first member is a PAX
    header (Python's default format) for a Dockerfile, not for an archive.
    """
    with tempfile.TemporaryFile(prefix="jd-context-") as file:
        with tarfile.open(fileobj=file, mode="w", format=tarfile.GNU_FORMAT) as archive:
            for path in _walk(folder):
                info = archive.gettarinfo(str(path), path.relative_to(folder).as_posix())
                info.mtime = int(info.mtime)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                if info.isfile():
                    with path.open("rb") as source:
                        archive.addfile(info, source)
                else:
                    archive.addfile(info)
        file.seek(0)
        yield file


def _walk(folder: Path) -> Iterable[Path]:
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        base = Path(root)
        for name in [*dirs, *sorted(files)]:
            yield base / name


def _prune_leftovers() -> None:
    """Drop what BuildKit keeps that no image uses: the copies of request-body contexts (never
    reused: each request has its own address), and the installed environments of images removed
    since (the classic builder removed those with the image), each after the steps built on it.

    Waits a moment first: BuildKit lets go of a finished build's records shortly after it ends.
    Whatever is still held then (or was missed because the process ended) goes next time.
    """
    time.sleep(_SETTLE_SECONDS)
    try:
        with translate_docker_errors("pruning the build context from BuildKit's cache"):
            api = docker_client().api
            records = api._result(api._get(api._url("/system/df")), True).get("BuildCache") or []
            for record_id in _leftovers(records):
                # one id per call: the engine takes a single value per filter
                api._result(api._post(api._url("/build/prune"), params={
                    "filters": json.dumps({"id": [record_id]})}), True)
    except DeployError as e:  # the build has returned: only Python's log is left to tell
        _logger.warning("BuildKit keeps build contexts in its cache (%s); "
                        "`docker builder prune` removes them.", e)


def _leftovers(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Ids of the unused records to prune, children before their parents."""
    children: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        children.setdefault(str(record.get("Parent") or ""), []).append(record)
    doomed: dict[str, None] = {}
    for group in _roots(records):
        trees = []
        for root in group:
            tree, pending = [], [root]
            while pending:
                tree.append(pending.pop())
                pending += children.get(str(tree[-1].get("ID")), [])
            trees += reversed(tree)
        if not any(r.get("InUse") or r.get("Shared") for r in trees):
            doomed.update((str(r["ID"]), None) for r in trees)
    return list(doomed)


def _roots(records: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    """Our install steps' results, each alone; each context's tar with its unpacked copy (the
    parentless ``fileop target`` made while the tar was read), pruned together or not at all."""
    groups = []
    unpacked = [r for r in records if r.get("Description") == "fileop target"
                and not r.get("Parent")]
    for record in records:
        description = str(record.get("Description") or "")
        if _INSTALL_STEP.match(description):
            groups.append([record])
        elif _CONTEXT_TAR.match(description):
            made = _timestamp(str(record.get("CreatedAt") or ""))
            read = _timestamp(str(record.get("LastUsedAt") or "")) + _PAIRING_SECONDS
            groups.append([record, *(r for r in unpacked
                                     if made <= _timestamp(str(r.get("CreatedAt") or "")) <= read)])
    return groups


def _timestamp(text: str) -> float:
    """Seconds since the epoch of the engine's RFC 3339 time (nanoseconds cut to micro)."""
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", text)
    if not match:
        return 0.0
    fraction = (match.group(2) or ".0")[:7]
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    return datetime.fromisoformat(match.group(1) + fraction + zone).timestamp()
