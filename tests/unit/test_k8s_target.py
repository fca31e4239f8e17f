"""The Kubernetes target against a small in-memory fake of the official client's APIs.

No cluster runs here. The fake keeps objects as the API server would (server-side apply replaces
what our field manager applied, a merge patch merges, a Secret's ``stringData`` is stored base64
in ``data``), returns the client's real model classes, raises its real ``ApiException`` — and
binds every call against the *real* method's signature, so a call the real client would reject
fails here too. A test checks that each fake method mirrors the real one's leading parameters.
"""

from __future__ import annotations

import base64
import copy
import inspect
import json
import sys
import time
from datetime import datetime, timezone
from typing import Any

import pytest
from kubernetes import client as real
from kubernetes.client.exceptions import ApiException

from jupyter_deploy.engine.containers import RunOptions
from jupyter_deploy.errors import ConfigurationError, ContainerError
from jupyter_deploy.spec.cluster import AutoScale, ClusterConfig
from jupyter_deploy.targets.base import DeployTarget
from jupyter_deploy.targets.kubernetes.client import APPLY, MERGE, Apis
from jupyter_deploy.targets.kubernetes.target import KubernetesTarget

IMAGE = "127.0.0.1:5000/models/iris:1"
KEYS = ("p-0c1d-never-elsewhere", "s-9e8f-never-elsewhere")


def merge(target: dict, patch: dict) -> dict:
    """RFC 7386 JSON merge patch."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
    return target


def stamp(offset: float = 0.0) -> str:
    when = datetime.fromtimestamp(time.time() + offset, timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


class FakeCluster:
    """Objects by (kind, namespace, name), pods per Deployment, and the calls made."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict] = {}
        self.pods: dict[tuple[str, str], list[dict]] = {}
        self.namespaces = {"default", "models"}
        self.crashing: set[str] = set()
        self.calls: list[tuple[str, dict]] = []
        self.generation = 0

    def bind(self, real_api: type, method: str, args: tuple, kwargs: dict) -> dict:
        """Check the call against the real client's signature; remember it."""
        bound = inspect.signature(getattr(real_api, method)).bind(None, *args, **kwargs)
        arguments = dict(bound.arguments)
        arguments.pop("self")
        self.calls.append((method, arguments))
        return arguments

    def get(self, kind: str, namespace: str, name: str) -> dict:
        found = self.objects.get((kind, namespace, name))
        if found is None:
            raise ApiException(status=404, reason="Not Found",
                               body=json.dumps({"message": f"{kind} {name} not found"}))
        return found

    def patch(self, kind: str, a: dict) -> dict:
        key = (kind, a["namespace"], a["name"])
        body = copy.deepcopy(a["body"])
        if a.get("_content_type") == APPLY:
            assert a["field_manager"] == "jupyter-deploy" and a["force"] is True
            assert body["metadata"]["name"] == a["name"] and body["kind"] == kind
            status = self.objects.get(key, {}).get("status")
            self.objects[key] = body | ({"status": status} if status else {})
        else:
            assert a.get("_content_type") == MERGE, "only apply and merge patches are used"
            merge(self.get(kind, a["namespace"], a["name"]), body)
        made = self.objects[key]
        if kind == "Secret" and "stringData" in made:
            data = made.setdefault("data", {})
            for k, v in made.pop("stringData").items():
                data[k] = base64.b64encode(v.encode()).decode()
        if kind == "Deployment":
            self.reconcile(a["namespace"], a["name"])
        return made

    def reconcile(self, namespace: str, name: str) -> None:
        """What the controllers do: new pods for a new template; a crashing image gets one
        surge pod that never becomes ready while the old ones keep serving."""
        deployment = self.objects[("Deployment", namespace, name)]
        spec = deployment["spec"]
        hpa = self.objects.get(("HorizontalPodAutoscaler", namespace, name))
        if "replicas" not in spec:
            spec["replicas"] = hpa["spec"]["minReplicas"] if hpa else 1
        container = spec["template"]["spec"]["containers"][0]
        self.generation += 1
        old = [p for p in self.pods.get((namespace, name), []) if p["ready"]]
        if container["image"] in self.crashing:
            surge = {"name": f"{name}-new-0", "ready": False, "crash": True,
                     "image": container["image"]}
            pods = [*old, surge]
            ready, updated = len(old), 1
        else:
            template = json.dumps(spec["template"], sort_keys=True)
            suffix = f"{abs(hash(template)) % 10**6:06d}"
            pods = [{"name": f"{name}-{suffix}-{i}", "ready": True, "crash": False,
                     "image": container["image"]} for i in range(spec["replicas"])]
            ready = updated = spec["replicas"]
        self.pods[(namespace, name)] = pods
        deployment["metadata"].update(generation=self.generation, uid=f"uid-{name}")
        deployment["status"] = {"observedGeneration": self.generation, "replicas": len(pods),
                                "readyReplicas": ready, "updatedReplicas": updated,
                                "unavailableReplicas": len(pods) - ready or None}

    def delete(self, kind: str, a: dict) -> None:
        self.objects.pop((kind, a["namespace"], a["name"]), None) or self.get(
            kind, a["namespace"], a["name"])
        if kind == "Deployment":
            self.pods.pop((a["namespace"], a["name"]), None)


