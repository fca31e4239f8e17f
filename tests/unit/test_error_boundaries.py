"""Each boundary turns the failures it meets into our errors, saying what to do next.

The failures are fed in as the real libraries raise them (docker-py's and requests' own exception
classes, a finished ``subprocess`` run), one test per boundary.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import docker.errors
import pytest
import requests

from jupyter_deploy.engine import client as engine_client
from jupyter_deploy.engine import default_base
from jupyter_deploy.engine.client import translate_docker_errors
from jupyter_deploy.errors import (
    BaseImageError,
    ConfigurationError,
    ConflictError,
    DeployError,
    DockerUnavailableError,
    ImageNotFoundError,
    NotFoundError,
    PortInUseError,
    RegistryAuthError,
    ServiceNotFoundError,
)
from jupyter_deploy.scoring.client import to_payload
from jupyter_deploy.spec.record import LABEL_SERVICE, LABEL_SPEC, ServiceRecord


def _api_error(status: int, text: str) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    return docker.errors.APIError(text, response=response, explanation=text)


@pytest.mark.parametrize(("raised", "expected", "words"), [
    (requests.exceptions.ReadTimeout("read timed out"), DockerUnavailableError, "did not answer"),
    (requests.exceptions.ConnectionError("refused"), DockerUnavailableError, "lost the Docker"),
    (docker.errors.NotFound("no such container", response=None), ServiceNotFoundError, "not found"),
    (docker.errors.ImageNotFound("no such image"), ImageNotFoundError, "image not found"),
    (_api_error(500, "disk full"), DeployError, "the engine answered disk full"),
    (docker.errors.NotFound("network jd-net not found", response=None), NotFoundError,
     "not found"),
    (_api_error(409, "Conflict. The container name is already in use"), ConflictError,
     "already in use"),
    (_api_error(400, "invalid reference format"), ConfigurationError, "invalid reference"),
])
def test_engine_failures_become_ours(raised: Exception, expected: type, words: str) -> None:
    # When an engine call fails the way docker-py and requests report it
    with pytest.raises(expected) as caught, translate_docker_errors("starting 'x'"):
        raise raised
    # Then the error is ours, names the action, and says what happened
    assert type(caught.value) is expected
    assert "starting 'x'" in str(caught.value) and words in str(caught.value)


@pytest.fixture
def debootstrap_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[list[str]]:
    """debootstrap and tar, replaced by finished processes that the test decides the end of."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(default_base.shutil, "which", lambda name: f"/usr/sbin/{name}")
    runs: list[list[str]] = []
    monkeypatch.setattr(default_base, "_slim", lambda rootfs: None)
    return runs


def _finish(runs: list[list[str]], failing: str) -> Any:
    def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        runs.append(args)
        code = 1 if args[0] == failing else 0
        return subprocess.CompletedProcess(args, code, "", f"{args[0]}: E: it went wrong")
    return run


@pytest.mark.parametrize(("failing", "words"), [
    ("debootstrap", "Debian's package mirror"), ("tar", "check the free space"),
])
def test_an_offline_base_build_that_fails_says_why(
    debootstrap_runs: list[list[str]], monkeypatch: pytest.MonkeyPatch, failing: str, words: str
) -> None:
    # Given debootstrap (or tar) ending with an error
    monkeypatch.setattr(default_base.subprocess, "run", _finish(debootstrap_runs, failing))
    # Then the error is ours, with advice and the tool's own last lines
    with pytest.raises(BaseImageError, match=words) as caught:
        default_base.rootfs_tarball(lambda line: None)
    assert "it went wrong" in str(caught.value)


class _Images:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def pull(self, name: str) -> Any:
        raise self.error


class _Client:
    def __init__(self, error: Exception) -> None:
        self.images = _Images(error)


def test_a_refused_public_pull_is_not_mistaken_for_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a public registry that answers but refuses the credentials in Docker's config
    refused = _api_error(401, "unauthorized: incorrect username or password")
    monkeypatch.setattr(default_base, "docker_client", lambda: _Client(refused))
    # Then the refusal is raised as such, not turned into an offline build
    with pytest.raises(RegistryAuthError, match="refused the credentials"):
        default_base._try_public_pull("jupyter-deploy/python:3.11", lambda line: None)


