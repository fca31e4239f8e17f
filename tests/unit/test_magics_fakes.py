"""Recording fakes of the core for the magics and widget tests (no engine needed).

The magics and the panels call :mod:`jupyter_deploy.services.deployment`,
:mod:`jupyter_deploy.engine.images` and the registries' ``Catalog`` through module attributes, so
these stand-ins are installed with ``monkeypatch`` and record what the front ends asked for.
Services are real :class:`Deployment` objects over an in-memory deploy target, and every fake
keeps the signature of what it stands in for (checked by ``test_fakes_match_the_core``), so
production code never needs a fallback for a fake.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import ExecutionResult, InteractiveShell

import jupyter_deploy
from jupyter_deploy.config import LABEL_MANAGED
from jupyter_deploy.engine.containers import RunOptions
from jupyter_deploy.errors import DeployError, ServiceNotFoundError
from jupyter_deploy.scoring.client import ScoreResult
from jupyter_deploy.services import deployment as deployments
from jupyter_deploy.services.deployment import Deployment, Log, Progress
from jupyter_deploy.spec.environment import Environment
from jupyter_deploy.spec.package import ModelFiles, PackageSpec
from jupyter_deploy.spec.record import ServiceRecord
from jupyter_deploy.targets.base import DeployTarget


class FakeInstance:
    """What a :class:`FakeTarget` keeps for one service: its labels, state and the calls made."""

    def __init__(self, name: str, image: str, labels: dict[str, str], port: int) -> None:
        self.name, self.image, self.labels, self.port = name, image, labels, port
        self.state = "Healthy"
        self.calls: list[tuple[str, Any]] = []
        self.answer: Any = [1.5, 2.5]
        self.attrs = {"Config": {"Image": image}}


class FakeTarget:
    """An in-memory :class:`~jupyter_deploy.targets.base.DeployTarget`: the real
    :class:`Deployment` runs over it, so the front ends meet the real handle, not a look-alike.
    ``test_the_fakes_keep_the_real_signatures`` keeps it (and the fakes below) in step."""

    kind = "fake"
    safe_replace = False

    def __init__(self) -> None:
        self.instances: dict[str, FakeInstance] = {}
        self.config: Any = None

    def configured(self, config: Any) -> FakeTarget:
        self.config = config
        return self

    def find(self, name: str) -> FakeInstance | None:
        return self.instances.get(name)

    def list(self, label: str) -> list[FakeInstance]:
        return [i for i in self.instances.values() if label in i.labels]

    def labels(self, instance: FakeInstance) -> dict[str, str]:
        return instance.labels

    def check(self) -> None:
        pass

    def create(self, image: str, options: RunOptions, log: Any) -> FakeInstance:
        instance = FakeInstance(options.name, image, dict(options.labels), options.port or 8999)
        self.instances[options.name] = instance
        return instance

    def replace(self, instance: FakeInstance, image: str, options: RunOptions, log: Any,
                ready: Any) -> FakeInstance:
        instance.calls.append(("replace", image))
        return self.create(image, options, log)

    def remove(self, instance: FakeInstance, image: bool = False) -> None:
        instance.calls.append(("remove", image))
        instance.state = "Deleted"
        self.instances.pop(instance.name, None)

    def stop(self, instance: FakeInstance) -> None:
        instance.calls.append(("stop", None))
        instance.state = "Stopped"

    def start(self, instance: FakeInstance) -> None:
        instance.calls.append(("start", None))
        instance.state = "Healthy"

    def kill(self, instance: FakeInstance) -> None:
        instance.calls.append(("kill", None))
        instance.state = "Stopped"

    def restart(self, instance: FakeInstance) -> None:
        instance.calls.append(("restart", None))

    def keep_alive(self, instance: FakeInstance) -> None:
        pass

    def scale(self, instance: FakeInstance, replicas: int) -> None:
        instance.calls.append(("scale", replicas))

    def copy_files(self, instance: FakeInstance, folder: str, files: Mapping[str, Path]) -> None:
        instance.calls.append(("copy_files", sorted(files)))

    def status(self, instance: FakeInstance) -> str:
        return "running" if instance.state == "Healthy" else "exited"

    def state(self, instance: FakeInstance, health_path: str) -> str:
        return instance.state

    def replica_counts(self, instance: FakeInstance) -> tuple[int, int]:
        return (1 if instance.state == "Healthy" else 0), 1

    def get_keys(self, instance: FakeInstance) -> tuple[str, str]:
        instance.calls.append(("get_keys", None))
        return "primary-fake", "secondary-fake"

    def regen_key(self, instance: FakeInstance, key: str, set_key: str | None = None) -> None:
        instance.calls.append(("regen_key", key))

    def endpoint(self, instance: FakeInstance) -> str:
        return f"http://127.0.0.1:{instance.port}"

    def logs(self, instance: FakeInstance, lines: int | None = None) -> str:
        instance.calls.append(("logs", lines))
        return "init() done\nready"

    def log_position(self, instance: FakeInstance) -> str:
        return "2026-01-01T00:00:00Z"

    def wait_until_ready(self, instance: FakeInstance, health_path: str, timeout: float | None,
                         log: Any, after: str) -> None:
        if log is not None:
            log(f"{instance.name} answers at {self.endpoint(instance)}{health_path}")


class FakeService(Deployment):
    """A real :class:`Deployment` on a :class:`FakeTarget`; only ``score`` skips the HTTP call
    (it records the data it was given and answers ``[1.5, 2.5]``)."""

    def __init__(self, name: str, instance: Any = None, target: Any = None, *, port: int = 8999,
                 package: PackageSpec | None = None) -> None:
        target = target or FakeTarget()
        if instance is None:
            record = ServiceRecord(name, "jupyter-deploy/fake:1", package)
            options = RunOptions(name=name, port=port,
                                 labels={LABEL_MANAGED: "true", **record.to_labels()})
            instance = target.create("jupyter-deploy/fake:1", options, print)
        super().__init__(name, instance, target)

    @property
    def calls(self) -> list[tuple[str, Any]]:
        """What the front ends asked of this service, in order."""
        calls: list[tuple[str, Any]] = self.instance.calls
        return calls

    def score(self, data: Any, batch_size: int | None = None, concurrency: int = 4,
              on_progress: Progress | None = None, protocol: str = "azureml") -> ScoreResult:
        self.calls.append(("score", data))
        return ScoreResult(self.instance.answer, 200, 0.0123)


@dataclass
class FakeCore:
    """The deployments module's entry points, recording their calls."""

    services: dict[str, FakeService] = field(default_factory=dict)
    deploy_calls: list[dict[str, Any]] = field(default_factory=list)
    fail_with: DeployError | None = None

    def deploy(
        self, name: str, entry_script: str | Path, models: Sequence[ModelFiles | str | Path] = (),
        environment: Environment | None = None, port: int | None = None,
        source_dir: str | Path | None = None, labels: Mapping[str, str] | None = None,
        log: Log = print, target: DeployTarget | str | None = None,
        deployment_config: Any = None, model: Any = None, **run_options: Any,
    ) -> Deployment:
        self.deploy_calls.append({"name": name, "entry_script": entry_script, "models": models,
                                  "environment": environment, "port": port,
                                  "source_dir": source_dir, "labels": labels,
                                  "target": target, "deployment_config": deployment_config})
        if self.fail_with is not None:
            raise self.fail_with
        log("Step 1/2 : FROM jupyter-deploy/python:3.11")
        log(f"Service {name!r} is healthy")
        self.services[name] = FakeService(name, port=port or 8999,
                                          target=target if isinstance(target, FakeTarget) else None)
        return self.services[name]

    def collection(self) -> type:
        core = self

        class Collection:
            def __init__(self, target: DeployTarget | None = None) -> None:
                pass

            def list(self, all: bool = True) -> list[Deployment]:
                return list(core.services.values())

            def get(self, name: str) -> Deployment:
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


