"""Pagination against a real registry holding 1,200 repositories and a repository with 200 tags.

The registry is filled through its own HTTP API (blob mounts and manifests, no engine), which
takes seconds. Timing goals are measured by ``benchmarks/bench_registry.py``, not asserted here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from registry_helpers import fill_registry, running_registry

from jupyter_deploy.registry.catalog import Catalog
from jupyter_deploy.registry.client import RegistryClient
from jupyter_deploy.registry.local import LocalRegistry
from jupyter_deploy.spec.environment import RegistryCredentials

REPOSITORIES = [f"fill/repo-{i:04d}" for i in range(1200)]
TAGS = [f"v{i}" for i in range(200)]


@pytest.fixture(scope="module")
def a_full_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    with running_registry(tmp_path_factory.mktemp("full-registry")) as registry:
        client = RegistryClient(registry.address)
        fill_registry(client, REPOSITORIES, ["latest"])
        fill_registry(client, ["fill/many-tags"], TAGS)
        yield registry


def test_all_1200_repositories_are_listed_page_by_page(a_full_registry: LocalRegistry) -> None:
    # Given a registry with 1,201 repositories
    client = RegistryClient(a_full_registry.address)
    # When they are listed in pages of 100 and in the default pages
    small_pages = client.repositories(page_size=100)
    default_pages = client.repositories()
    # Then every one is there, once, in both cases
    assert sorted(small_pages) == sorted([*REPOSITORIES, "fill/many-tags"])
    assert sorted(default_pages) == sorted(small_pages)


def test_200_tags_come_with_their_details(a_full_registry: LocalRegistry) -> None:
    # Given a repository with 200 tags, each its own image config
    catalog = Catalog([RegistryCredentials(a_full_registry.address)])
    # When the catalog lists its tags with details
    rows = catalog.tags(a_full_registry.address, "fill/many-tags")
    # Then every tag has its own labels, digest and platform
    assert sorted(r["tag"] for r in rows) == sorted(TAGS)
    assert all(r["labels"]["fill.tag"] == r["tag"] for r in rows)
    assert len({r["digest"] for r in rows}) == 200
    assert {tuple(r["platforms"]) for r in rows} == {("linux/amd64",)}


def test_tags_are_paged_too(a_full_registry: LocalRegistry) -> None:
    # When the 200 tags are read in pages of 30, Then all arrive
    tags = RegistryClient(a_full_registry.address).tags("fill/many-tags", page_size=30)
    assert sorted(tags) == sorted(TAGS)
