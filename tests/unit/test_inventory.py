"""Shaping the engine's answers for the sidebar, and checking references, without an engine."""

from __future__ import annotations

import pytest

from jupyter_deploy.errors import ConfigurationError, ImageReferenceError
from jupyter_deploy.services import inventory
from jupyter_deploy.spec.reference import ImageReference

A_SERVICE = {
    "Id": "0123456789abcdef" * 4, "Names": ["/iris"], "Image": "jupyter-deploy/iris:abc",
    "State": "running", "Status": "Up 3 minutes (healthy)", "Created": 1_000,
    "Ports": [{"IP": "127.0.0.1", "PrivatePort": 5001, "PublicPort": 6789, "Type": "tcp"}],
    "Labels": {"jupyter_deploy.managed": "true", "jupyter_deploy.service": "iris",
               "jupyter_deploy.spec": "{}", "com.example.secret": "hunter2"},
}


def test_a_service_is_summarised_with_its_scoring_uri_and_health() -> None:
    # Given the engine's list entry for one of our services
    # When it is summarised
    summary = inventory._summary(A_SERVICE, now=1_060)
    # Then the sidebar gets its name, state, health, port, age and scoring URI
    assert summary["id"] == "0123456789ab"
    assert summary["name"] == "iris"
    assert summary["health"] == "healthy"
    assert summary["age_seconds"] == 60
    assert summary["ours"] is True and summary["service"] == "iris"
    assert summary["scoring_uri"] == "http://127.0.0.1:6789/score"
    assert summary["ports"] == [{"ip": "127.0.0.1", "private_port": 5001,
                                 "public_port": 6789, "type": "tcp"}]


def test_labels_never_pass_through() -> None:
    summary = inventory._summary(A_SERVICE, now=1_060)
    assert "hunter2" not in repr(summary)


def test_a_foreign_container_is_not_ours_and_has_no_scoring_uri() -> None:
    raw = {**A_SERVICE, "Labels": {}, "Status": "Exited (0) 1 second ago", "State": "exited"}
    summary = inventory._summary(raw, now=1_060)
    assert summary["ours"] is False
    assert summary["scoring_uri"] is None
    assert summary["health"] is None


@pytest.mark.parametrize("status,health", [
    ("Up 1 second (health: starting)", "starting"), ("Up 2 hours (unhealthy)", "unhealthy"),
    ("Up 2 hours", None),
])
def test_health_is_read_from_the_status_text(status: str, health: str | None) -> None:
    assert inventory._health(status) == health


@pytest.mark.parametrize("ref", [
    "python", "127.0.0.1:5000/base/python:3.11", "localhost:5000/a/b/c:latest",
    "jupyter-deploy/iris:0a1b2c", "repo@sha256:" + "a" * 64,
])
def test_well_formed_image_references_pass(ref: str) -> None:
    assert str(ImageReference.parse(ref)) == ref


@pytest.mark.parametrize("ref", ["", "Upper/Case", "has space:1", "repo:", "a//b", "repo:tag:x"])
def test_malformed_image_references_are_reference_errors(ref: str) -> None:
    # The sidebar's pull and the core share one grammar: a bad name is a 400 with one message.
    with pytest.raises(ImageReferenceError) as caught:
        ImageReference.parse(ref)
    assert caught.value.http_status == 400


@pytest.mark.parametrize("ref", ["", "../etc", "a b", "x/y", "-leading"])
def test_malformed_container_references_are_configuration_errors(ref: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        inventory.check_container_ref(ref)
    assert caught.value.http_status == 400


def test_cpu_percent_needs_a_previous_sample() -> None:
    sample = {"cpu_stats": {"cpu_usage": {"total_usage": 300}, "system_cpu_usage": 2_000,
                            "online_cpus": 2},
              "precpu_stats": {"cpu_usage": {"total_usage": 100}, "system_cpu_usage": 1_000}}
    assert inventory._cpu_percent(sample) == 40.0
    assert inventory._cpu_percent({"cpu_stats": {}, "precpu_stats": {}}) is None
