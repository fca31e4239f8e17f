"""``azureml.core.webservice.aci``: ``AciWebservice`` and its deployment configuration.

The SDK's container-instance configuration: one replica, 0.1 CPU and 0.5 GB by default, auth off
by default. Its Azure-only parameters (region, SSL certificates, DNS label, customer-managed keys,
virtual network) are accepted while unset and refused by name when set. The configuration carries
a :class:`~jupyter_deploy.spec.cluster.ClusterConfig` a cluster target deploys with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jupyter_deploy.azureml.core.webservice.cluster_configuration import (
    ClusterDeploymentConfiguration,
    given,
)
from jupyter_deploy.azureml.core.webservice.webservice import Webservice
from jupyter_deploy.spec.cluster import ClusterConfig


class AciServiceDeploymentConfiguration(ClusterDeploymentConfiguration):
    """How to run a single-replica service, with the SDK's ACI parameters as attributes.

    Raises:
        ConfigurationError: on creation, what the SDK refuses.
    """

    _azure_only = ("properties", "location", "ssl_enabled", "enable_app_insights",
                   "ssl_cert_pem_file", "ssl_key_pem_file", "ssl_cname", "dns_name_label",
                   "collect_model_data", "cmk_vault_base_url", "cmk_key_name", "cmk_key_version",
                   "vnet_name", "subnet_name")
    _summary = (("cpu_cores", "CPU requirement: {}"), ("memory_gb", "Memory requirement: {}GB"))

    def __init__(
        self, cpu_cores: float | None = None, memory_gb: float | None = None,
        tags: Mapping[str, str] | None = None, properties: Mapping[str, str] | None = None,
        description: str | None = None, location: str | None = None,
        auth_enabled: bool | None = None, ssl_enabled: bool | None = None,
        enable_app_insights: bool | None = None, ssl_cert_pem_file: str | None = None,
        ssl_key_pem_file: str | None = None, ssl_cname: str | None = None,
        dns_name_label: str | None = None, primary_key: str | None = None,
        secondary_key: str | None = None, collect_model_data: bool | None = None,
        cmk_vault_base_url: str | None = None, cmk_key_name: str | None = None,
        cmk_key_version: str | None = None, vnet_name: str | None = None,
        subnet_name: str | None = None,
    ) -> None:
        self.cpu_cores = cpu_cores
        self.memory_gb = memory_gb
        self.tags = tags
        self.properties = properties
        self.description = description
        self.location = location
        self.auth_enabled = auth_enabled
        self.ssl_enabled = ssl_enabled
        self.enable_app_insights = enable_app_insights
        self.ssl_cert_pem_file = ssl_cert_pem_file
        self.ssl_key_pem_file = ssl_key_pem_file
        self.ssl_cname = ssl_cname
        self.dns_name_label = dns_name_label
        self.primary_key = primary_key
        self.secondary_key = secondary_key
        self.collect_model_data = collect_model_data
        self.cmk_vault_base_url = cmk_vault_base_url
        self.cmk_key_name = cmk_key_name
        self.cmk_key_version = cmk_key_version
        self.vnet_name = vnet_name
        self.subnet_name = subnet_name
        self.validate_configuration()

    def _cluster_config(self) -> ClusterConfig:
        return ClusterConfig(
            compute_type="aci",
            auth_enabled=False if self.auth_enabled is None else self.auth_enabled,
            primary_key=self.primary_key, secondary_key=self.secondary_key, tags=self._tags(),
            description=self.description,
            **given(cpu_cores=self.cpu_cores, memory_gb=self.memory_gb))


class AciWebservice(Webservice):
    """A service deployed with an ACI deployment configuration (on a cluster target here)."""

    @staticmethod
    def deploy_configuration(
        cpu_cores: float | None = None, memory_gb: float | None = None,
        tags: Mapping[str, str] | None = None, properties: Mapping[str, str] | None = None,
        description: str | None = None, location: str | None = None,
        auth_enabled: bool | None = None, ssl_enabled: bool | None = None,
        enable_app_insights: bool | None = None, ssl_cert_pem_file: str | None = None,
        ssl_key_pem_file: str | None = None, ssl_cname: str | None = None,
        dns_name_label: str | None = None, primary_key: str | None = None,
        secondary_key: str | None = None, collect_model_data: bool | None = None,
        cmk_vault_base_url: str | None = None, cmk_key_name: str | None = None,
        cmk_key_version: str | None = None, vnet_name: str | None = None,
        subnet_name: str | None = None,
    ) -> AciServiceDeploymentConfiguration:
        """A configuration for ``Model.deploy(…, deployment_target=…)``, with the SDK's defaults
        (0.1 CPU, 0.5 GB, auth off, one replica).

        Raises:
            ConfigurationError: CPU or memory not above zero, a key with auth off, or a setting
                only Azure can honour.
        """
        args: dict[str, Any] = dict(locals())
        return AciServiceDeploymentConfiguration(**args)
