"""Images in the engine: build with a streamed log; pull and push with their streams read out.

Docker's build, pull and push APIs all answer with a stream of JSON messages, and all of them can
report failure only *inside* the stream (``{"error": …}``) while the HTTP call itself succeeds.
Every stream here is consumed completely and every ``error`` entry becomes one of our exceptions
carrying the log, so no failure passes silently and no log is thrown away.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import docker.errors
from docker.utils.json_stream import json_stream

from jupyter_deploy.engine.client import docker_client, translate_docker_errors
from jupyter_deploy.engine.refusals import engine_error
from jupyter_deploy.errors import BuildError, PullCancelledError
from jupyter_deploy.spec.reference import ImageReference, registry_of, same_registry

Log = Callable[[str], None]
Event = Callable[[Mapping[str, Any]], None]


@dataclass(frozen=True)
class BuiltImage:
    """The outcome of a build: the image id, its tag, the log and how long it took."""

    id: str
    tag: str
    log: str
    seconds: float

    @property
    def cached_steps(self) -> int:
        """How many build steps the engine took from its cache."""
        return self.log.count("Using cache")


def build(
    context: str, tag: str, log: Log | None = None, labels: Mapping[str, str] | None = None,
    network_mode: str | None = None, nocache: bool = False,
) -> BuiltImage:
    """Build the folder ``context`` into an image tagged ``tag``, streaming each log line.

    Raises:
        BuildError: the build failed; ``build_log`` holds the whole log, the message its tail.
        DockerUnavailableError: no engine.
    """
    client = docker_client()
    started = time.monotonic()
    lines: list[str] = []
    image_id = ""
    with translate_docker_errors(f"building {tag}"):
        stream = client.api.build(
            path=context, tag=tag, rm=True, forcerm=True, decode=True, pull=False,
            labels=dict(labels or {}), network_mode=network_mode, nocache=nocache,
        )
        for chunk in stream:
            if "error" in chunk:
                lines.append(str(chunk["error"]).rstrip())
                raise _build_error(tag, lines)
            text = chunk.get("stream")
            if text:
                lines.append(text.rstrip("\n"))
                if log and text.strip():
                    log(text.rstrip("\n"))
            aux = chunk.get("aux")
            if isinstance(aux, dict) and "ID" in aux:
                image_id = aux["ID"]
    if not image_id:
        image_id = client.images.get(tag).id
    return BuiltImage(image_id, tag, "\n".join(lines), time.monotonic() - started)


def _build_error(tag: str, lines: list[str], tail: int = 15) -> BuildError:
    shown = "\n".join(line for line in lines[-tail:] if line.strip())
    return BuildError(
        f"Building {tag} failed. The end of the build log:\n{shown}\n"
        "Fix the step above (the full log is on the error's build_log) and build again.",
        build_log="\n".join(lines),
    )


def exists(ref: str) -> bool:
    """Whether the engine has an image by that name or id."""
    with translate_docker_errors(f"looking up image {ref}"):
        try:
            docker_client().images.get(ref)
        except docker.errors.ImageNotFound:
            return False
    return True


def image_id(ref: str) -> str:
    """The id of the image ``ref`` names.

    Raises:
        ImageNotFoundError: the engine has no such image.
    """
    with translate_docker_errors(f"looking up image {ref}"):
        return str(docker_client().images.get(ref).id)


def remove_unused(ref: str) -> bool:
    """Remove the image ``ref`` unless a container uses it or it has other names (the engine
    refuses both without force); whether it went.

    Raises:
        DockerUnavailableError: no engine.
    """
    with translate_docker_errors(f"removing image {ref}"):
        try:
            docker_client().images.remove(ref)
        except (docker.errors.ImageNotFound, docker.errors.APIError):
            return False
    return True


def remove_unless_shared(tag: str, label: str) -> None:
    """Remove the image ``tag`` unless another tagged image carries its ``label`` with the
    value ``tag`` too (images built on it inherit its labels): nothing else is built on it then.

    Untagged images with that label go too, if no container uses them: earlier builds of
    ``tag`` that a rebuild replaced.
    """
    with translate_docker_errors(f"removing image {tag}"):
        carriers = docker_client().images.list(filters={"label": f"{label}={tag}"})
        if any(image.tags and tag not in image.tags for image in carriers):
            return
    for image in sorted(carriers, key=lambda i: not i.tags):  # the tagged one first
        remove_unused(image.id)


def own_login(ref: str, auth_config: Mapping[str, str] | None) -> dict[str, str] | None:
    """``auth_config`` if it belongs to the registry ``ref`` names, else None.

    Every pull and push goes through here, so a login reaches only its own registry: a
    reference to any other host goes without it, and docker-py then offers what Docker's own
    config and credential helpers hold for that host, or nothing. A login that names no
    registry (no ``serveraddress``) is never sent.

    Raises:
        ImageReferenceError: ``ref`` is not a valid image reference.
    """
    registry = registry_of(ref)
    if not auth_config or not same_registry(auth_config.get("serveraddress"), registry):
        return None
    return dict(auth_config)


def pull(
    ref: str, auth_config: Mapping[str, str] | None = None, on_event: Event | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> str:
    """Pull ``ref`` (``:latest`` when no tag), reading the whole stream; return the status line.

    ``cancelled`` is asked after every event; when it answers yes, the connection is closed
    (the engine then drops the pull) and :class:`PullCancelledError` is raised.

    Raises:
        PullError, RegistryAuthError, ImageNotFoundError: as the stream or the engine says.
        PullCancelledError: ``cancelled`` said so.
        RegistryUnreachableError: the registry does not answer.
        ImageReferenceError: ``ref`` is not a valid image reference.
    """
    repository, tag = split_tag(ref)
    with translate_docker_errors(f"pulling {ref}"), _engine_registry_errors("pull", ref):
        raw = docker_client().api.pull(
            repository, tag=tag, stream=True, decode=False, auth_config=own_login(ref, auth_config),
        )
        try:
            log = consume_stream(json_stream(raw), on_event,
                                 lambda text, log: _pull_error(ref, text, log), cancelled)
        except PullCancelledError:
            _hang_up(raw)
            raise
    status = [line for line in log if line.startswith("Status:")]
    return status[-1] if status else f"Status: pulled {repository}:{tag}"


def _hang_up(stream: Any) -> None:
    """Close the HTTP response behind docker-py's stream generator, so the engine stops."""
    frame = getattr(stream, "gi_frame", None)
    response = frame.f_locals.get("response") if frame is not None else None
    with contextlib.suppress(Exception):
        if response is not None:
            response.close()
        stream.close()