class FakeAppsV1Api:
    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster

    def _bind(self, method: str, *args: Any, **kwargs: Any) -> dict:
        return self.cluster.bind(real.AppsV1Api, method, args, kwargs)

    def read_namespaced_deployment(self, name, namespace, **kwargs):
        a = self._bind("read_namespaced_deployment", name, namespace, **kwargs)
        return real.V1Deployment.from_dict(self.cluster.get("Deployment", a["namespace"],
                                                            a["name"]))

    def list_namespaced_deployment(self, namespace, **kwargs):
        a = self._bind("list_namespaced_deployment", namespace, **kwargs)
        key, _, value = a.get("label_selector", "").partition("=")
        items = [o for (kind, ns, _), o in self.cluster.objects.items()
                 if kind == "Deployment" and ns == a["namespace"]
                 and (not key or o["metadata"].get("labels", {}).get(key) == value)]
        return real.V1DeploymentList.from_dict({"items": items})

    def patch_namespaced_deployment(self, name, namespace, body, **kwargs):
        a = self._bind("patch_namespaced_deployment", name, namespace, body, **kwargs)
        return real.V1Deployment.from_dict(self.cluster.patch("Deployment", a))

    def patch_namespaced_deployment_scale(self, name, namespace, body, **kwargs):
        a = self._bind("patch_namespaced_deployment_scale", name, namespace, body, **kwargs)
        merge(self.cluster.get("Deployment", namespace, name), a["body"])
        self.cluster.reconcile(namespace, name)
        return real.V1Scale.from_dict({"spec": a["body"]["spec"]})

    def delete_namespaced_deployment(self, name, namespace, **kwargs):
        self.cluster.delete("Deployment", self._bind("delete_namespaced_deployment", name,
                                                     namespace, **kwargs))


