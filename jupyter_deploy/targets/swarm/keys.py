"""A Swarm service's keys: one Swarm secret per key, mounted as a file the server reads.

The values exist only in the secrets (and in the replicas' ``/run/secrets``): never in labels,
the environment, ``inspect`` output or logs. Renewing a key makes a new secret and rolls the
service onto it; the other key's secret is untouched, so its callers never notice.
"""

from __future__ import annotations

import secrets as token
from collections.abc import Mapping
from typing import Any

from docker.models.services import Service
from docker.types import SecretReference

from jupyter_deploy.config import LABEL_PREFIX
from jupyter_deploy.engine import swarm
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.spec.cluster import ClusterConfig

KEY_NAMES = ("primary", "secondary")


def new_secret(name: str, which: str, value: str, owner: Mapping[str, str]) -> SecretReference:
    made = swarm.create_secret(f"jd-{name}-{which}-{token.token_hex(4)}", value.encode(),
                               {**owner, f"{LABEL_PREFIX}.key": which})
    return SecretReference(made.id, made.name, filename=f"jd-{which}-key", mode=0o444)


def make_keys(name: str, config: ClusterConfig, owner: Mapping[str, str]
               ) -> list[SecretReference]:
    given = {"primary": config.primary_key, "secondary": config.secondary_key}
    return [new_secret(name, k, given[k] or token.token_urlsafe(32), owner) for k in KEY_NAMES]


def secret_refs(service: Service) -> list[SecretReference]:
    spec = service.attrs["Spec"]["TaskTemplate"]["ContainerSpec"].get("Secrets") or []
    return [SecretReference(s["SecretID"], s["SecretName"], filename=s["File"]["Name"],
                            mode=s["File"].get("Mode", 0o400)) for s in spec]


def key_of(ref: Mapping[str, Any]) -> str:
    return str(ref["File"]["Name"]).removeprefix("jd-").removesuffix("-key")


def key_files(service: Service) -> dict[str, str]:
    files = {key_of(r): f"/run/secrets/{r['File']['Name']}" for r in secret_refs(service)}
    if set(files) != set(KEY_NAMES):
        raise ConfigurationError(
            f"service {service.name!r} was deployed with auth off, so it has no keys: deploy it "
            "again with auth_enabled=True to use keys.")
    return files



def read_keys(service: Service) -> tuple[str, str]:
    """Both keys, read through ``exec`` in a replica running on this engine (not logged).

    Raises:
        ConfigurationError: auth is off, or no replica runs on this engine.
    """
    files = key_files(service)
    running = swarm.local_containers(service)
    if not running:
        raise ConfigurationError(
            f"no replica of {service.name!r} runs on this engine to read its keys from: start "
            "it, or read them on a node that runs one.")
    primary, secondary = (swarm.read_file(running[0], files[k]) for k in KEY_NAMES)
    return primary, secondary


def renewed(service: Service, key: str, set_key: str | None, owner: Mapping[str, str]
            ) -> list[SecretReference]:
    """The service's secret references with ``key`` pointing at a new secret (made here).

    Raises:
        ConfigurationError: auth is off, or ``key`` is not Primary/Secondary.
    """
    which = key.lower()
    if which not in KEY_NAMES:
        raise ConfigurationError(f"key must be 'Primary' or 'Secondary', not {key!r}.")
    key_files(service)
    new = new_secret(service.name, which, set_key or token.token_urlsafe(32), owner)
    return [new if key_of(r) == which else r for r in secret_refs(service)]


def remove_unused(label: str, refs: list[SecretReference]) -> None:
    """Remove the secrets carrying ``label`` that ``refs`` no longer name."""
    kept = {r["SecretID"] for r in refs}
    for secret in swarm.secrets(label):
        if secret.id not in kept:
            swarm.remove_secret(secret)
