"""The same package as Kubernetes manifests, from the CLI and from a running service.

No cluster runs here: the image is pushed to the run's own workspace registry and the manifests
are checked strictly against the Kubernetes schemas (``kubernetes-validate`` ships them).
"""

from __future__ import annotations

import json
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from samples import write_score_py

import jupyter_deploy as jd
from jupyter_deploy.cli.main import main
from jupyter_deploy.config import get_config
from jupyter_deploy.engine import images
from jupyter_deploy.errors import ConfigurationError

K8S_VERSION = "1.30"


def _validated(folder: Path) -> dict[str, dict]:
    """Each manifest in ``folder`` by kind, after strict schema validation."""
    found = {}
    for path in sorted(folder.glob("*.yaml")):
        for manifest in yaml.safe_load_all(path.read_text()):
            kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
            found[manifest["kind"]] = manifest
    return found


def test_the_cli_packages_a_model_as_manifests_with_autoscale(
    tmp_path: Path, test_labels: dict[str, str], capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a registered model, the seeds' inference config and an AKS config with autoscale
    (tmp_path / "model.pkl").write_bytes(b"weights")
    write_score_py(tmp_path, "[1.0]")
    (tmp_path / "ic.json").write_text(json.dumps({"entryScript": "score.py"}))
    (tmp_path / "dc.json").write_text(json.dumps({
        "computeType": "aks", "authEnabled": True,
        "autoScaler": {"autoscaleEnabled": True, "minReplicas": 2, "maxReplicas": 5},
        "containerResourceRequirements": {"cpu": 0.5, "memoryInGB": 1}}))
    ws = ["-w", str(tmp_path / "ws")]
    label = [f"--label={k}={v}" for k, v in test_labels.items()]
    assert main(["model", "register", "-n", "k8smodel", "-p", str(tmp_path / "model.pkl"),
                 *ws]) == 0
    # When it is packaged with --k8s
    assert main(["package", "-m", "k8smodel:1", "--ic", str(tmp_path / "ic.json"), "-n",
                 "k8s-svc", "--dc", str(tmp_path / "dc.json"), "--k8s", str(tmp_path / "k8s"),
                 *ws, *label]) == 0
    location = capsys.readouterr().out.splitlines()
    # Then every manifest passes strict validation, names the pushed image, and has no key
    kinds = _validated(tmp_path / "k8s")
    assert set(kinds) == {"Deployment", "Service", "HorizontalPodAutoscaler", "Secret"}
    image = kinds["Deployment"]["spec"]["template"]["spec"]["containers"][0]["image"]
    assert any(line == image for line in location)
    assert kinds["HorizontalPodAutoscaler"]["spec"]["minReplicas"] == 2
    assert "replicas" not in kinds["Deployment"]["spec"]  # the autoscaler owns them
    assert not kinds["Secret"].get("data") and not any(
        (kinds["Secret"].get("stringData") or {}).values())
    images.pull(image)  # the cluster's view: the image is in the registry


def test_a_running_service_becomes_manifests(
    tmp_path: Path, a_service_name: str, test_labels: dict[str, str],
) -> None:
    # Given a local service
    service = jd.deploy(a_service_name, write_score_py(tmp_path, "[2.0]"), labels=test_labels)
    # When it is written out for Kubernetes with 3 replicas
    written = service.to_kubernetes(tmp_path / "out", jd.ClusterConfig(replicas=3,
                                                                        auth_enabled=False))
    # Then the manifests validate and run 3 replicas of the pushed image, without autoscaler
    kinds = _validated(tmp_path / "out")
    assert {p.name for p in written} >= {"deployment.yaml", "service.yaml"}
    assert "HorizontalPodAutoscaler" not in kinds
    assert kinds["Deployment"]["spec"]["replicas"] == 3
    image = kinds["Deployment"]["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.startswith(f"{get_config().registry_address}/services/{a_service_name}:")
    images.pull(image)
    # And a manifest for an image no registry holds is refused before anything is written
    from jupyter_deploy.services.packages import kubernetes_package

    with pytest.raises(ConfigurationError, match="registry"):
        kubernetes_package("x", service.image, tmp_path / "none")
    assert not (tmp_path / "none").exists()