class FakeCoreV1Api:
    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster

    def _bind(self, method: str, *args: Any, **kwargs: Any) -> dict:
        return self.cluster.bind(real.CoreV1Api, method, args, kwargs)

    def read_namespace(self, name, **kwargs):
        self._bind("read_namespace", name, **kwargs)
        if name not in self.cluster.namespaces:
            raise ApiException(status=404, reason="Not Found")
        return real.V1Namespace.from_dict({"metadata": {"name": name}})

    def read_namespaced_service(self, name, namespace, **kwargs):
        a = self._bind("read_namespaced_service", name, namespace, **kwargs)
        return real.V1Service.from_dict(self.cluster.get("Service", namespace, a["name"]))

    def patch_namespaced_service(self, name, namespace, body, **kwargs):
        a = self._bind("patch_namespaced_service", name, namespace, body, **kwargs)
        return real.V1Service.from_dict(self.cluster.patch("Service", a))

    def delete_namespaced_service(self, name, namespace, **kwargs):
        self.cluster.delete("Service", self._bind("delete_namespaced_service", name, namespace,
                                                  **kwargs))

    def read_namespaced_secret(self, name, namespace, **kwargs):
        self._bind("read_namespaced_secret", name, namespace, **kwargs)
        return real.V1Secret.from_dict(self.cluster.get("Secret", namespace, name))

    def patch_namespaced_secret(self, name, namespace, body, **kwargs):
        a = self._bind("patch_namespaced_secret", name, namespace, body, **kwargs)
        return real.V1Secret.from_dict(self.cluster.patch("Secret", a))

    def delete_namespaced_secret(self, name, namespace, **kwargs):
        self.cluster.delete("Secret", self._bind("delete_namespaced_secret", name, namespace,
                                                 **kwargs))

    def list_namespaced_pod(self, namespace, **kwargs):
        a = self._bind("list_namespaced_pod", namespace, **kwargs)
        name = a["label_selector"].partition("=")[2]
        items = []
        for pod in self.cluster.pods.get((namespace, name), []):
            waiting = ({"reason": "CrashLoopBackOff", "message": "back-off restarting"}
                       if pod["crash"] else None)
            items.append({"metadata": {"name": pod["name"]}, "status": {"containerStatuses": [
                {"name": "scoring", "image": pod["image"], "imageID": "", "ready": pod["ready"],
                 "restartCount": 3 if pod["crash"] else 0,
                 "state": {"waiting": waiting} if waiting else {"running": {}}}]}})
        return real.V1PodList.from_dict({"items": items})

    def read_namespaced_pod_log(self, name, namespace, **kwargs):
        a = self._bind("read_namespaced_pod_log", name, namespace, **kwargs)
        assert a["container"] == "scoring" and a["timestamps"] is True
        crash = name.endswith("-new-0")
        text = "ValueError: init() failed" if crash else "Healthy: listening on 5001"
        return f"{stamp(-1)} booting {name}\n{stamp()} {text}\n"


class FakeAutoscalingV2Api:
    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster

    def _bind(self, method: str, *args: Any, **kwargs: Any) -> dict:
        return self.cluster.bind(real.AutoscalingV2Api, method, args, kwargs)

    def read_namespaced_horizontal_pod_autoscaler(self, name, namespace, **kwargs):
        self._bind("read_namespaced_horizontal_pod_autoscaler", name, namespace, **kwargs)
        return real.V2HorizontalPodAutoscaler.from_dict(
            self.cluster.get("HorizontalPodAutoscaler", namespace, name))

    def patch_namespaced_horizontal_pod_autoscaler(self, name, namespace, body, **kwargs):
        a = self._bind("patch_namespaced_horizontal_pod_autoscaler", name, namespace, body,
                       **kwargs)
        return real.V2HorizontalPodAutoscaler.from_dict(
            self.cluster.patch("HorizontalPodAutoscaler", a))

    def delete_namespaced_horizontal_pod_autoscaler(self, name, namespace, **kwargs):
        self.cluster.delete("HorizontalPodAutoscaler", self._bind(
            "delete_namespaced_horizontal_pod_autoscaler", name, namespace, **kwargs))


FAKES = ((FakeAppsV1Api, real.AppsV1Api), (FakeCoreV1Api, real.CoreV1Api),
         (FakeAutoscalingV2Api, real.AutoscalingV2Api))


@pytest.fixture
def a_cluster() -> FakeCluster:
    return FakeCluster()


