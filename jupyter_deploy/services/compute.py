"""Compute targets of a workspace: where its services run, by name (``--ct NAME``).

The SDK keeps compute targets in the cloud workspace; here they are a small JSON file in the
workspace folder (``compute.json``) naming each attached target and its kind. ``local`` (this
machine's engine) is always there and ``swarm`` resolves even before it is attached (the target
itself then says how to turn swarm mode on); a Kubernetes target needs attaching, since its
kubeconfig context and namespace must be named. Every name resolves to one
:class:`~jupyter_deploy.targets.base.DeployTarget`, so the front ends only ever pass a name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from jupyter_deploy.config import get_config
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.services.workspace import Workspace
from jupyter_deploy.targets.base import DeployTarget
from jupyter_deploy.targets.local import LocalTarget

Log = Callable[[str], None]
KINDS = ("local", "swarm", "kubernetes")
FILE = "compute.json"


@dataclass(frozen=True)
class ComputeTargetSpec:
    """One attached target: its name, its kind and, for Kubernetes, context and namespace."""

    name: str
    kind: str
    context: str | None = None
    namespace: str | None = None
    registry: str | None = None  # Kubernetes: where images are pushed for the cluster to pull

    def describe(self) -> str:
        """One line for listings."""
        where = {"local": "this machine's Docker engine",
                 "swarm": "Docker Swarm (services behind a load balancer on 127.0.0.1)"}.get(
            self.kind, f"Kubernetes context {self.context or '(current)'}, namespace "
                       f"{self.namespace or 'default'}")
        return f"{self.name:<16} {self.kind:<11} {where}"


BUILT_IN = (ComputeTargetSpec("local", "local"),)


class ComputeTargets:
    """The compute targets attached to ``workspace``."""

    def __init__(self, workspace: Workspace | None = None) -> None:
        self.workspace = workspace or Workspace.from_config()
        self.path = self.workspace.root / FILE

    def list(self) -> list[ComputeTargetSpec]:
        """``local`` first, then every attached target."""
        return [*BUILT_IN, *self._attached().values()]

    def get(self, name: str) -> ComputeTargetSpec:
        """The target called ``name`` (``swarm`` is known before it is attached).

        Raises:
            ConfigurationError: no target of that name; the message lists those there are.
        """
        known = {t.name: t for t in self.list()}
        if name in known:
            return known[name]
        if name == "swarm":
            return ComputeTargetSpec("swarm", "swarm")
        raise ConfigurationError(
            f"no compute target named {name!r} in workspace {self.workspace.name!r}: there are "
            f"{', '.join(sorted(known))}; `jupyter-deploy compute attach swarm` (or "
            "`… attach NAME --kind kubernetes --context CTX`) adds one.")

    def attach(self, name: str, kind: str, context: str | None = None,
               namespace: str | None = None, log: Log = print, registry: str | None = None
               ) -> ComputeTargetSpec:
        """Attach a target; for Swarm, turn swarm mode on (one node, 127.0.0.1) when it is off.

        Raises:
            ConfigurationError: an unknown kind, a taken name, or a Kubernetes context that
            the kubeconfig does not have.
        """
        if kind not in KINDS or kind == "local":
            raise ConfigurationError(
                f"compute targets are of kind swarm or kubernetes, not {kind!r} (local is "
                "always there).")
        if name == "local":
            raise ConfigurationError("'local' is this machine's engine: choose another name.")
        spec = ComputeTargetSpec(name, kind, context, namespace or
                                 ("default" if kind == "kubernetes" else None), registry)
        if kind == "swarm":
            from jupyter_deploy.engine.swarm import init_swarm

            info = init_swarm(log)
            log(f"Swarm mode is active ({info.nodes} node(s)); services deployed with "
                f"--ct {name} run there.")
        else:
            _check_context(context)
        attached = self._attached()
        attached[name] = spec
        self._save(attached)
        return spec

    def detach(self, name: str) -> None:
        """Forget a target (its services keep running; swarm mode stays on).

        Raises:
            ConfigurationError: ``local``, or a name not attached.
        """
        attached = self._attached()
        if name not in attached:
            raise ConfigurationError(f"no attached compute target named {name!r}.")
        del attached[name]
        self._save(attached)

    def target(self, name: str | None, config: Any = None) -> DeployTarget:
        """The deploy target ``name`` resolves to, configured with ``config``.

        Raises:
            ConfigurationError: an unknown name, or a setting the target cannot honour.
        """
        return make_target(self.get(name or "local")).configured(config)

    def _attached(self) -> dict[str, ComputeTargetSpec]:
        if not self.path.is_file():
            return {}
        try:
            data = json.loads(self.path.read_text())
            return {n: ComputeTargetSpec(**v) for n, v in data.items()}
        except (ValueError, TypeError) as e:
            raise ConfigurationError(
                f"{self.path} is not a compute-target list ({e}): fix or delete it.") from e

    def _save(self, attached: dict[str, ComputeTargetSpec]) -> None:
        self.path.write_text(json.dumps({n: asdict(s) for n, s in attached.items()}, indent=2))


def make_target(spec: ComputeTargetSpec) -> DeployTarget:
    """The deploy target for an attached spec."""
    if spec.kind == "swarm":
        from jupyter_deploy.targets.swarm import SwarmTarget

        return SwarmTarget()
    if spec.kind == "kubernetes":
        from jupyter_deploy.targets.kubernetes.target import KubernetesTarget

        return KubernetesTarget(spec.context, spec.namespace or "default",
                                registry=spec.registry or get_config().registry_address)
    return LocalTarget()


def _check_context(context: str | None) -> None:
    """Refuse a kubeconfig context that does not exist (when the client can read kubeconfig)."""
    try:
        from kubernetes import config as kube_config
    except ImportError as e:
        raise ConfigurationError(
            "Kubernetes targets need the `kubernetes` package: pip install "
            "'jupyter-deploy[kubernetes]'.") from e
    try:
        # KUBECONFIG read now, not when the client was imported (it caches it at import)
        contexts, _ = kube_config.list_kube_config_contexts(
            config_file=os.environ.get("KUBECONFIG") or None)
    except Exception as e:  # the client raises several kinds for a missing or bad file
        raise ConfigurationError(
            f"no kubeconfig to read contexts from ({e}): set KUBECONFIG, or write "
            "~/.kube/config.") from e
    names = [c["name"] for c in contexts]
    if context is not None and context not in names:
        raise ConfigurationError(
            f"the kubeconfig has no context {context!r}: it has {', '.join(names) or 'none'}.")
