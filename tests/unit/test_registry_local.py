"""The workspace registry's bookkeeping: config files, stale pid files, htpasswd entries."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.registry.local import LocalRegistry, TokenAuth, write_htpasswd


def test_a_stale_pid_file_is_not_a_running_registry(tmp_path: Path) -> None:
    # Given a pid file naming a live process that is not a registry (this test's own)
    registry = LocalRegistry("127.0.0.1:5199", tmp_path)
    (tmp_path / "registry-5199.pid").write_text(str(os.getpid()))
    # When its status is asked and it is stopped
    status = registry.status()
    stopped = registry.stop()
    # Then nothing runs, nothing was killed, and the stale file is gone
    assert (status.running, status.mode) == (False, "stopped")
    assert stopped is False
    assert not (tmp_path / "registry-5199.pid").exists()


def test_token_settings_go_into_the_config(tmp_path: Path) -> None:
    token = TokenAuth("http://127.0.0.1:5198/token", "svc", "iss", tmp_path / "root.pem")
    config = LocalRegistry("127.0.0.1:5197", tmp_path, token=token)._write_config().read_text()
    assert "  token:\n    realm: http://127.0.0.1:5198/token\n    service: svc\n" in config
    assert f"rootcertbundle: {tmp_path / 'root.pem'}" in config


def test_only_loopback_and_one_kind_of_auth(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="loopback"):
        LocalRegistry("0.0.0.0:5000", tmp_path)
    token = TokenAuth("http://x/token", "s", "i", tmp_path / "c.pem")
    with pytest.raises(ConfigurationError, match="not both"):
        LocalRegistry("127.0.0.1:5196", tmp_path, htpasswd=tmp_path / "h", token=token)


@pytest.mark.skipif(shutil.which("htpasswd") is None and not os.environ.get("CI"),
                    reason="htpasswd (apache2-utils) is not installed")
def test_htpasswd_entries_are_bcrypt_and_private(tmp_path: Path) -> None:
    path = write_htpasswd(tmp_path / "htpasswd", {"alice": "pw-one", "bob": "pw-two"})
    lines = path.read_text().splitlines()
    assert [line.split(":")[0] for line in lines] == ["alice", "bob"]
    assert all(line.split(":", 1)[1].startswith("$2y$") for line in lines)
    assert "pw-one" not in path.read_text() and path.stat().st_mode & 0o077 == 0