@pytest.fixture
def a_target(a_cluster: FakeCluster) -> KubernetesTarget:
    apis = Apis(FakeAppsV1Api(a_cluster), FakeCoreV1Api(a_cluster),
                FakeAutoscalingV2Api(a_cluster))
    target = KubernetesTarget("test-context", "default", apis=apis)
    target.poll_seconds = 0.0
    return target


def deploy(target: KubernetesTarget, config: ClusterConfig, image: str = IMAGE,
           lines: list[str] | None = None):
    options = RunOptions(name="iris", env={"AZUREML_ENTRY_SCRIPT": "score.py"},
                         labels={"jupyter_deploy.service": "iris",
                                 "jupyter_deploy.spec": '{"name": "iris"}'})
    log = (lines if lines is not None else []).append
    return target.configured(config).create(image, options, log)


@pytest.mark.parametrize(("fake", "real_api"), FAKES)
def test_the_fake_mirrors_the_real_clients_methods(fake: type, real_api: type):
    for name, method in inspect.getmembers(fake, inspect.isfunction):
        if name.startswith("_"):
            continue
        real_params = list(inspect.signature(getattr(real_api, name)).parameters.values())
        fake_params = list(inspect.signature(method).parameters.values())
        required = [p.name for p in real_params if p.default is inspect.Parameter.empty]
        positional = [p.name for p in fake_params if p.kind is p.POSITIONAL_OR_KEYWORD]
        assert positional == required, name
        assert fake_params[-1].kind is inspect.Parameter.VAR_KEYWORD, name


def test_the_target_implements_the_deploy_target_interface(a_target):
    assert isinstance(a_target, DeployTarget) and a_target.kind == "kubernetes"


def test_create_applies_every_object_server_side(a_target, a_cluster):
    instance = deploy(a_target, ClusterConfig(autoscale=AutoScale(), primary_key=KEYS[0],
                                              secondary_key=KEYS[1]))
    assert {k[0] for k in a_cluster.objects} == {"Secret", "Deployment", "Service",
                                                 "HorizontalPodAutoscaler"}
    applied = [a for m, a in a_cluster.calls if m.startswith("patch_namespaced_")]
    assert all(a["_content_type"] == APPLY and a["force"] for a in applied)
    assert instance.name == "iris" and instance.namespace == "default"
    assert a_target.replica_counts(instance) == (1, 1)  # the autoscaler's minimum
    assert a_target.state(instance, "/") == "Healthy"


def test_keys_live_only_in_the_secret(a_target, a_cluster):
    instance = deploy(a_target, ClusterConfig(replicas=2, primary_key=KEYS[0],
                                              secondary_key=KEYS[1]))
    assert a_target.get_keys(instance) == KEYS
    others = json.dumps([v for k, v in a_cluster.objects.items() if k[0] != "Secret"])
    assert KEYS[0] not in others and KEYS[1] not in others
    assert KEYS[0] not in str(a_target.labels(instance))


def test_keys_are_generated_when_not_given(a_target):
    primary, secondary = a_target.get_keys(deploy(a_target, ClusterConfig(replicas=1)))
    assert len(primary) >= 32 and len(secondary) >= 32 and primary != secondary


def test_an_image_with_no_registry_is_refused_before_anything_is_applied(a_target, a_cluster):
    with pytest.raises(ConfigurationError, match=r"names no registry.*push it"):
        deploy(a_target, ClusterConfig(replicas=1), image="iris:1")
    assert a_cluster.objects == {}


def test_what_kubernetes_cannot_honour_is_named(a_target):
    with pytest.raises(ConfigurationError, match="max_request_wait_time"):
        a_target.configured(ClusterConfig(replicas=1, max_queue_wait_ms=100))
    with pytest.raises(ConfigurationError, match="not a local one"):
        a_target.configured(object())  # type: ignore[arg-type]


def test_scale_patches_the_replica_count(a_target):
    instance = deploy(a_target, ClusterConfig(replicas=2))
    a_target.scale(instance, 3)
    assert a_target.replica_counts(instance) == (3, 3)
    with pytest.raises(ConfigurationError, match="1 or more"):
        a_target.scale(instance, 0)


