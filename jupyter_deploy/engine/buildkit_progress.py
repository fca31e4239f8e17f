"""BuildKit's status messages read as the classic builder's log lines.

The engine streams BuildKit's progress as ``moby.buildkit.trace`` messages: a base64
``StatusResponse`` protobuf (vertices with their names, start and end times and cache state, and
the logs of the processes they run). Everything downstream — the build log on errors, the
``Step N/M`` progress bars, ``cached_steps`` — reads the classic builder's lines, so each
numbered vertex becomes ``Step N/M : INSTRUCTION``, its output follows line by line, and it ends
with ``---> Using cache`` or the seconds it took. Only the few protobuf fields used are decoded,
with a reader of the wire format in a dozen lines: no protobuf package is needed.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

Log = Callable[[str], None]
#: "[2/5] RUN …" or "[dependencies 2/3] RUN …": BuildKit's numbering of a stage's steps.
_NUMBERED = re.compile(r"^\[(?:[^\]]* )?(\d+)/(\d+)\] (.*)$", re.DOTALL)
# StatusResponse fields, and those of its Vertex and VertexLog messages.
_VERTEX, _LOG = 1, 3
_DIGEST, _NAME, _CACHED, _STARTED, _COMPLETED, _ERROR = 1, 3, 4, 5, 6, 7
_LOG_VERTEX, _LOG_MESSAGE = 1, 4


@dataclass(frozen=True)
class Step:
    """One BuildKit step: its name, how long it ran, and whether it came from the cache."""

    name: str
    seconds: float
    cached: bool


@dataclass
class _Vertex:
    name: str
    started: float | None = None
    announced: bool = False
    done: bool = False
    partial: bytes = b""


class Progress:
    """Collects the log lines (and step timings) of one build from its status messages."""

    def __init__(self, log: Log | None = None) -> None:
        self.log = log
        self.lines: list[str] = []
        self.steps: list[Step] = []
        self._vertices: dict[str, _Vertex] = {}

    def add(self, line: str) -> None:
        """Keep ``line`` and pass it on to the log."""
        self.lines.append(line)
        if self.log and line.strip():
            self.log(line)

    def feed(self, aux: str) -> None:
        """Read one ``moby.buildkit.trace`` message (base64 protobuf)."""
        for number, value in _fields(base64.b64decode(aux)):
            if number == _VERTEX and isinstance(value, bytes):
                self._vertex(dict(_fields(value)))
            elif number == _LOG and isinstance(value, bytes):
                fields = dict(_fields(value))
                self._output(_text(fields.get(_LOG_VERTEX)), _bytes(fields.get(_LOG_MESSAGE)))

    def _vertex(self, fields: dict[int, int | bytes]) -> None:
        vertex = self._vertices.setdefault(_text(fields.get(_DIGEST)),
                                           _Vertex(_text(fields.get(_NAME))))
        started, completed = _time(fields.get(_STARTED)), _time(fields.get(_COMPLETED))
        cached = bool(fields.get(_CACHED))
        if started is not None:
            vertex.started = vertex.started or started
        if not vertex.announced and (started is not None or cached or completed is not None):
            vertex.announced = True
            self.add(_heading(vertex.name))
        if completed is not None and not vertex.done:
            vertex.done = True
            self._finish(vertex, completed, cached, _text(fields.get(_ERROR)))

    def _finish(self, vertex: _Vertex, completed: float, cached: bool, error: str) -> None:
        if vertex.partial:
            self.add(vertex.partial.decode(errors="replace"))
            vertex.partial = b""
        seconds = max(0.0, completed - (vertex.started or completed))
        if error:
            self.add(f" ---> {error}")
        elif cached:
            self.add(" ---> Using cache")
        elif _NUMBERED.match(vertex.name) or vertex.name.startswith("exporting"):
            self.add(f" ---> done in {seconds:.1f} s")
        self.steps.append(Step(vertex.name, seconds, cached))

    def _output(self, digest: str, message: bytes) -> None:
        vertex = self._vertices.setdefault(digest, _Vertex(""))
        *complete, vertex.partial = (vertex.partial + message).split(b"\n")
        for line in complete:
            self.add(line.decode(errors="replace").rstrip("\r"))


def _heading(name: str) -> str:
    match = _NUMBERED.match(name)
    return f"Step {match[1]}/{match[2]} : {match[3]}" if match else name


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) pairs of a protobuf message: varints as int, the rest as bytes."""
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        wire = key & 7
        if wire == 0:
            value, at = _varint(data, at)
            yield key >> 3, value
            continue
        if wire == 2:
            size, at = _varint(data, at)
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield key >> 3, data[at:at + size]
        at += size


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def _time(value: int | bytes | None) -> float | None:
    """A ``google.protobuf.Timestamp`` as seconds since the epoch."""
    if not isinstance(value, bytes):
        return None
    fields = dict(_fields(value))
    seconds, nanos = fields.get(1, 0), fields.get(2, 0)
    return float(seconds if isinstance(seconds, int) else 0) + (
        nanos / 1e9 if isinstance(nanos, int) else 0.0)


def _text(value: int | bytes | None) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else ""


def _bytes(value: int | bytes | None) -> bytes:
    return value if isinstance(value, bytes) else b""
