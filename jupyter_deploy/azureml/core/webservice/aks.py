"""``azureml.core.webservice.aks``: ``AksWebservice`` and its deployment configuration.

The parameters, their order, their defaults and their validation are the SDK's
(``AksWebservice.deploy_configuration``), including its rule that leaving out ``num_replicas``
turns the autoscaler on. The configuration carries a
:class:`~jupyter_deploy.spec.cluster.ClusterConfig`, which is what a cluster target (Swarm,
Kubernetes) deploys with; no Azure is involved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jupyter_deploy.azureml.core.webservice.cluster_configuration import (
    ClusterDeploymentConfiguration,
    given,
)
from jupyter_deploy.azureml.core.webservice.webservice import Webservice
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.spec.cluster import ClusterConfig, LivenessProbe
from jupyter_deploy.spec.cluster_settings import SDK_NAMES, resolve_autoscale


class AksServiceDeploymentConfiguration(ClusterDeploymentConfiguration):
    """How to run a service on a cluster, with the SDK's AKS parameters as attributes.

    Create it with :meth:`AksWebservice.deploy_configuration`. Every attribute may be changed
    afterwards; :attr:`cluster_config` reads them afresh.

    Raises:
        ConfigurationError: on creation, what the SDK refuses (all problems at once).
    """

    _azure_only = ("collect_model_data", "enable_app_insights", "token_auth_enabled",
                   "properties")
    _summary = (("cpu_cores", "CPU requirement: {}"), ("gpu_cores", "GPU requirement: {}"),
                ("memory_gb", "Memory requirement: {}GB"),
                ("num_replicas", "Number of replica: {}"))

    def __init__(
        self, autoscale_enabled: bool | None, autoscale_min_replicas: int | None,
        autoscale_max_replicas: int | None, autoscale_refresh_seconds: int | None,
        autoscale_target_utilization: int | None, collect_model_data: bool | None,
        auth_enabled: bool | None, cpu_cores: float | None, memory_gb: float | None,
        enable_app_insights: bool | None, scoring_timeout_ms: int | None,
        replica_max_concurrent_requests: int | None, max_request_wait_time: int | None,
        num_replicas: int | None, primary_key: str | None, secondary_key: str | None,
        tags: Mapping[str, str] | None, properties: Mapping[str, str] | None,
        description: str | None, gpu_cores: int | None, period_seconds: int | None,
        initial_delay_seconds: int | None, timeout_seconds: int | None,
        success_threshold: int | None, failure_threshold: int | None, namespace: str | None,
        token_auth_enabled: bool | None, compute_target_name: str | None,
        cpu_cores_limit: float | None, memory_gb_limit: float | None,
        blobfuse_enabled: bool | None = None,
    ) -> None:
        self.autoscale_enabled = autoscale_enabled
        self.autoscale_min_replicas = autoscale_min_replicas
        self.autoscale_max_replicas = autoscale_max_replicas
        self.autoscale_refresh_seconds = autoscale_refresh_seconds
        self.autoscale_target_utilization = autoscale_target_utilization
        self.collect_model_data = collect_model_data
        self.auth_enabled = auth_enabled
        self.cpu_cores = cpu_cores
        self.cpu_cores_limit = cpu_cores_limit
        self.memory_gb = memory_gb
        self.memory_gb_limit = memory_gb_limit
        self.gpu_cores = gpu_cores
        self.enable_app_insights = enable_app_insights
        self.scoring_timeout_ms = scoring_timeout_ms
        self.replica_max_concurrent_requests = replica_max_concurrent_requests
        self.max_request_wait_time = max_request_wait_time
        self.num_replicas = num_replicas
        self.primary_key = primary_key
        self.secondary_key = secondary_key
        self.tags = tags
        self.properties = properties
        self.description = description
        self.period_seconds = period_seconds
        self.initial_delay_seconds = initial_delay_seconds
        self.timeout_seconds = timeout_seconds
        self.success_threshold = success_threshold
        self.failure_threshold = failure_threshold
        self.namespace = namespace
        self.token_auth_enabled = token_auth_enabled
        self.compute_target_name = compute_target_name
        self.blobfuse_enabled = blobfuse_enabled
        self.validate_configuration()

    def _cluster_config(self) -> ClusterConfig:
        if self.autoscale_enabled is not None and not isinstance(self.autoscale_enabled, bool):
            raise ConfigurationError(
                f"autoscale_enabled must be True, False or None, got {self.autoscale_enabled!r}")
        autoscale, explicit = resolve_autoscale(
            "aks", self.autoscale_enabled, self.num_replicas,
            {"min_replicas": self.autoscale_min_replicas,
             "max_replicas": self.autoscale_max_replicas,
             "target_utilization": self.autoscale_target_utilization,
             "refresh_seconds": self.autoscale_refresh_seconds}, SDK_NAMES)
        liveness = LivenessProbe(**given(
            initial_delay_seconds=self.initial_delay_seconds, period_seconds=self.period_seconds,
            timeout_seconds=self.timeout_seconds, failure_threshold=self.failure_threshold,
            success_threshold=self.success_threshold))
        return ClusterConfig(
            compute_type="aks", replicas=self.num_replicas, autoscale=autoscale,
            autoscale_explicit=explicit, liveness=liveness, tags=self._tags(),
            primary_key=self.primary_key, secondary_key=self.secondary_key,
            description=self.description, namespace=self.namespace,
            cpu_cores_limit=self.cpu_cores_limit, memory_gb_limit=self.memory_gb_limit,
            **given(cpu_cores=self.cpu_cores, memory_gb=self.memory_gb, gpu_cores=self.gpu_cores,
                    auth_enabled=self.auth_enabled, scoring_timeout_ms=self.scoring_timeout_ms,
                    max_concurrent_requests_per_container=self.replica_max_concurrent_requests,
                    max_queue_wait_ms=self.max_request_wait_time))


class AksWebservice(Webservice):
    """A service deployed with an AKS deployment configuration (on a cluster target here)."""

    @staticmethod
    def deploy_configuration(
        autoscale_enabled: bool | None = None, autoscale_min_replicas: int | None = None,
        autoscale_max_replicas: int | None = None, autoscale_refresh_seconds: int | None = None,
        autoscale_target_utilization: int | None = None, collect_model_data: bool | None = None,
        auth_enabled: bool | None = None, cpu_cores: float | None = None,
        memory_gb: float | None = None, enable_app_insights: bool | None = None,
        scoring_timeout_ms: int | None = None, replica_max_concurrent_requests: int | None = None,
        max_request_wait_time: int | None = None, num_replicas: int | None = None,
        primary_key: str | None = None, secondary_key: str | None = None,
        tags: Mapping[str, str] | None = None, properties: Mapping[str, str] | None = None,
        description: str | None = None, gpu_cores: int | None = None,
        period_seconds: int | None = None, initial_delay_seconds: int | None = None,
        timeout_seconds: int | None = None, success_threshold: int | None = None,
        failure_threshold: int | None = None, namespace: str | None = None,
        token_auth_enabled: bool | None = None, compute_target_name: str | None = None,
        cpu_cores_limit: float | None = None, memory_gb_limit: float | None = None,
        blobfuse_enabled: bool | None = None,
    ) -> AksServiceDeploymentConfiguration:
        """A configuration for ``Model.deploy(…, deployment_target=…)``, with the SDK's defaults.

        Autoscale is on (1 to 10 replicas, 70 % CPU) unless ``num_replicas`` is given; auth is on;
        0.1 CPU and 0.5 GB; liveness probe after 310 s, every 10 s, 2 s timeout, 3 failures.

        Raises:
            ConfigurationError: the SDK's validation errors (autoscale with ``num_replicas``,
                min > max, values not above zero, limits below requests, …), a key with auth
                off, or a setting only Azure can honour.
        """
        args: dict[str, Any] = dict(locals())
        return AksServiceDeploymentConfiguration(**args)
