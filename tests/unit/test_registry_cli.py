"""The registry sub-commands' parsing and where their logins come from (no registry needed)."""

from __future__ import annotations

import io

import pytest

from jupyter_deploy.cli.main import build_parser, main
from jupyter_deploy.cli.registry import login_from
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.registry.auth import PASSWORD_VARIABLE, USERNAME_VARIABLE


def test_registry_ls_takes_an_address_a_repository_and_a_login() -> None:
    args = build_parser().parse_args(
        ["registry", "ls", "127.0.0.1:5000", "--repository", "models/iris", "--json",
         "--username", "alice", "--password-stdin"])
    assert (args.address, args.repository, args.json) == ("127.0.0.1:5000", "models/iris", True)
    assert (args.username, args.password_stdin) == ("alice", True)


def test_the_password_is_read_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a password on stdin
    monkeypatch.setattr("sys.stdin", io.StringIO("pa55word\n"))
    args = build_parser().parse_args(["pull", "x:1", "-u", "alice", "--password-stdin"])
    # When the login is read, Then it has the password without the newline, masked in its repr
    login = login_from(args, "127.0.0.1:5000")
    assert login is not None and login.password == "pa55word"
    assert "pa55word" not in repr(login)


def test_the_login_may_come_from_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(USERNAME_VARIABLE, "bob")
    monkeypatch.setenv(PASSWORD_VARIABLE, "from-env")
    login = login_from(build_parser().parse_args(["push", "x:1"]), "127.0.0.1:5000")
    assert login is not None and (login.username, login.password) == ("bob", "from-env")


def test_no_login_means_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(USERNAME_VARIABLE, raising=False)
    monkeypatch.delenv(PASSWORD_VARIABLE, raising=False)
    assert login_from(build_parser().parse_args(["push", "x:1"]), "127.0.0.1:5000") is None


def test_password_stdin_needs_a_username(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(USERNAME_VARIABLE, raising=False)
    with pytest.raises(ConfigurationError, match="--username"):
        login_from(build_parser().parse_args(["registry", "ls", "--password-stdin"]), "h:1")


def test_a_bad_reference_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    # When `pull` gets an invalid reference, Then it exits 1 with our message and no traceback
    assert main(["pull", "Not A Reference"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