def test_scale_is_refused_while_an_autoscaler_owns_the_count(a_target):
    instance = deploy(a_target, ClusterConfig(autoscale=AutoScale(2, 4, 70, 1),
                                              autoscale_explicit=True))
    with pytest.raises(ConfigurationError, match="autoscales"):
        a_target.scale(instance, 3)


def test_stop_and_start_keep_the_count(a_target):
    instance = deploy(a_target, ClusterConfig(replicas=3))
    a_target.stop(instance)
    assert a_target.status(instance) == "exited" and a_target.state(instance, "/") == "Stopped"
    a_target.start(instance)
    assert a_target.replica_counts(instance) == (3, 3)


def test_logs_are_merged_and_name_their_pod(a_target):
    instance = deploy(a_target, ClusterConfig(replicas=2))
    lines = a_target.logs(instance).splitlines()
    assert len(lines) == 4 and all(" | " in line for line in lines)
    assert {line.split(" | ")[0] for line in lines} == {p.metadata.name for p in
                                                         _pods(a_target, instance)}
    assert all("booting" in line for line in lines[:2])  # time order across pods
    assert len(a_target.logs(instance, 1).splitlines()) == 1


def _pods(target: KubernetesTarget, instance) -> list:
    return target.apis.core.list_namespaced_pod(
        instance.namespace, label_selector=f"app.kubernetes.io/name={instance.name}").items


def test_a_good_update_rolls_out_and_keeps_a_scaled_count(a_target, a_cluster):
    instance = deploy(a_target, ClusterConfig(replicas=2))
    a_target.scale(instance, 3)
    seen: list[Any] = []
    a_target.replace(instance, "127.0.0.1:5000/models/iris:2", RunOptions(name="iris"), print,
                     seen.append)
    deployment = a_cluster.objects[("Deployment", "default", "iris")]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":2")
    assert deployment["spec"]["replicas"] == 3 and seen == [instance]
    assert a_target.state(instance, "/") == "Healthy"


def test_a_crashing_update_puts_the_previous_version_back(a_target, a_cluster):
    # Given a healthy service and a new image whose init() crashes
    instance = deploy(a_target, ClusterConfig(replicas=2))
    a_cluster.crashing.add("127.0.0.1:5000/models/iris:bad")
    # When it is rolled out
    with pytest.raises(ContainerError) as caught:
        a_target.replace(instance, "127.0.0.1:5000/models/iris:bad", RunOptions(name="iris"),
                         print, lambda _: None)
    # Then the error carries the crash and its log, and the old image serves again
    assert "CrashLoopBackOff" in str(caught.value) and "init() failed" in caught.value.logs
    assert "serving again" in str(caught.value)
    deployment = a_cluster.objects[("Deployment", "default", "iris")]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE
    assert deployment["spec"]["replicas"] == 2
    assert a_target.state(instance, "/") == "Healthy"


def test_wait_until_ready_streams_logs_and_stops_at_a_crash(a_target, a_cluster):
    a_cluster.crashing.add("127.0.0.1:5000/models/iris:bad")
    lines: list[str] = []
    instance = deploy(a_target, ClusterConfig(replicas=1), "127.0.0.1:5000/models/iris:bad")
    with pytest.raises(ContainerError, match="cannot become ready"):
        a_target.wait_until_ready(instance, "/", 5, lines.append, "0")
    assert any("init() failed" in line for line in lines)


