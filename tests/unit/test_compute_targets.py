"""Compute targets in the workspace, and what the swarm target refuses, without an engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_deploy.cli.main import main
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.services.compute import ComputeTargets
from jupyter_deploy.services.workspace import Workspace
from jupyter_deploy.spec.cluster import AutoScale, ClusterConfig
from jupyter_deploy.targets.kubernetes.target import KubernetesTarget
from jupyter_deploy.targets.local import LocalTarget
from jupyter_deploy.targets.swarm import SwarmTarget
from jupyter_deploy.targets.swarm.service_spec import (
    endpoint,
    mesh_port,
    pullable,
    refuse_unsupported,
)

KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: c1
  cluster: {server: "https://127.0.0.1:6443"}
users:
- name: u1
  user: {token: "not-a-real-token"}
contexts:
- name: prod
  context: {cluster: c1, user: u1}
current-context: prod
"""


@pytest.fixture
def a_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    monkeypatch.setenv("KUBECONFIG", str(path))
    return path


def test_local_is_always_there_and_swarm_resolves_before_it_is_attached(tmp_path: Path) -> None:
    targets = ComputeTargets(Workspace(tmp_path / "ws"))
    assert [t.name for t in targets.list()] == ["local"]
    assert isinstance(targets.target("local"), LocalTarget)
    assert isinstance(targets.target("swarm"), SwarmTarget)
    with pytest.raises(ConfigurationError, match=r"no compute target named 'aks-1'.*local"):
        targets.target("aks-1")


def test_a_kubernetes_context_is_attached_listed_and_detached(
    tmp_path: Path, a_kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = ["-w", str(tmp_path / "ws")]
    # When a context of the kubeconfig is attached under a name
    assert main(["compute", "attach", "prod-k8s", "--context", "prod", "--namespace", "ml",
                 *ws]) == 0
    # Then it is listed, and deploying there goes to a Kubernetes target in that namespace
    assert main(["compute", "ls", *ws]) == 0
    listing = capsys.readouterr().out
    assert "prod-k8s" in listing and "namespace ml" in listing
    target = ComputeTargets(Workspace(tmp_path / "ws")).target("prod-k8s")
    assert isinstance(target, KubernetesTarget)
    # And a context the kubeconfig does not have is refused, naming the ones it has
    assert main(["compute", "attach", "staging", "--context", "staging", *ws]) == 1
    assert "has no context 'staging': it has prod" in capsys.readouterr().err
    # And detaching forgets it (only it)
    assert main(["compute", "detach", "prod-k8s", *ws]) == 0
    assert main(["compute", "detach", "prod-k8s", *ws]) == 1
    assert [t.name for t in ComputeTargets(Workspace(tmp_path / "ws")).list()] == ["local"]


def test_local_cannot_be_attached_or_replaced(tmp_path: Path) -> None:
    targets = ComputeTargets(Workspace(tmp_path / "ws"))
    with pytest.raises(ConfigurationError, match="local is always there"):
        targets.attach("mine", "local")
    with pytest.raises(ConfigurationError, match="choose another name"):
        targets.attach("local", "swarm")


def test_the_local_target_refuses_a_cluster_configuration() -> None:
    with pytest.raises(ConfigurationError, match="needs a cluster target"):
        LocalTarget().configured(ClusterConfig(replicas=2))


def test_swarm_refuses_autoscale_and_what_it_cannot_honour_by_name() -> None:
    asked = ClusterConfig(autoscale=AutoScale(1, 4), autoscale_explicit=True)
    with pytest.raises(ConfigurationError, match=r"no autoscaler.*num_replicas.*Kubernetes"):
        refuse_unsupported(asked)
    # The SDK's default-on autoscaler (no num_replicas given) is not a request: one replica
    refuse_unsupported(ClusterConfig(autoscale=AutoScale(), autoscale_explicit=False))
    for config, name in ((ClusterConfig(gpu_cores=1), "gpu_cores"),
                         (ClusterConfig(namespace="ml"), "namespace")):
        with pytest.raises(ConfigurationError, match=name):
            SwarmTarget().configured(config)


def test_every_interface_is_published_through_the_mesh_only_when_asked_with_keys() -> None:
    # By default: DNS round robin, no published port (the load balancer is on 127.0.0.1)
    assert endpoint(ClusterConfig(), None) == {"Mode": "dnsrr"}
    assert mesh_port({"Spec": {"EndpointSpec": {"Mode": "dnsrr"}}}) is None
    # Asked for without keys: refused (anyone on the network would reach it)
    with pytest.raises(ConfigurationError, match="auth_enabled"):
        ClusterConfig(publish_all_interfaces=True, auth_enabled=False)
    # Asked for, with auth on: a virtual IP and the port on every node's interfaces
    mesh = ClusterConfig(publish_all_interfaces=True, auth_enabled=True)
    SwarmTarget().configured(mesh)
    spec = endpoint(mesh, 31001)
    assert spec["Mode"] == "vip"
    assert spec["Ports"] == [{"Protocol": "tcp", "PublishedPort": 31001, "TargetPort": 5001}]
    assert mesh_port({"Spec": {"EndpointSpec": spec}}) == 31001


def test_a_multi_node_swarm_needs_an_image_from_a_registry() -> None:
    assert pullable("jupyter-deploy/m:abc", "m", 1) == "jupyter-deploy/m:abc"
    assert pullable("127.0.0.1:5000/m:abc", "m", 3) == "127.0.0.1:5000/m:abc"
    with pytest.raises(ConfigurationError, match=r"3 nodes.*push it to a registry"):
        pullable("jupyter-deploy/m:abc", "m", 3)


def test_replicas_below_one_are_refused_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy", "svc", "-e", str(tmp_path / "score.py"), "--ct", "swarm",
                 "--replicas", "0", "-w", str(tmp_path / "ws")]) == 1
    assert "--replicas must be 1 or more" in capsys.readouterr().err
