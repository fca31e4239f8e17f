"""What the SDK's AKS and ACI deployment configurations share: a mutable, SDK-shaped object that
turns into the one frozen :class:`~jupyter_deploy.spec.cluster.ClusterConfig` the targets read.

SDK code sets attributes after creating a configuration (``config.num_replicas = 3``), so the
``ClusterConfig`` is made afresh — and checked — every time it is asked for. Settings only Azure can
honour (Application Insights, SSL certificates, virtual networks…) are accepted while off and
refused by name when on: running without them silently would be worse than saying so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.spec.cluster import MASK, ClusterConfig


class ClusterDeploymentConfiguration:
    """Base of ``AksServiceDeploymentConfiguration`` and ``AciServiceDeploymentConfiguration``."""

    #: Attributes whose truthy values only Azure can honour.
    _azure_only: tuple[str, ...] = ()
    _summary: tuple[tuple[str, str], ...] = ()
    primary_key: str | None
    secondary_key: str | None
    tags: Mapping[str, str] | None

    def _cluster_config(self) -> ClusterConfig:
        raise NotImplementedError

    @property
    def cluster_config(self) -> ClusterConfig:
        """The checked, frozen configuration the cluster targets deploy with.

        Raises:
            ConfigurationError: a value the SDK refuses, or a setting only Azure can honour.
        """
        used = [name for name in self._azure_only if getattr(self, name, None)]
        if used:
            raise ConfigurationError(
                f"{', '.join(used)}: Azure-only setting{'s' if len(used) > 1 else ''} that "
                "jupyter_deploy cannot honour; leave "
                f"{'them' if len(used) > 1 else 'it'} unset")
        return self._cluster_config()

    def validate_configuration(self) -> None:
        """Check the values as the SDK does (all problems in one message).

        Raises:
            ConfigurationError: what is wrong, named with the SDK's parameter names.
        """
        self.cluster_config  # noqa: B018 - building it is the check

    def print_deploy_configuration(self) -> None:
        """Print the resources asked for, the way the SDK does."""
        parts = [label.format(getattr(self, name)) for name, label in self._summary
                 if getattr(self, name, None)]
        if parts:
            print(", ".join(parts))

    def to_json(self) -> dict[str, Any]:
        """The deployment-config JSON (``--dc``) of this configuration, keys masked."""
        return self.cluster_config.to_json()

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={MASK if k.endswith('_key') and v else v!r}"
                          for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({shown})"

    def _tags(self) -> tuple[tuple[str, str], ...]:
        if self.tags is None:
            return ()
        if not isinstance(self.tags, Mapping):
            raise ConfigurationError(f"tags must be a dictionary, got {self.tags!r}")
        return tuple(self.tags.items())


def given(**values: Any) -> dict[str, Any]:
    """The keyword arguments that were given (None means "the default")."""
    return {k: v for k, v in values.items() if v is not None}
