"""``AksWebservice.deploy_configuration`` and ``AciWebservice.deploy_configuration``: the SDK's
parameters in the SDK's order, its defaults (autoscale on when ``num_replicas`` is left out), its
validation errors, Azure-only settings refused by name, and keys that never show."""

from __future__ import annotations

import inspect

import pytest

from jupyter_deploy.azureml.core.webservice import (
    AciServiceDeploymentConfiguration,
    AciWebservice,
    AksServiceDeploymentConfiguration,
    AksWebservice,
    LocalWebservice,
    Webservice,
)
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.spec.cluster import AutoScale, ClusterConfig, LivenessProbe

#: ``azureml-core`` 1.61's parameters, in order (read from its aks.py / aci.py).
SDK_AKS = ("autoscale_enabled", "autoscale_min_replicas", "autoscale_max_replicas",
    "autoscale_refresh_seconds", "autoscale_target_utilization", "collect_model_data",
    "auth_enabled", "cpu_cores", "memory_gb", "enable_app_insights", "scoring_timeout_ms",
    "replica_max_concurrent_requests", "max_request_wait_time", "num_replicas", "primary_key",
    "secondary_key", "tags", "properties", "description", "gpu_cores", "period_seconds",
    "initial_delay_seconds", "timeout_seconds", "success_threshold", "failure_threshold",
    "namespace", "token_auth_enabled", "compute_target_name", "cpu_cores_limit",
    "memory_gb_limit", "blobfuse_enabled")
SDK_ACI = ("cpu_cores", "memory_gb", "tags", "properties", "description", "location",
    "auth_enabled", "ssl_enabled", "enable_app_insights", "ssl_cert_pem_file", "ssl_key_pem_file",
    "ssl_cname", "dns_name_label", "primary_key", "secondary_key", "collect_model_data",
    "cmk_vault_base_url", "cmk_key_name", "cmk_key_version", "vnet_name", "subnet_name")
KEY = "k-51d0-never-shown"


@pytest.mark.parametrize(("method", "expected"), [
    (AksWebservice.deploy_configuration, SDK_AKS),
    (AciWebservice.deploy_configuration, SDK_ACI),
])
def test_the_parameters_are_the_sdks_in_its_order_all_defaulting_to_none(method, expected):
    parameters = inspect.signature(method).parameters.values()
    assert tuple(p.name for p in parameters) == expected
    assert all(p.default is None for p in parameters)


def test_the_classes_are_webservices_and_exported():
    assert issubclass(AksWebservice, Webservice) and issubclass(AciWebservice, Webservice)
    assert LocalWebservice.deploy_configuration(port=8890).port == 8890  # still there


def test_aks_defaults_to_autoscale_not_asked_for():
    # Given the SDK's AKS configuration with nothing said
    config = AksWebservice.deploy_configuration()
    # Then it is the SDK's object with its attributes, and the cluster config autoscales
    assert isinstance(config, AksServiceDeploymentConfiguration)
    assert config.autoscale_enabled is None and config.num_replicas is None
    assert config.cluster_config == ClusterConfig(autoscale=AutoScale(), autoscale_explicit=False)


def test_aks_num_replicas_means_a_fixed_count():
    cluster = AksWebservice.deploy_configuration(num_replicas=3).cluster_config
    assert cluster.replicas == 3 and cluster.autoscale is None


