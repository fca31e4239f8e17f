"""Recording fakes of the core for the magics and widget tests (no engine needed).

The magics and the panels call :mod:`jupyter_deploy.services.deployment`,
:mod:`jupyter_deploy.engine.images` and the registries' ``Catalog`` through module attributes, so
these stand-ins are installed with ``monkeypatch`` and record what the front ends asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import ExecutionResult, InteractiveShell

import jupyter_deploy
from jupyter_deploy.errors import DeployError, ServiceNotFoundError
from jupyter_deploy.scoring.client import ScoreResult
from jupyter_deploy.services import deployment as deployments


@dataclass
class FakeService:
    """Stands in for a Deployment: records what it was asked."""

    name: str
    answer: Any = field(default_factory=lambda: [1.5, 2.5])
    calls: list[tuple[str, Any]] = field(default_factory=list)
    port: int = 8999
    image: str = "jupyter-deploy/fake:1"
    state: str = "Healthy"
    status: str = "running"

    @property
    def scoring_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/score"

    def score(self, data: Any) -> ScoreResult:
        self.calls.append(("score", data))
        return ScoreResult(self.answer, 200, 0.0123)

    def logs(self, lines: int | None = None) -> str:
        self.calls.append(("logs", lines))
        return "init() done\nready"

    def stop(self) -> None:
        self.calls.append(("stop", None))
        self.state = "Failed"

    def remove(self, image: bool = False) -> None:
        self.calls.append(("remove", image))

    def reload(self, entry_script: str | None = None, source_dir: str | None = None) -> None:
        self.calls.append(("reload", entry_script))


@dataclass
class FakeCore:
    """The deployments module's entry points, recording their calls."""

    services: dict[str, FakeService] = field(default_factory=dict)
    deploy_calls: list[dict[str, Any]] = field(default_factory=list)
    fail_with: DeployError | None = None

    def deploy(self, name: str, entry_script: Any, models: Any = (), environment: Any = None,
               port: int | None = None, log: Any = print, **kwargs: Any) -> FakeService:
        self.deploy_calls.append({"name": name, "entry_script": entry_script, "models": models,
                                  "environment": environment, "port": port,
                                  "source_dir": kwargs.get("source_dir")})
        if self.fail_with is not None:
            raise self.fail_with
        log("Step 1/2 : FROM jupyter-deploy/python:3.11")
        log(f"Service {name!r} is healthy")
        self.services[name] = FakeService(name)
        return self.services[name]

    def collection(self) -> Any:
        core = self

        class Collection:
            def list(self, all: bool = True) -> list[FakeService]:
                return list(core.services.values())

            def get(self, name: str) -> FakeService:
                if name not in core.services:
                    raise ServiceNotFoundError(f"no service named {name!r}: see `%deploy_ls`")
                return core.services[name]

        return Collection


class FakeCatalog:
    """The registries layer's Catalog, answering from memory."""

    def __init__(self, registries: Any = None) -> None:
        pass

    def repositories(self, address: str) -> list[str]:
        return ["base/custom", "package"]

    def tags(self, address: str, repository: str) -> list[dict[str, Any]]:
        return [{"repository": repository, "tag": "1", "size": 42, "created": "today"}]

    def local_images(self) -> list[dict[str, Any]]:
        return [{"id": "sha256:0123456789abcdef", "tags": ["jupyter-deploy/svc:1", "other:1"],
                 "size": 2e8, "labels": {}}]

    def registries(self) -> list[dict[str, Any]]:
        return [{"address": "127.0.0.1:5000", "reachable": True, "error": None}]




def install_fake_core(monkeypatch: pytest.MonkeyPatch) -> FakeCore:
    """Replace the deployments entry points with a recording :class:`FakeCore`."""
    core = FakeCore()
    monkeypatch.setattr(deployments, "deploy", core.deploy)
    monkeypatch.setattr(deployments, "DeploymentCollection", core.collection())
    return core


def shell_with_extension() -> Iterator[InteractiveShell]:
    """An IPython shell with the extension freshly loaded; its namespace is reset afterwards."""
    shell = InteractiveShell.instance()
    jupyter_deploy.load_ipython_extension(shell)
    yield shell
    shell.user_ns.clear()
    shell.init_user_ns()


def run(shell: InteractiveShell, code: str) -> ExecutionResult:
    return shell.run_cell(code, store_history=False)


def value_of(shell: InteractiveShell, code: str) -> Any:
    result = run(shell, code)
    result.raise_error()
    return result.result


def usage_error(shell: InteractiveShell, code: str, capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``code``, expect a UsageError with no traceback printed; return its message."""
    result = run(shell, code)
    assert isinstance(result.error_in_exec, UsageError), result.error_in_exec
    printed = capsys.readouterr()
    assert "Traceback" not in printed.out + printed.err
    return str(result.error_in_exec)


SKLEARN_YAML = """\
base_image: jupyter-deploy/python:3.11
pip:
  - scikit-learn==1.5.2
env_vars:
  MODE: fast
"""
