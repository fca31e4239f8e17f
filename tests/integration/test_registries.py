"""The registry client, the catalog and pull/push against real Distribution registry processes.

Two registries per module: an open one, and one behind htpasswd Basic auth. Images are tiny
(FROM scratch, one file) and carry the run's test labels, so teardown removes them.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_helpers import a_free_port, build_tiny_image, running_registry

from jupyter_deploy.cli.main import main
from jupyter_deploy.config import get_config
from jupyter_deploy.engine import images
from jupyter_deploy.engine.client import docker_client
from jupyter_deploy.engine.progress import ProgressAggregator
from jupyter_deploy.errors import (
    ImageReferenceError,
    RegistryAuthError,
    RegistryNotFoundError,
    RegistryUnreachableError,
)
from jupyter_deploy.registry.catalog import Catalog
from jupyter_deploy.registry.client import OCI_INDEX, RegistryClient
from jupyter_deploy.registry.local import LocalRegistry, write_htpasswd
from jupyter_deploy.spec.environment import RegistryCredentials

USER, PASSWORD = "alice", "correct-horse-battery"


@pytest.fixture(scope="module")
def an_open_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    with running_registry(tmp_path_factory.mktemp("open-registry")) as registry:
        yield registry


@pytest.fixture(scope="module")
def a_private_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    root = tmp_path_factory.mktemp("private-registry")
    htpasswd = write_htpasswd(root / "htpasswd", {USER: PASSWORD})
    with running_registry(root, htpasswd=htpasswd) as registry:
        yield registry


@pytest.fixture(scope="module")
def an_image_in_the_open_registry(
    an_open_registry: LocalRegistry, test_labels: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> str:
    ref = f"{an_open_registry.address}/jdtest/tiny:{next(iter(test_labels.values()))}"
    build_tiny_image(tmp_path_factory.mktemp("tiny"), ref, test_labels)
    images.push(ref)
    return ref


def test_listing_shows_a_pushed_image_with_the_details_docker_inspect_gives(
    an_open_registry: LocalRegistry, an_image_in_the_open_registry: str
) -> None:
    # Given an image pushed to an open registry
    ref = an_image_in_the_open_registry
    repository, tag = ref.split("/", 1)[1].split(":")
    # When the catalog lists the registry
    catalog = Catalog([RegistryCredentials(an_open_registry.address)], ttl=0)
    repositories = catalog.repositories(an_open_registry.address)
    rows = catalog.tags(an_open_registry.address, repository)
    # Then the repository and tag are there, with what the engine says about the image
    inspect = docker_client().api.inspect_image(ref)
    assert repository in repositories
    row = next(r for r in rows if r["tag"] == tag)
    assert f"{ref.rsplit(':', 1)[0]}@{row['digest']}" in inspect["RepoDigests"]
    assert row["config_digest"] == inspect["Id"]
    assert row["labels"] == inspect["Config"]["Labels"]
    assert row["platforms"] == [f"{inspect['Os']}/{inspect['Architecture']}"]
    assert _instant(row["created"]) == _instant(inspect["Created"])
    assert row["size"] > 0


def test_an_index_lists_its_platforms(
    an_open_registry: LocalRegistry, an_image_in_the_open_registry: str
) -> None:
    # Given an OCI index that points at the pushed image as linux/amd64
    client = RegistryClient(an_open_registry.address)
    repository, tag = an_image_in_the_open_registry.split("/", 1)[1].split(":")
    image = client.manifest(repository, tag)
    entry = {"mediaType": image.media_type, "digest": image.digest,
             "size": len(str(image.body)), "platform": {"os": "linux", "architecture": "amd64"}}
    client.put_manifest(repository, "multi", {"schemaVersion": 2, "mediaType": OCI_INDEX,
                                              "manifests": [entry]})
    # When its details are read
    details = client.details(repository, "multi")
    # Then the index's platforms and the chosen image's config are shown
    assert details.media_type == OCI_INDEX
    assert details.platforms == ["linux/amd64"]
    assert details.config_digest == image.config_digest


def test_push_then_pull_round_trips_with_one_progress_bar(
    an_open_registry: LocalRegistry, test_labels: dict[str, str], tmp_path: Path
) -> None:
    # Given a built image pushed to the registry, then removed from the engine
    ref = f"{an_open_registry.address}/jdtest/roundtrip:{next(iter(test_labels.values()))}"
    built = build_tiny_image(tmp_path, ref, test_labels)
    pushed = ProgressAggregator()
    assert "digest: sha256:" in images.push(ref, on_event=pushed)
    docker_client().images.remove(ref, force=True)
    # When it is pulled back with a progress aggregator
    pulled = ProgressAggregator()
    status = images.pull(ref, on_event=pulled)
    pulled.finish()
    # Then the engine has the same image, and the summary reads like `docker pull`
    assert status == f"Status: Downloaded newer image for {ref}"
    assert docker_client().images.get(ref).id == built.id
    assert pulled.fraction == 1.0 and pulled.layers
    assert pushed.layers and pushed.summary.endswith("size: " + pushed.summary.split()[-1])


def test_a_deleted_manifest_is_gone(
    an_open_registry: LocalRegistry, test_labels: dict[str, str], tmp_path: Path
) -> None:
    # Given a pushed image
    ref = f"{an_open_registry.address}/jdtest/deleteme:{next(iter(test_labels.values()))}"
    build_tiny_image(tmp_path, ref, test_labels)
    images.push(ref)
    client = RegistryClient(an_open_registry.address)
    # When it is deleted by tag (resolved to its digest)
    digest = client.delete("jdtest/deleteme", ref.rsplit(":", 1)[1])
    # Then neither the digest nor the tag resolves any more
    with pytest.raises(RegistryNotFoundError):
        client.manifest("jdtest/deleteme", digest)


def test_a_private_registry_takes_the_right_password_only(
    a_private_registry: LocalRegistry, test_labels: dict[str, str], tmp_path: Path
) -> None:
    # Given an image pushed to a password-protected registry with the right login
    address = a_private_registry.address
    ref = f"{address}/jdtest/private:{next(iter(test_labels.values()))}"
    build_tiny_image(tmp_path, ref, test_labels)
    login = RegistryCredentials(address, USER, PASSWORD)
    images.push(ref, auth_config=login.auth_config())
    # When it is listed with the login, with a wrong password, and anonymously
    rows = Catalog([login]).tags(address, "jdtest/private")
    wrong = RegistryCredentials(address, USER, "not-the-password")
    with pytest.raises(RegistryAuthError) as refused:
        RegistryClient(address, wrong).repositories()
    with pytest.raises(RegistryAuthError) as anonymous:
        RegistryClient(address).tags("jdtest/private")
    # Then only the login works, and no message shows a password
    assert [r["tag"] for r in rows] == [ref.rsplit(":", 1)[1]]
    assert "not-the-password" not in str(refused.value) and USER in str(refused.value)
    assert "needs a login" in str(anonymous.value)


def test_a_push_without_the_login_raises_from_the_stream(
    a_private_registry: LocalRegistry, test_labels: dict[str, str], tmp_path: Path
) -> None:
    # Given an image for the private registry
    ref = f"{a_private_registry.address}/jdtest/nologin:{next(iter(test_labels.values()))}"
    build_tiny_image(tmp_path, ref, test_labels)
    # When it is pushed with a wrong password, Then the stream's error becomes ours
    with pytest.raises(RegistryAuthError) as refused:
        wrong = RegistryCredentials(a_private_registry.address, USER, "wrong-pass")
        images.push(ref, auth_config=wrong.auth_config())
    assert "wrong-pass" not in str(refused.value)


def test_an_unreachable_registry_has_its_own_error() -> None:
    # Given an address nothing listens on
    address = f"127.0.0.1:{a_free_port()}"
    # When it is browsed and pulled from, Then both say it does not answer
    with pytest.raises(RegistryUnreachableError):
        RegistryClient(address).repositories()
    with pytest.raises(RegistryUnreachableError):
        images.pull(f"{address}/jdtest/nothing:1")


def test_the_catalog_shows_partial_results_when_one_registry_is_down(
    an_open_registry: LocalRegistry,
) -> None:
    # Given the open registry and one that does not answer
    down = f"127.0.0.1:{a_free_port()}"
    catalog = Catalog([RegistryCredentials(an_open_registry.address), RegistryCredentials(down)])
    # When the registries are summarised
    summary = {row["address"]: row for row in catalog.registries()}
    # Then the live one is reachable and the dead one says why not
    assert summary[an_open_registry.address]["reachable"] is True
    assert summary[down]["reachable"] is False and "nothing answers" in summary[down]["error"]


def test_a_bad_image_reference_has_its_own_error() -> None:
    # When an invalid reference is pulled or pushed, Then it is refused before the engine
    with pytest.raises(ImageReferenceError):
        images.pull("127.0.0.1:5000/Upper Case:tag")
    with pytest.raises(ImageReferenceError):
        images.push("bad//name")


def test_the_local_images_summary_lists_a_built_image(
    an_image_in_the_open_registry: str,
) -> None:
    # When the local engine is summarised, Then the tiny image is there with its labels
    rows = Catalog(ttl=0).local_images()
    row = next(r for r in rows if an_image_in_the_open_registry in r["tags"])
    assert row["labels"]["org.jupyter-deploy.purpose"] == "registry-test"


def _instant(text: str) -> dt.datetime:
    """An RFC 3339 time with nanoseconds cut to microseconds."""
    head, _, fraction = text.rstrip("Z").partition(".")
    return dt.datetime.fromisoformat(f"{head}.{(fraction or '0')[:6]:0<6}")


def test_the_cli_lists_pulls_and_pushes(
    an_open_registry: LocalRegistry, an_image_in_the_open_registry: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the open registry holding an image
    address, ref = an_open_registry.address, an_image_in_the_open_registry
    repository = ref.split("/", 1)[1].split(":")[0]
    # When `registry ls` runs, with and without a repository, and the image is pushed and pulled
    assert main(["registry", "ls", address, "--json"]) == 0
    repositories = json.loads(capsys.readouterr().out)
    assert main(["registry", "ls", address, "--repository", repository]) == 0
    table = capsys.readouterr().out
    assert main(["push", ref]) == 0
    pushed = capsys.readouterr().out
    assert main(["pull", ref]) == 0
    pulled = capsys.readouterr()
    # Then each printed what a user expects
    assert repository in repositories
    assert table.splitlines()[0].startswith("TAG") and ref.rsplit(":", 1)[1] in table
    assert "digest: sha256:" in pushed
    assert pulled.out.strip() == f"Status: Image is up to date for {ref}"
    assert "100%" in pulled.err


def test_the_cli_logs_in_with_a_password_from_stdin(
    a_private_registry: LocalRegistry, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the password on stdin
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    # When the private registry is listed with it, Then it works
    assert main(["registry", "ls", a_private_registry.address, "-u", USER,
                 "--password-stdin", "--json"]) == 0
    assert isinstance(json.loads(capsys.readouterr().out), list)
    # And with a wrong one it fails with a message that does not show it
    monkeypatch.setattr("sys.stdin", io.StringIO("wrong-from-stdin\n"))
    assert main(["registry", "ls", a_private_registry.address, "-u", USER,
                 "--password-stdin"]) == 1
    err = capsys.readouterr().err
    assert "refused the login" in err and "wrong-from-stdin" not in err


def test_the_cli_starts_and_stops_the_workspace_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a workspace whose registry address is a free test port
    monkeypatch.setenv("JUPYTER_DEPLOY_HOME", str(tmp_path))
    monkeypatch.setattr(get_config(), "registry_address", f"127.0.0.1:{a_free_port()}")
    # When it is started, asked about, stopped and asked again
    assert main(["registry", "start", "--json"]) == 0
    started = json.loads(capsys.readouterr().out)
    assert main(["registry", "status", "--json"]) == 0
    running = json.loads(capsys.readouterr().out)
    assert main(["registry", "stop"]) == 0
    stopped = capsys.readouterr().out
    assert main(["registry", "status", "--json"]) == 0
    after = json.loads(capsys.readouterr().out)
    # Then each answer says so, and the data stayed in the workspace
    assert started["running"] and running["mode"] == "process"
    assert running["root"].startswith(str(tmp_path))
    assert stopped.startswith("Stopped") and after["running"] is False


def test_the_cli_starts_a_password_protected_workspace_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a workspace on a free test port, and a password on stdin
    monkeypatch.setenv("JUPYTER_DEPLOY_HOME", str(tmp_path))
    address = f"127.0.0.1:{a_free_port()}"
    monkeypatch.setattr(get_config(), "registry_address", address)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    # When the registry is started with a login
    assert main(["registry", "start", "-u", USER, "--password-stdin", "--json"]) == 0
    try:
        started = json.loads(capsys.readouterr().out)
        # Then it asks for that login, and its status says so
        with pytest.raises(RegistryAuthError):
            RegistryClient(address).repositories()
        RegistryClient(address, RegistryCredentials(address, USER, PASSWORD)).ping()
        assert started["auth"] == "htpasswd"
        assert main(["registry", "status", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["auth"] == "htpasswd"
    finally:
        assert main(["registry", "stop"]) == 0