def test_aks_settings_land_in_the_cluster_config():
    config = AksWebservice.deploy_configuration(
        autoscale_enabled=True, autoscale_min_replicas=2, autoscale_max_replicas=6,
        autoscale_refresh_seconds=4, autoscale_target_utilization=55, auth_enabled=True,
        cpu_cores=0.5, memory_gb=1, cpu_cores_limit=1, memory_gb_limit=2, gpu_cores=1,
        scoring_timeout_ms=2000, replica_max_concurrent_requests=2, max_request_wait_time=100,
        primary_key=KEY, tags={"team": "ml"}, description="iris", period_seconds=5,
        initial_delay_seconds=20, timeout_seconds=1, success_threshold=1, failure_threshold=4,
        namespace="ml", compute_target_name="swarm")
    assert config.cluster_config == ClusterConfig(
        autoscale=AutoScale(2, 6, 55, 4), autoscale_explicit=True, cpu_cores=0.5, memory_gb=1,
        cpu_cores_limit=1, memory_gb_limit=2, gpu_cores=1, primary_key=KEY,
        scoring_timeout_ms=2000, max_concurrent_requests_per_container=2, max_queue_wait_ms=100,
        liveness=LivenessProbe(20, 5, 1, 4, 1), tags=(("team", "ml"),), description="iris",
        namespace="ml")
    assert config.compute_target_name == "swarm"


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"autoscale_enabled": True, "num_replicas": 2}, "autoscale_enabled and num_replicas"),
    ({"autoscale_enabled": False}, "autoscale_enabled is off but num_replicas was not given"),
    ({"autoscale_min_replicas": 2}, "autoscale_min_replicas was given without enabling"),
    ({"autoscale_enabled": True, "autoscale_min_replicas": 4, "autoscale_max_replicas": 2},
     "autoscale_min_replicas (4) cannot be greater than autoscale_max_replicas (2)"),
    ({"autoscale_enabled": True, "autoscale_target_utilization": 150}, "at most 100"),
    ({"autoscale_enabled": True, "autoscale_refresh_seconds": 0}, "autoscale_refresh_seconds"),
    ({"num_replicas": 0}, "num_replicas must be at least 1"),
    ({"cpu_cores": 0}, "cpu_cores must be greater than zero"),
    ({"memory_gb": -2}, "memory_gb must be greater than zero"),
    ({"cpu_cores": 2, "cpu_cores_limit": 1}, "cpu_cores_limit (1) must be greater than or"),
    ({"memory_gb": 2, "memory_gb_limit": 1}, "memory_gb_limit (1)"),
    ({"gpu_cores": -1}, "gpu_cores"),
    ({"period_seconds": 0}, "period_seconds"),
    ({"initial_delay_seconds": 0}, "initial_delay_seconds"),
    ({"timeout_seconds": 0}, "timeout_seconds"),
    ({"success_threshold": 0}, "success_threshold"),
    ({"failure_threshold": 0}, "failure_threshold"),
    ({"scoring_timeout_ms": 0}, "scoring_timeout_ms"),
    ({"replica_max_concurrent_requests": 0}, "replica_max_concurrent_requests"),
    ({"max_request_wait_time": 0}, "max_request_wait_time"),
    ({"namespace": "Bad_NS"}, "is not a Kubernetes namespace"),
    ({"auth_enabled": False, "primary_key": KEY}, "primary_key was given but auth_enabled"),
    ({"num_replicas": "2"}, "num_replicas must be a whole number"),
    ({"autoscale_enabled": "yes"}, "autoscale_enabled must be True, False or None"),
    ({"tags": ["team"]}, "tags must be a dictionary"),
    ({"enable_app_insights": True}, "enable_app_insights: Azure-only setting"),
    ({"token_auth_enabled": True}, "token_auth_enabled"),
    ({"collect_model_data": True, "properties": {"a": "b"}},
     "collect_model_data, properties: Azure-only settings"),
])
def test_each_aks_validation_error(kwargs, words):
    with pytest.raises(ConfigurationError) as caught:
        AksWebservice.deploy_configuration(**kwargs)
    assert words in str(caught.value)


def test_a_changed_attribute_is_checked_when_the_cluster_config_is_read():
    # SDK code sets attributes after creating the configuration
    config = AksWebservice.deploy_configuration(num_replicas=2)
    config.num_replicas = 4
    assert config.cluster_config.replicas == 4
    config.autoscale_enabled = True
    with pytest.raises(ConfigurationError, match="autoscale_enabled and num_replicas"):
        config.validate_configuration()


def test_aks_prints_and_serializes_like_the_sdk(capsys: pytest.CaptureFixture[str]):
    config = AksWebservice.deploy_configuration(num_replicas=2, cpu_cores=1, memory_gb=2,
                                                primary_key=KEY)
    config.print_deploy_configuration()
    assert capsys.readouterr().out.strip() == (
        "CPU requirement: 1, Memory requirement: 2GB, Number of replica: 2")
    data = config.to_json()
    assert data["computeType"] == "aks" and data["numReplicas"] == 2
    assert KEY not in repr(config) + str(data)


def test_aci_defaults_are_one_replica_and_auth_off():
    config = AciWebservice.deploy_configuration()
    assert isinstance(config, AciServiceDeploymentConfiguration)
    assert config.cluster_config == ClusterConfig(compute_type="aci", auth_enabled=False)


def test_aci_settings_land_in_the_cluster_config():
    cluster = AciWebservice.deploy_configuration(
        cpu_cores=2, memory_gb=4, auth_enabled=True, primary_key=KEY, tags={"a": "b"},
        description="d").cluster_config
    assert cluster == ClusterConfig(compute_type="aci", cpu_cores=2, memory_gb=4,
                                    primary_key=KEY, tags=(("a", "b"),), description="d")


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"cpu_cores": 0}, "cpu_cores must be greater than zero"),
    ({"memory_gb": 0}, "memory_gb must be greater than zero"),
    ({"primary_key": KEY}, "primary_key was given but auth_enabled is off"),
    ({"ssl_enabled": True, "ssl_cname": "x"}, "ssl_enabled, ssl_cname: Azure-only settings"),
    ({"location": "westeurope"}, "location: Azure-only setting"),
    ({"vnet_name": "v", "subnet_name": "s"}, "vnet_name, subnet_name"),
    ({"dns_name_label": "svc"}, "dns_name_label"),
])
def test_each_aci_validation_error(kwargs, words):
    with pytest.raises(ConfigurationError) as caught:
        AciWebservice.deploy_configuration(**kwargs)
    assert words in str(caught.value)


def test_azure_only_settings_left_off_are_accepted():
    AciWebservice.deploy_configuration(ssl_enabled=False, enable_app_insights=False)
    AksWebservice.deploy_configuration(collect_model_data=False, token_auth_enabled=False,
                                       blobfuse_enabled=True)


def test_aci_prints_like_the_sdk(capsys: pytest.CaptureFixture[str]):
    AciWebservice.deploy_configuration(cpu_cores=1, memory_gb=1).print_deploy_configuration()
    assert capsys.readouterr().out.strip() == "CPU requirement: 1, Memory requirement: 1GB"
