"""Kubernetes manifests of sample deployments: strictly valid against the published schemas
(``kubernetes-validate``, offline), equal to reviewed golden files (diff on failure), and free of
keys on disk.

After an intended change run with ``UPDATE_GOLDEN=1``: each golden file that changes is rewritten
and its test skipped; review the diff in git and commit it.
"""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from golden import assert_matches_golden

from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.server import protocol
from jupyter_deploy.spec.cluster import AutoScale, ClusterConfig, LivenessProbe
from jupyter_deploy.targets.kubernetes import manifests as k8s

GOLDEN = Path(__file__).parent / "golden" / "k8s"
#: The oldest and newest Kubernetes versions whose schemas the package ships, and one between.
VERSIONS = ("1.25", "1.30", kubernetes_validate.latest_version())
IMAGE = "127.0.0.1:5000/models/iris:3"
ENV = {"AZUREML_ENTRY_SCRIPT": "score.py", "AZUREML_MODEL_DIR": "/var/azureml-app/azureml-models"}
LABELS = {"jupyter_deploy.service": "iris",
          "jupyter_deploy.spec": '{"name": "iris", "image": "127.0.0.1:5000/models/iris:3"}'}
KEYS = ("primary-9d2e-never-on-disk", "secondary-41ab-never-on-disk")

CASES = {
    # the SDK's AKS defaults: autoscale on, auth on, keys generated at deploy
    "autoscale_auth": ClusterConfig(autoscale=AutoScale()),
    # a fixed count without keys, GPU and limits, in a namespace
    "replicas_no_auth": ClusterConfig(replicas=2, auth_enabled=False, cpu_cores=0.5,
                                      memory_gb=1, cpu_cores_limit=1, memory_gb_limit=1.5,
                                      gpu_cores=1, namespace="models"),
    # explicit autoscale with the user's keys, probes and a LoadBalancer
    "autoscale_keys_lb": ClusterConfig(
        autoscale=AutoScale(2, 5, 60, 5), autoscale_explicit=True, primary_key=KEYS[0],
        secondary_key=KEYS[1], liveness=LivenessProbe(30, 5, 1, 4, 2),
        publish_all_interfaces=True),
}


def rendered(case: str, folder: Path) -> str:
    """The files ``write_manifests`` makes for ``case``, one after the other."""
    paths = k8s.write_manifests(folder, "iris", IMAGE, CASES[case], ENV, LABELS, "default")
    return "".join(f"# ---- {p.name}\n{p.read_text()}" for p in paths)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_files_match_their_golden_file(case: str, tmp_path: Path):
    assert_matches_golden(rendered(case, tmp_path), GOLDEN / f"{case}.yaml")


def test_every_golden_file_belongs_to_a_case():
    assert sorted(p.name for p in GOLDEN.iterdir()) == sorted(f"{c}.yaml" for c in CASES)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_manifest_is_strictly_valid(case: str, version: str, tmp_path: Path):
    # Given the manifests as applied (keys in the Secret) and as written to disk (no keys)
    applied = k8s.manifests("iris", IMAGE, CASES[case], ENV, LABELS, KEYS, "default")
    on_disk = [doc for p in k8s.write_manifests(tmp_path, "iris", IMAGE, CASES[case], ENV,
                                                LABELS, "default")
               for doc in yaml.safe_load_all(p.read_text())]
    # Then every one passes the schema with unknown fields refused
    for manifest in applied + on_disk:
        kubernetes_validate.validate(manifest, version, strict=True)


