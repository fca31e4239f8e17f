"""The one cluster deployment spec and its JSON file (``--dc``): defaults, every validation error
in both spellings (SDK parameter names, JSON keys), the round trip, and keys that never show."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.spec.cluster import (
    MASK,
    AutoScale,
    ClusterConfig,
    LivenessProbe,
    LocalDeployConfig,
    describe,
    load_deployment_config,
    parse_deployment_config,
    unsupported,
)

KEY = "p-3f9a-never-shown"
SECOND = "s-77c1-never-shown"


def refused(data: object) -> str:
    with pytest.raises(ConfigurationError) as caught:
        parse_deployment_config(data, "dc.json")
    return str(caught.value)


def test_the_defaults_are_the_sdks():
    # Given a configuration with nothing said
    config = ClusterConfig()
    # Then its values are the SDK's documented defaults
    assert (config.cpu_cores, config.memory_gb, config.gpu_cores) == (0.1, 0.5, 0)
    assert config.auth_enabled and config.scoring_timeout_ms == 60000
    assert (config.max_concurrent_requests_per_container, config.max_queue_wait_ms) == (1, 500)
    assert config.liveness == LivenessProbe(310, 10, 2, 3, 1)
    assert AutoScale() == AutoScale(1, 10, 70, 1)
    assert config.effective_replicas() == 1


def test_effective_replicas_follow_replicas_then_the_autoscalers_minimum():
    assert ClusterConfig(replicas=3).effective_replicas() == 3
    assert ClusterConfig(autoscale=AutoScale(min_replicas=2)).effective_replicas() == 2


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"replicas": 0}, "num_replicas must be at least 1"),
    ({"replicas": 2, "autoscale": AutoScale()}, "autoscale_enabled and num_replicas"),
    ({"autoscale": AutoScale(min_replicas=5, max_replicas=2)},
     "autoscale_min_replicas (5) cannot be greater than autoscale_max_replicas (2)"),
    ({"autoscale": AutoScale(target_utilization=0)}, "autoscale_target_utilization must be at"),
    ({"autoscale": AutoScale(target_utilization=101)}, "at most 100"),
    ({"cpu_cores": 0}, "cpu_cores must be greater than zero"),
    ({"memory_gb": -1.0}, "memory_gb must be greater than zero"),
    ({"cpu_cores": 1, "cpu_cores_limit": 0.5}, "cpu_cores_limit (0.5) must be greater than"),
    ({"memory_gb_limit": 0.25}, "memory_gb_limit (0.25)"),
    ({"gpu_cores": -1}, "gpu_cores must be at least 0"),
    ({"auth_enabled": False, "primary_key": KEY}, "primary_key was given but auth_enabled is off"),
    ({"primary_key": "has space"}, "without spaces"),
    ({"scoring_timeout_ms": 0}, "scoring_timeout_ms must be at least 1"),
    ({"liveness": LivenessProbe(period_seconds=0)}, "period_seconds must be at least 1"),
    ({"namespace": "Not_A_Namespace"}, "is not a Kubernetes namespace"),
    ({"replicas": "2"}, "num_replicas must be a whole number, got '2'"),
    ({"cpu_cores": True}, "cpu_cores must be a number, got True"),
    ({"auth_enabled": "yes"}, "auth_enabled must be true or false"),
    ({"cpu_cores": float("nan")}, "finite"),
    ({"compute_type": "gke"}, "compute_type must be one of aks, aci"),
    ({"publish_all_interfaces": True, "auth_enabled": False},
     "publish_all_interfaces exposes the service on every interface"),
])
def test_each_invalid_value_is_named_with_the_sdks_parameter(kwargs, words):
    with pytest.raises(ConfigurationError) as caught:
        ClusterConfig(**kwargs)
    assert words in str(caught.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigurationError) as caught:
        ClusterConfig(replicas=0, cpu_cores=0, memory_gb=0)
    assert str(caught.value).count("must be") == 3


def test_keys_never_show_in_repr_or_json():
    config = ClusterConfig(replicas=2, primary_key=KEY, secondary_key=SECOND)
    shown = repr(config) + json.dumps(config.to_json())
    assert KEY not in shown and SECOND not in shown and MASK in shown
    assert config.primary_key == KEY  # the real value stays for the target


def test_the_masked_placeholder_is_not_accepted_as_a_key():
    text = json.dumps(ClusterConfig(replicas=1, primary_key=KEY).to_json())
    assert "masked placeholder" in refused(json.loads(text))


@pytest.mark.parametrize("config", [
    ClusterConfig(replicas=3, cpu_cores=1.5, memory_gb=2, cpu_cores_limit=2,
                  memory_gb_limit=4, gpu_cores=1, tags=(("team", "ml"),), description="d",
                  namespace="models", scoring_timeout_ms=1000,
                  liveness=LivenessProbe(5, 3, 1, 2, 1), publish_all_interfaces=True),
    ClusterConfig(autoscale=AutoScale(2, 5, 50, 3), autoscale_explicit=True,
                  auth_enabled=False),
    ClusterConfig(autoscale=AutoScale()),  # AKS's default-on autoscaler
    ClusterConfig(compute_type="aci", auth_enabled=False),
    ClusterConfig(compute_type="aci", cpu_cores=2, replicas=2),
])
def test_the_json_round_trips(config):
    assert ClusterConfig.from_json(json.loads(json.dumps(config.to_json()))) == config


def test_aks_without_replicas_autoscales_by_default_but_not_explicitly():
    config = parse_deployment_config({"computeType": "aks"})
    assert config == ClusterConfig(autoscale=AutoScale(), autoscale_explicit=False)


def test_aci_defaults_to_one_replica_and_auth_off():
    config = parse_deployment_config({"computeType": "ACI"})
    assert isinstance(config, ClusterConfig)
    assert config.compute_type == "aci" and not config.auth_enabled
    assert config.autoscale is None and config.effective_replicas() == 1


def test_the_sdk_cli_file_is_read_with_its_spellings(tmp_path: Path):
    # Given the deployment-config JSON the SDK's CLI takes (`az ml model deploy --dc`)
    path = tmp_path / "deploymentconfig.json"
    path.write_text(json.dumps({
        "computeType": "aks",
        "autoScaler": {"autoscaleEnabled": True, "minReplicas": 2, "maxReplicas": 4,
                       "refreshPeriodInSeconds": 5, "targetUtilization": 60},
        "authEnabled": True,
        "containerResourceRequirements": {"cpu": 0.5, "memoryInGB": 1, "cpuLimit": 1,
                                          "memoryInGBLimit": 2},
        "gpuCores": 0, "scoringTimeoutMs": 5000, "maxConcurrentRequestsPerContainer": 2,
        "maxQueueWaitMs": 100, "namespace": "ml",
        "livenessProbeRequirements": {"initialDelaySeconds": 30, "periodSeconds": 5,
                                      "timeoutSeconds": 1, "failureThreshold": 4,
                                      "successThreshold": 1},
        "keys": {"primaryKey": KEY, "secondaryKey": SECOND},
        "appInsightsEnabled": False, "tags": {"team": "ml"}, "description": "iris"}))
    # When it is loaded
    config = load_deployment_config(path)
    # Then every setting lands where it belongs
    assert config == ClusterConfig(
        autoscale=AutoScale(2, 4, 60, 5), autoscale_explicit=True, cpu_cores=0.5, memory_gb=1,
        cpu_cores_limit=1, memory_gb_limit=2, primary_key=KEY, secondary_key=SECOND,
        scoring_timeout_ms=5000, max_concurrent_requests_per_container=2, max_queue_wait_ms=100,
        liveness=LivenessProbe(30, 5, 1, 4, 1), tags=(("team", "ml"),), description="iris",
        namespace="ml")


@pytest.mark.parametrize(("data", "words"), [
    ({"computeType": "aks", "numReplicas": 2, "autoScaler": {"autoscaleEnabled": True}},
     "autoScaler.autoscaleEnabled and numReplicas were both given"),
    ({"computeType": "aks", "numReplicas": 0}, "dc.json: numReplicas must be at least 1"),
    ({"computeType": "aks", "autoScaler": {"autoscaleEnabled": True, "minReplicas": 3,
                                           "maxReplicas": 2}},
     "autoScaler.minReplicas (3) cannot be greater than autoScaler.maxReplicas (2)"),
    ({"computeType": "aks", "autoScaler": {"minReplicas": 3}},
     "autoScaler.minReplicas was given without enabling autoscale"),
    ({"computeType": "aks", "autoScaler": {"autoscaleEnabled": False}},
     "autoScaler.autoscaleEnabled is off but numReplicas was not given"),
    ({"computeType": "aks", "autoScaler": {"autoscaleEnabled": "yes"}},
     "autoScaler.autoscaleEnabled must be true or false"),
    ({"computeType": "aks", "numReplicas": "3"}, "numReplicas must be a whole number, got '3'"),
    ({"computeType": "aks", "numReplics": 3}, "unknown key numReplics (did you mean numReplicas?)"),
    ({"computeType": "aks", "containerResourceRequirements": {"cpus": 1}},
     "unknown key containerResourceRequirements.cpus"),
    ({"computeType": "aks", "containerResourceRequirements": 1},
     "containerResourceRequirements must be a JSON object"),
    ({"computeType": "aks", "containerResourceRequirements": {"cpu": 1, "cpuLimit": 0.5}},
     "containerResourceRequirements.cpuLimit (0.5) must be greater than or equal to"),
    ({"computeType": "aks", "containerResourceRequirements": {"memoryInGB": 0}},
     "containerResourceRequirements.memoryInGB must be greater than zero"),
    ({"computeType": "aci", "keys": {"primaryKey": KEY}},
     "keys.primaryKey was given but authEnabled is off"),
    ({"computeType": "aks", "sslEnabled": True}, "sslEnabled is an Azure-only setting"),
    ({"computeType": "aks", "computeTargetName": "aks1"}, "--ct NAME"),
    ({"computeType": "aks", "gpuCores": 1, "containerResourceRequirements": {"gpu": 1}},
     "keep one"),
    ({"computeType": "gke"}, "computeType must be one of aks, aci"),
    ({"numReplicas": 2}, "no computeType"),
    ({"computeType": "local", "port": "80"}, "port must be a number from 1 to 65535"),
    ({"computeType": "local", "replicas": 2}, "unknown key replicas for a local deployment"),
    ([], "must be a JSON object"),
])
def test_each_invalid_file_is_named_with_its_json_key(data, words):
    message = refused(data)
    assert words in message and message.startswith("dc.json")


def test_local_configs_keep_working():
    assert parse_deployment_config({"port": 8890}) == LocalDeployConfig(8890)
    assert parse_deployment_config({}) == LocalDeployConfig(None)
    assert parse_deployment_config({"computeType": "local", "port": 6789}) == LocalDeployConfig(
        6789)


def test_an_unreadable_file_says_which(tmp_path: Path):
    bad = tmp_path / "dc.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigurationError, match="cannot read the deployment config"):
        load_deployment_config(bad)


def test_unsupported_names_only_what_was_asked_for():
    # The AKS default-on autoscaler is not a request; explicit autoscale is
    implicit = parse_deployment_config({"computeType": "aks"})
    assert isinstance(implicit, ClusterConfig)
    assert unsupported(implicit, {"auth_enabled"}) == []
    asked = replace(implicit, autoscale_explicit=True, gpu_cores=1, tags=(("a", "b"),))
    assert unsupported(asked, {"auth_enabled", "tags"}) == ["autoscale", "gpu_cores"]
    assert describe("replicas") == "num_replicas (numReplicas in a deployment-config JSON)"
