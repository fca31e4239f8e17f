"""Parity check: score the same sample in this process and through the container, and compare.

"It works in my notebook but not in the container" is the classic deployment bug (another
library version, a missing file in the model folder, a different Python). Running the user's own
``init()``/``run()`` in the kernel — through the same loader the in-image server uses, with
``AZUREML_MODEL_DIR`` laid out as in the image — and diffing the answers shows it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_deploy.errors import EntryScriptError, ScoringError
from jupyter_deploy.scoring import protocols
from jupyter_deploy.scoring.protocols import to_payload
from jupyter_deploy.server import protocol
from jupyter_deploy.server.aml import Headers
from jupyter_deploy.server.entry import Request, ScriptError, UserScript
from jupyter_deploy.spec.package import PackageSpec

#: Scores data through the service (``Deployment.score``): anything with a ``.value``; called
#: with ``protocol=`` when a protocol other than ``/score``'s is checked.
Score = Callable[..., Any]


@dataclass(frozen=True)
class ParityReport:
    """Both answers and where they differ (empty ``differences`` means they agree)."""

    in_process: Any
    container: Any
    differences: tuple[str, ...] = field(default_factory=tuple)

    @property
    def equal(self) -> bool:
        """Whether the answers agree within the tolerance."""
        return not self.differences

    def __str__(self) -> str:
        if self.equal:
            return "in-process and container answers agree"
        return "answers differ:\n" + "\n".join(f"  {d}" for d in self.differences)

    def _repr_html_(self) -> str:
        verdict = "✅ agree" if self.equal else "❌ differ"
        items = "".join(f"<li><code>{d}</code></li>" for d in self.differences[:50])
        return f"<b>Parity: {verdict}</b><ul>{items}</ul>"


def run_in_process(spec: PackageSpec, data: Any, through: str = protocols.AZUREML) -> Any:
    """Load ``spec``'s entry script here, call ``init()`` then ``run()`` on ``data``.

    With ``through="v2"`` or ``"mlflow"`` the request of that protocol goes through the
    server's own protocol layer, in this process, so ``run()`` gets what it gets in the service.

    Raises:
        EntryScriptError: the script cannot be loaded or its ``init()`` raised.
        ScoringError: the protocol layer refused the request or ``run()`` failed in it.
    """
    protocols.check(through)
    with _model_dir(spec):
        script = UserScript(str(spec.entry_script.resolve()))
        try:
            script.load()
            script.init()
        except (ScriptError, Exception) as e:
            raise EntryScriptError(f"in-process load of {spec.entry_script} failed: {e}") from e
        if through != protocols.AZUREML:
            return _through_protocol(script, spec, data, through)
        request = Request("POST", protocol.SCORE_PATH, b"",
                          Headers([("Content-Type", "application/json")]),
                          to_payload(data).encode())
        answer = script.run(**script.arguments(request))
    return json.loads(json.dumps(answer, default=_plain))


def _through_protocol(script: UserScript, spec: PackageSpec, data: Any, through: str) -> Any:
    """``data`` scored by ``script`` through the in-image server's handler of ``through``.

    In a thread of its own: off the main thread the server sets no SIGALRM handler or timer,
    so the kernel's signals are left as they are.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_answer_here, script, spec, data, through).result()


def _answer_here(script: UserScript, spec: PackageSpec, data: Any, through: str) -> Any:
    from jupyter_deploy.server.app import ScoringApp
    from jupyter_deploy.server.settings import Settings

    name = "parity"
    app = ScoringApp(script, Settings(script.path, str(spec.entry_script.resolve().parent),
                                      model_name=name))
    wire = protocols.encode(through, data, name)
    answer = app.respond(Request("POST", wire.path, b"", Headers(list(wire.headers.items())),
                                 wire.body))
    status, body, headers = answer if isinstance(answer, tuple) else asyncio.run(_wait(answer))
    if not isinstance(body, bytes):
        raise ScoringError(f"run() answered {through} with a streamed response, which only "
                           "/score can send.")
    found = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in headers}
    return protocols.decode(through, status, body, found)


async def _wait(answer: Awaitable[Any]) -> Any:
    return await answer


def parity_check(spec: PackageSpec, score: Score, data: Any, rel_tol: float = 1e-6,
                 protocol: str = protocols.AZUREML) -> ParityReport:
    """Score ``data`` in this process with ``spec``'s script and through ``score``; diff them.

    Takes the package and a scoring function rather than a deployment, so this module sits
    below the services layer and any target's service can be checked the same way. With
    ``protocol`` (``"v2"``, ``"mlflow"``), ``score`` is called with ``protocol=`` (as
    ``Deployment.score`` takes it) and the in-process side goes through the same protocol.

    Raises:
        EntryScriptError, ScoringError: either side failed.
    """
    local = run_in_process(spec, data, protocol)
    remote = (score(data) if protocol == protocols.AZUREML
              else score(data, protocol=protocol)).value
    return ParityReport(local, remote, tuple(compare(local, remote, rel_tol)))


def compare(a: Any, b: Any, rel_tol: float = 1e-6, path: str = "$") -> Iterator[str]:
    """Yield a line per difference between two JSON values (numbers within ``rel_tol``)."""
    if isinstance(a, bool | str | type(None)) or isinstance(b, bool | str | type(None)):
        if a != b:
            yield f"{path}: {a!r} != {b!r}"
    elif isinstance(a, int | float) and isinstance(b, int | float):
        if not math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-12):
            yield f"{path}: {a!r} != {b!r}"
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield f"{path}: {len(a)} items != {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            yield from compare(x, y, rel_tol, f"{path}[{i}]")
    elif isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                yield f"{path}.{key}: only {'in-process' if key in a else 'in the container'}"
            else:
                yield from compare(a[key], b[key], rel_tol, f"{path}.{key}")
    else:
        yield f"{path}: {type(a).__name__} != {type(b).__name__}"


@contextlib.contextmanager
def _model_dir(spec: PackageSpec) -> Iterator[None]:
    """Lay the models out as in the image and point ``AZUREML_MODEL_DIR`` at them."""
    before = os.environ.get(protocol.ENV_MODEL_DIR)
    with tempfile.TemporaryDirectory(prefix="jd-parity-") as tmp:
        root = Path(tmp)
        for model in spec.models:
            target = root / model.name / str(model.version)
            if model.path.is_dir():
                shutil.copytree(model.path, target)
            else:
                target.mkdir(parents=True)
                shutil.copyfile(model.path, target / model.path.name)
        single = len(spec.models) == 1
        os.environ[protocol.ENV_MODEL_DIR] = str(
            root / spec.models[0].name / str(spec.models[0].version) if single else root)
        try:
            yield
        finally:
            if before is None:
                os.environ.pop(protocol.ENV_MODEL_DIR, None)
            else:
                os.environ[protocol.ENV_MODEL_DIR] = before


def _plain(value: Any) -> Any:
    for attr in ("tolist", "item"):
        if hasattr(value, attr):
            return getattr(value, attr)()
    return str(value)
