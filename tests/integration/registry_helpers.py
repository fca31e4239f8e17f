"""Helpers shared by the registry integration tests and the registry benchmark.

Free ports reserved for this run (see ``tests/ports.py``), a tiny image built FROM scratch (pushes
in a blink), registries started in a temporary folder, and a fast way to fill a registry with many
repositories or tags through its own HTTP API (blob mounts plus manifests: no engine involved).
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from jupyter_deploy.engine import images
from jupyter_deploy.registry.client import OCI_MANIFEST, RegistryClient
from jupyter_deploy.registry.local import LocalRegistry, TokenAuth

# The registry benchmark imports this module from outside pytest: tests/ holds ports.py.
if str(Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ports import an_unused_port


def a_free_port() -> int:
    """A loopback port nothing listens on, reserved for this run (no other run gets it)."""
    return an_unused_port()


@contextlib.contextmanager
def running_registry(root: Path, htpasswd: Path | None = None,
                     token: TokenAuth | None = None, port: int | None = None,
                     ) -> Iterator[LocalRegistry]:
    """A registry on ``port`` (default: a free one), data in ``root``, stopped afterwards."""
    address = f"127.0.0.1:{port or a_free_port()}"
    registry = LocalRegistry(address, root, htpasswd=htpasswd, token=token)
    registry.start()
    try:
        yield registry
    finally:
        registry.stop()


def build_tiny_image(folder: Path, tag: str, labels: Mapping[str, str]) -> images.BuiltImage:
    """An image FROM scratch holding one small file, labelled ``labels`` plus a purpose label."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hello.txt").write_text(f"hello from {tag}\n")
    (folder / "Dockerfile").write_text(
        "FROM scratch\nCOPY hello.txt /hello.txt\nLABEL org.jupyter-deploy.purpose=registry-test\n"
    )
    return images.build(str(folder), tag, labels=labels)


def push_tiny_image(registry: LocalRegistry, name: str, folder: Path,
                    labels: Mapping[str, str]) -> str:
    """Build a tiny image as ``<registry>/<name>`` (``repository:tag``), push it, return the ref."""
    reference = f"{registry.address}/{name}"
    build_tiny_image(folder, reference, labels)
    images.push(reference)
    return reference


def fill_registry(client: RegistryClient, repositories: list[str],
                  tags: list[str], workers: int = 8) -> None:
    """Store a tiny image under every repository and tag (distinct configs, one shared layer)."""
    first = repositories[0]
    content = b"jupyter-deploy registry fill\n"
    layer = client.upload_blob(first, content)

    def fill(repository: str) -> None:
        if repository != first:
            client.mount_blob(repository, layer, first)
        for tag in tags:
            config = _config(repository, tag)
            digest = client.upload_blob(repository, config)
            client.put_manifest(repository, tag,
                                _manifest((digest, len(config)), (layer, len(content))))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(fill, repositories))


def _config(repository: str, tag: str) -> bytes:
    return json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2026-01-01T00:00:00Z",
        "config": {"Labels": {"fill.repository": repository, "fill.tag": tag}},
        "rootfs": {"type": "layers", "diff_ids": []},
    }).encode()


def _manifest(config: tuple[str, int], layer: tuple[str, int]) -> dict[str, Any]:
    return {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config[0], "size": config[1]},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer[0], "size": layer[1]}],
    }