def push(
    ref: str, auth_config: Mapping[str, str] | None = None, on_event: Event | None = None
) -> str:
    """Push ``ref`` to its registry, reading the whole stream; return the digest line.

    Raises:
        PushError, RegistryAuthError: the stream reported an error.
        RegistryUnreachableError: the registry does not answer.
        ImageReferenceError: ``ref`` is not a valid image reference.
    """
    ImageReference.parse(ref)
    repository, tag = split_tag(ref)
    with translate_docker_errors(f"pushing {ref}"), _engine_registry_errors("push", ref):
        stream = docker_client().api.push(
            repository, tag=tag, stream=True, decode=True,
            auth_config=own_login(ref, auth_config),
        )
        log = consume_stream(stream, on_event, lambda text, log: _push_error(ref, text, log))
    digests = [line for line in log if "digest:" in line]
    return digests[-1] if digests else f"pushed {repository}:{tag}"


def consume_stream(
    stream: Iterable[Mapping[str, Any]], on_event: Event | None,
    make_error: Callable[[str, str], Exception], cancelled: Callable[[], bool] | None = None,
) -> list[str]:
    """Read a pull/push stream to its end; raise ``make_error(text, log)`` on an error entry.

    The stream is drained even after an error so the engine's connection is left clean; the
    first error is the one raised. When ``cancelled()`` says yes, reading stops at once.

    Raises:
        PullCancelledError: ``cancelled()`` said yes.
    """
    log: list[str] = []
    errors: list[str] = []
    for event in stream:
        if on_event:
            on_event(event)
        if cancelled is not None and cancelled():
            raise PullCancelledError("the pull was cancelled; nothing more is downloaded.",
                                     pull_log="\n".join(log))
        if "error" in event:
            errors.append(str(event["error"]))
            log.append(f"error: {event['error']}")
        status = event.get("status")
        if status and not event.get("progressDetail"):
            log.append(f"{event['id']}: {status}" if event.get("id") else str(status))
    if errors:
        raise make_error(errors[0], "\n".join(log))
    return log


@contextlib.contextmanager
def _engine_registry_errors(action: str, ref: str) -> Iterator[None]:
    """Turn the engine's refusal of a pull/push (unreachable, unauthorised…) into our errors."""
    try:
        yield
    except docker.errors.APIError as e:
        raise engine_error(action, ref, str(e.explanation or e)) from e


def _pull_error(ref: str, text: str, log: str) -> Exception:
    return engine_error("pull", ref, text, log)


def _push_error(ref: str, text: str, log: str) -> Exception:
    return engine_error("push", ref, text, log)


def split_tag(ref: str) -> tuple[str, str]:
    """``repo[:tag]`` → ``(repo, tag)``, ``latest`` by default; a registry port is not a tag."""
    if "@" in ref:
        repository, digest = ref.split("@", 1)
        return repository, digest
    name, sep, tag = ref.rpartition(":")
    if sep and "/" not in tag:
        return name, tag
    return ref, "latest"