# -- the fakes keep the core's signatures ---------------------------------------------------------


def _public(cls: type) -> dict[str, Any]:
    return {n: v for n, v in vars(cls).items() if not n.startswith("_")}


def _parameters(function: Any) -> list[tuple[str, Any, Any]]:
    """Names, kinds and defaults (the instance types of targets differ by design)."""
    import inspect

    return [(p.name, p.kind, p.default)
            for p in inspect.signature(function).parameters.values()]


def test_fakes_match_the_core() -> None:
    import inspect

    from jupyter_deploy.targets.local import LocalTarget
    from jupyter_deploy.targets.swarm import SwarmTarget

    # The fake target and the real ones all have every verb of the interface, alike
    for name, spec in _public(DeployTarget).items():
        if callable(spec):
            for target in (FakeTarget, LocalTarget, SwarmTarget):
                assert _parameters(getattr(target, name)) == _parameters(spec), (target, name)
    # FakeService overrides only score(), with the real signature
    overridden = set(_public(FakeService)) - {"calls"}
    assert overridden == {"score"}
    assert inspect.signature(FakeService.score) == inspect.signature(Deployment.score)
    # FakeCore.deploy takes what deployments.deploy takes
    fake_deploy = inspect.signature(FakeCore.deploy).parameters
    assert list(fake_deploy)[1:] == list(inspect.signature(deployments.deploy).parameters)
    # The collection stand-in answers the same calls as the real one
    collection = FakeCore().collection()
    for name in ("list", "get"):
        real = inspect.signature(getattr(deployments.DeploymentCollection, name))
        assert inspect.signature(getattr(collection, name)) == real, name