def test_an_unreachable_public_registry_means_an_offline_build(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines: list[str] = []
    unreachable = _api_error(500, "Get https://r/v2/: dial tcp: lookup r: no such host")
    monkeypatch.setattr(default_base, "docker_client", lambda: _Client(unreachable))
    assert default_base._try_public_pull("jupyter-deploy/python:3.11", lines.append) is False
    assert "building jupyter-deploy/python:3.11 offline" in lines[0]


def test_the_client_is_made_once_and_forgotten_when_the_engine_goes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a client factory that counts its pings
    pings: list[int] = []

    class Client:
        def ping(self) -> bool:
            pings.append(1)
            return True

    monkeypatch.setattr(engine_client, "_client", None)
    monkeypatch.setattr(engine_client.docker, "from_env", lambda timeout: Client())
    # When it is asked for many times, it pings once
    first = engine_client.docker_client()
    assert all(engine_client.docker_client() is first for _ in range(20))
    assert len(pings) == 1
    # And a lost connection makes the next call connect afresh
    with pytest.raises(DockerUnavailableError), translate_docker_errors("listing"):
        raise requests.exceptions.ConnectionError("gone")
    assert engine_client.docker_client() is not first


def test_sets_and_dates_are_sent_and_other_objects_are_named() -> None:
    # Given rows with a set and a date
    body = json.loads(to_payload({"data": [[{2, 1}, dt.date(2026, 12, 1)]]}))
    # Then they travel as a list and ISO text
    assert body == {"data": [[[1, 2], "2026-12-01"]]}
    # And an object with no JSON form is our error, naming its type
    with pytest.raises(ConfigurationError, match="object has no JSON form"):
        to_payload([[object()]])


@pytest.mark.parametrize("spec", ["{not json", '{"package": {"models": "x"}}', "[]"])
def test_a_label_changed_by_hand_is_our_error(spec: str) -> None:
    labels = {LABEL_SERVICE: "svc", LABEL_SPEC: spec}
    with pytest.raises(ConfigurationError, match="deploy the service again"):
        ServiceRecord.from_labels(labels)


@pytest.mark.parametrize(("code", "expected", "words"), [
    (errno.EADDRINUSE, PortInUseError, "the port is taken"),
    (errno.EACCES, ConfigurationError, "ports below 1024 need root"),
])
def test_serve_tells_a_taken_port_from_other_failures(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, code: int, expected: type, words: str
) -> None:
    from jupyter_deploy.cli.main import _cmd_serve, build_parser
    from jupyter_deploy.server import server

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(server, "serve_entry_script", refuse)
    script = tmp_path / "score.py"
    script.write_text("def init():\n    pass\n\ndef run(raw):\n    return raw\n")
    with pytest.raises(expected, match=words):
        _cmd_serve(build_parser().parse_args(
            ["serve", "--entry-script", str(script), "--port", "80"]))


@pytest.mark.parametrize(("docker_host", "remote"), [
    ("", None), ("unix:///var/run/docker.sock", None), ("tcp://127.0.0.1:2375", None),
    ("tcp://localhost:2375", None), ("tcp://build-box.example:2376", "build-box.example"),
    ("ssh://me@build-box.example", "build-box.example"),
])
def test_the_engines_machine_is_read_from_docker_host(
    monkeypatch: pytest.MonkeyPatch, docker_host: str, remote: str | None
) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    assert engine_client.engine_host() == remote


def test_a_remote_engine_with_loopback_publishing_is_refused_before_anything_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given an engine on another machine (never contacted: the check comes first)
    monkeypatch.setenv("DOCKER_HOST", "tcp://build-box.example:2376")
    monkeypatch.setattr(engine_client, "docker_client", _no_engine_call)
    import jupyter_deploy as jd

    # When a deploy starts, it is refused at once, saying what to set
    with pytest.raises(ConfigurationError, match="host_interface") as caught:
        jd.deploy("svc", tmp_path / "score.py")
    assert "build-box.example" in str(caught.value)


def _no_engine_call(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the engine was asked before the check")
