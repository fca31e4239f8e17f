"""Settings, script loading rules, the folder listing and the extensibility helpers (no engine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_deploy.server import entry, extras, protocol
from jupyter_deploy.server.settings import Settings, SettingsError


def test_settings_use_the_peers_variable_names() -> None:
    # Given the peer's variables, When read
    settings = Settings.from_env({
        "AZUREML_ENTRY_SCRIPT": "src/score.py", "AML_APP_ROOT": "/app", "SERVER_PORT": "6000",
        "WORKER_COUNT": "2", "SCORING_TIMEOUT_MS": "500", "AML_CORS_ORIGINS": "a, b",
        "AZUREML_LOG_LEVEL": "debug",
    })
    # Then every one is honoured
    assert settings.entry_path == "/app/src/score.py"
    assert (settings.port, settings.workers, settings.timeout_ms) == (6000, 2, 500)
    assert settings.cors_origins == ("a", "b")
    assert settings.log_level == "DEBUG"


def test_settings_defaults_and_errors() -> None:
    assert Settings.from_env({}).port == protocol.DEFAULT_PORT
    with pytest.raises(SettingsError, match="WORKER_COUNT"):
        Settings.from_env({"WORKER_COUNT": "many"})
    with pytest.raises(SettingsError, match="out of range"):
        Settings.from_env({"SERVER_PORT": "70000"})


@pytest.mark.parametrize(("text", "message"), [
    ("def run(d): pass\n", "does not define init()"),
    ("def init(): pass\ndef run(*a): pass\n", "cannot accept"),
    ("def init(): pass\ndef run(request_headers): pass\n", "needs to accept an argument"),
])
def test_unusable_scripts_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "score.py"
    path.write_text(text)
    with pytest.raises(entry.ScriptError, match=message):
        entry.UserScript(str(path)).load()


def test_folder_listing_is_indented_and_bounded(tmp_path: Path) -> None:
    (tmp_path / "model" / "1").mkdir(parents=True)
    (tmp_path / "model" / "1" / "model.pkl").write_text("x")
    assert entry.folder_listing(str(tmp_path / "model")) == ["model/", "    1/",
                                                             "        model.pkl"]
    for i in range(300):
        (tmp_path / f"f{i:03}").write_text("")
    lines = entry.folder_listing(str(tmp_path))
    assert len(lines) == entry.LISTING_LIMIT + 1 and lines[-1].startswith("Output truncated")


def test_unpinned_requirement_lines() -> None:
    text = "scipy == 1.2.3\nnumpy>=1.0\n# comment\n-r other.txt\nrequests\npandas==2.2.2 # ok\n"
    assert extras.unpinned(text) == ["numpy>=1.0", "requests"]


def test_extra_lib_path_goes_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a source folder holding a site-packages folder
    lib = tmp_path / "venv" / "site-packages"
    lib.mkdir(parents=True)
    env = {"AML_APP_ROOT": str(tmp_path), "AZUREML_EXTRA_PYTHON_LIB_PATH": "venv/site-packages"}
    monkeypatch.setattr("sys.path", ["/elsewhere"])
    # When applied, Then it is first on the path
    extras.apply(env)
    import sys

    assert sys.path[0] == str(lib)
    with pytest.raises(extras.ExtrasError, match="relative to the source folder"):
        extras.apply({**env, "AZUREML_EXTRA_PYTHON_LIB_PATH": "missing"})


def test_serve_refuses_a_missing_script_with_a_message(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    # Given no score.py, When `jupyter-deploy serve` is asked to run it
    from jupyter_deploy.cli.main import main

    status = main(["serve", "--entry-script", str(tmp_path / "score.py"), "--port", "5290"])
    # Then it exits 1 with a sentence, not a traceback
    assert status == 1
    assert "does not exist" in capsys.readouterr().err


def a_wheel(folder: Path, name: str, version: str) -> Path:
    """A minimal pure-Python wheel holding module ``name`` (made here: no index needed)."""
    import zipfile

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(f"{name}.py", f"VERSION = {version!r}\n")
        wheel.writestr(f"{info}/METADATA",
                       f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        wheel.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\n"
                       "Root-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(f"{info}/RECORD", "")
    return path


def test_extra_requirements_install_from_the_mounted_wheels_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a requirements file and a folder of wheels (as the deploy step mounts them)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    a_wheel(tmp_path / "wheels", "jdextra", "1.2.3")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "req.txt").write_text("jdextra\n")
    env = {"AML_APP_ROOT": str(tmp_path / "app"), "AZUREML_EXTRA_REQUIREMENTS_TXT": "req.txt",
           "JD_EXTRA_WHEELS": str(tmp_path / "wheels")}
    # When installed (twice)
    with caplog.at_level("INFO", logger="jd_scoring"):
        target = extras.install_requirements(env)
        again = extras.install_requirements(env)
    # Then the package is in a folder of its own, installed once, with the warnings logged
    assert (Path(target) / "jdextra.py").is_file() and again == target
    assert "'jdextra' is not pinned" in caplog.text
    assert "Installed extra requirements from req.txt" in caplog.text and "jdextra-1.2.3" in \
        caplog.text


def test_the_servers_version_is_the_packages() -> None:
    # The in-image package cannot import ours: its copy of the version is kept equal here
    from jupyter_deploy import __version__
    from jupyter_deploy.server import protocol

    assert __version__ == protocol.VERSION
    assert f"jupyter-deploy/{__version__}" == protocol.SERVER_VERSION