def test_regen_key_changes_one_key_and_rolls_the_pods(a_target, a_cluster):
    instance = deploy(a_target, ClusterConfig(replicas=2, primary_key=KEYS[0],
                                              secondary_key=KEYS[1]))
    before = a_cluster.generation
    a_target.regen_key(instance, "Secondary", "s-new-key-value")
    assert a_target.get_keys(instance) == (KEYS[0], "s-new-key-value")
    template = a_cluster.objects[("Deployment", "default", "iris")]["spec"]["template"]
    assert "kubectl.kubernetes.io/restartedAt" in template["metadata"]["annotations"]
    assert a_cluster.generation > before
    a_target.regen_key(instance, "Primary")
    assert a_target.get_keys(instance)[0] not in (KEYS[0], "s-new-key-value")
    with pytest.raises(ConfigurationError, match="'Primary' or 'Secondary'"):
        a_target.regen_key(instance, "Tertiary")


def test_a_service_without_auth_has_no_keys(a_target):
    instance = deploy(a_target, ClusterConfig(replicas=1, auth_enabled=False))
    with pytest.raises(ConfigurationError, match="auth off"):
        a_target.get_keys(instance)
    with pytest.raises(ConfigurationError, match="auth off"):
        a_target.regen_key(instance, "Primary")


def test_remove_leaves_nothing(a_target, a_cluster):
    instance = deploy(a_target, ClusterConfig(autoscale=AutoScale()))
    a_target.remove(instance)
    assert a_cluster.objects == {} and a_cluster.pods == {}
    assert a_target.find("iris") is None and a_target.state(instance, "/") == "Deleted"


def test_find_list_and_the_record(a_target):
    deploy(a_target, ClusterConfig(replicas=1))
    found = a_target.find("iris")
    assert found is not None and found.id == "uid-iris"
    assert [s.name for s in a_target.list("jupyter_deploy.service=iris")] == ["iris"]
    assert a_target.list("jupyter_deploy.service=other") == []
    record = a_target.labels(found)
    assert record["jupyter_deploy.spec"] == '{"name": "iris"}'
    assert json.loads(record["jupyter_deploy.cluster"])["numReplicas"] == 1


def test_the_endpoint_is_the_services_and_says_where_it_answers(a_target, a_cluster):
    lines: list[str] = []
    instance = deploy(a_target, ClusterConfig(replicas=1), lines=lines)
    assert a_target.endpoint(instance) == "http://iris.default.svc.cluster.local"
    assert any("kubectl port-forward" in line for line in lines)
    service = a_cluster.objects[("Service", "default", "iris")]
    service["status"] = {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}}
    assert a_target.endpoint(instance) == "http://203.0.113.7"


def test_the_configured_namespace_is_used(a_target, a_cluster):
    instance = deploy(a_target, ClusterConfig(replicas=1, namespace="models"))
    assert instance.namespace == "models"
    assert all(k[1] == "models" for k in a_cluster.objects)


def test_check_names_a_missing_namespace(a_target):
    a_target.check()
    with pytest.raises(ConfigurationError, match="kubectl create namespace nowhere"):
        KubernetesTarget("c", "nowhere", apis=a_target.apis).check()


def test_reload_is_refused_with_what_to_do_instead(a_target):
    instance = deploy(a_target, ClusterConfig(replicas=1))
    with pytest.raises(ConfigurationError, match="use update"):
        a_target.copy_files(instance, "/var/azureml-app", {})


def test_a_refusal_from_the_cluster_becomes_our_error(a_target, a_cluster, monkeypatch):
    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise ApiException(status=403, reason="Forbidden",
                           body=json.dumps({"message": "deployments is forbidden"}))

    monkeypatch.setattr(a_target.apis.apps, "patch_namespaced_deployment", forbidden)
    with pytest.raises(ConfigurationError, match=r"deployments is forbidden.*kubectl auth can-i"):
        deploy(a_target, ClusterConfig(replicas=1))


def test_a_missing_client_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "kubernetes", None)
    with pytest.raises(ConfigurationError, match=r"jupyter_deploy\[kubernetes\]"):
        _ = KubernetesTarget("c", "default").apis


def test_a_missing_kubeconfig_context_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    with pytest.raises(ConfigurationError, match="context 'nope'"):
        _ = KubernetesTarget("nope", "default").apis