def test_strict_validation_does_catch_a_mistake():
    # The check is real: a misspelt field fails it
    bad = by_kind(ClusterConfig(replicas=1))["Deployment"]
    bad["spec"]["replica"] = bad["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, "1.30", strict=True)


def test_the_objects_of_each_case():
    kinds = {case: [m["kind"] for m in k8s.manifests("iris", IMAGE, config, ENV, LABELS, KEYS)]
             for case, config in CASES.items()}
    assert kinds["autoscale_auth"] == ["Secret", "Deployment", "Service",
                                       "HorizontalPodAutoscaler"]
    assert kinds["replicas_no_auth"] == ["Deployment", "Service"]


def by_kind(config: ClusterConfig, keys: tuple[str, str] | None = KEYS) -> dict[str, dict]:
    return {m["kind"]: m for m in k8s.manifests("iris", IMAGE, config, ENV, LABELS, keys)}


def test_the_deployment_rolls_with_no_unavailable_replica_and_probes_the_server():
    made = by_kind(ClusterConfig(replicas=3, liveness=LivenessProbe(40, 7, 3, 5, 2)))
    spec = made["Deployment"]["spec"]
    container = spec["template"]["spec"]["containers"][0]
    assert spec["replicas"] == 3
    assert spec["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": protocol.HEALTH_PATH, "port": 5001}
        assert (container[probe]["periodSeconds"], container[probe]["timeoutSeconds"],
                container[probe]["failureThreshold"]) == (7, 3, 5)
    assert container["livenessProbe"]["initialDelaySeconds"] == 40
    assert container["livenessProbe"]["successThreshold"] == 1  # Kubernetes requires 1
    assert container["readinessProbe"]["successThreshold"] == 2
    assert container["ports"][0]["containerPort"] == 5001


def test_an_autoscaler_owns_the_replica_count():
    made = by_kind(ClusterConfig(autoscale=AutoScale(2, 8, 65, 3), autoscale_explicit=True))
    assert "replicas" not in made["Deployment"]["spec"]
    hpa = made["HorizontalPodAutoscaler"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 8)
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 65
    assert hpa["metadata"]["annotations"][k8s.ANNOTATION_REFRESH] == "3"


def test_requests_and_limits():
    # Limits default to the requests; the SDK's GB become MiB, cores millicores
    plain = by_kind(ClusterConfig(replicas=1))["Deployment"]
    resources = plain["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources == {"requests": {"cpu": "100m", "memory": "512Mi"},
                         "limits": {"cpu": "100m", "memory": "512Mi"}}
    gpu = by_kind(ClusterConfig(replicas=1, cpu_cores=1.5, memory_gb=2, cpu_cores_limit=2,
                                memory_gb_limit=3, gpu_cores=2))["Deployment"]
    resources = gpu["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources["requests"] == {"cpu": "1500m", "memory": "2048Mi", "nvidia.com/gpu": "2"}
    assert resources["limits"] == {"cpu": "2000m", "memory": "3072Mi", "nvidia.com/gpu": "2"}


def test_auth_mounts_the_secret_and_tells_the_server_where_the_keys_are():
    made = by_kind(ClusterConfig(replicas=1))
    pod = made["Deployment"]["spec"]["template"]["spec"]
    env = {e["name"]: e["value"] for e in pod["containers"][0]["env"]}
    assert env[protocol.ENV_AUTH_KEY_FILES] == "/var/run/jd-keys/primary,/var/run/jd-keys/secondary"
    assert pod["containers"][0]["volumeMounts"] == [
        {"name": "keys", "mountPath": "/var/run/jd-keys", "readOnly": True}]
    assert pod["volumes"][0]["secret"]["secretName"] == "iris-keys"
    assert [i["key"] for i in pod["volumes"][0]["secret"]["items"]] == ["primary", "secondary"]
    assert made["Secret"]["type"] == "Opaque"
    assert made["Secret"]["stringData"] == {"primary": KEYS[0], "secondary": KEYS[1]}
    # and nothing of it without auth
    plain = by_kind(ClusterConfig(replicas=1, auth_enabled=False))
    pod = plain["Deployment"]["spec"]["template"]["spec"]
    assert "Secret" not in plain and "volumes" not in pod
    assert protocol.ENV_AUTH_KEY_FILES not in str(pod)


def test_the_service_is_cluster_internal_unless_all_interfaces_were_asked_for():
    inside = by_kind(ClusterConfig(replicas=1))["Service"]["spec"]
    assert inside["type"] == "ClusterIP"
    assert inside["ports"] == [{"name": "http", "port": 80, "targetPort": "http",
                                "protocol": "TCP"}]
    assert by_kind(ClusterConfig(replicas=1, publish_all_interfaces=True))["Service"]["spec"][
        "type"] == "LoadBalancer"


def test_labels_that_kubernetes_refuses_as_labels_become_annotations():
    meta = by_kind(ClusterConfig(replicas=1))["Deployment"]["metadata"]
    assert meta["labels"]["app.kubernetes.io/name"] == "iris"
    assert meta["labels"]["app.kubernetes.io/managed-by"] == "jupyter-deploy"
    assert meta["labels"]["jupyter_deploy.service"] == "iris"
    assert "jupyter_deploy.spec" in meta["annotations"]  # a JSON record is no label value
    assert "jupyter_deploy.spec" not in meta["labels"]


def test_keys_are_never_written_to_disk(tmp_path: Path):
    # Given a configuration holding the user's keys
    paths = k8s.write_manifests(tmp_path, "iris", IMAGE, CASES["autoscale_keys_lb"], ENV,
                                LABELS)
    text = "".join(p.read_text() for p in paths)
    # Then no file holds them; the Secret file says how to create them
    assert KEYS[0] not in text and KEYS[1] not in text
    secret = (tmp_path / "secret.yaml").read_text()
    assert "kubectl create secret generic iris-keys" in secret
    assert set(yaml.safe_load(secret)) == {"apiVersion", "kind", "metadata", "type"}


@pytest.mark.parametrize("name", ["Iris", "iris_2", "2iris", "a" * 59, "iris-"])
def test_a_name_kubernetes_refuses_is_named(name: str):
    with pytest.raises(ConfigurationError, match="cannot name a Kubernetes service"):
        k8s.manifests(name, IMAGE, ClusterConfig(replicas=1), {}, {})


def test_a_label_key_kubernetes_refuses_is_named():
    with pytest.raises(ConfigurationError, match="not a valid Kubernetes key"):
        k8s.manifests("iris", IMAGE, ClusterConfig(replicas=1), {}, {"bad key": "v"})
