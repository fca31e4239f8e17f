"""Deploy-time checks of the seed 004 variables (no engine, no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_deploy.build import extras as extensibility
from jupyter_deploy.errors import ConfigurationError
from jupyter_deploy.server import protocol


@pytest.fixture
def a_site_packages(tmp_path: Path) -> Path:
    """A virtualenv's site-packages with a few of the seed's common problems."""
    venv = tmp_path / "myenv"
    folder = venv / "lib" / "python3.9" / "site-packages"
    (folder / "fast").mkdir(parents=True)
    (folder / "fast" / "_speed.cpython-39-x86_64-linux-gnu.so").write_bytes(b"")
    (folder / "fast" / "_ok.abi3.so").write_bytes(b"")
    dist = folder / "fast-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: fast\nVersion: 1.0\nRequires-Dist: helper>=1\n"
        "Requires-Dist: six\nRequires-Dist: pytest; extra == 'test'\n"
        "Requires-Dist: oldthing; python_version < '3'\n\n")
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\ninclude-system-site-packages = true\n")
    return folder


def test_the_seeds_common_problems_are_reported(a_site_packages: Path) -> None:
    # Given a folder built for Python 3.9, with a missing requirement, seeing global packages
    # When checked for an image with Python 3.11 that installs six
    warnings = extensibility.check_lib_folder(a_site_packages, "3.11", ["six==1.17.0"])
    # Then each problem is named once, with what to do
    text = "\n".join(warnings)
    assert "fast is compiled for Python 3.9, but the image runs Python 3.11" in text
    assert "fast requires helper, which is neither in site-packages nor in the image" in text
    assert "--system-site-packages" in text
    assert all(f"requires {name}" not in text for name in ("six", "pytest", "oldthing"))
    assert len(warnings) == 3


def test_the_folder_is_mounted_read_only_and_pythonpath_warned(a_site_packages: Path) -> None:
    source = a_site_packages.parents[3]
    found = extensibility.prepare(
        {"AZUREML_EXTRA_PYTHON_LIB_PATH": "myenv/lib/python3.9/site-packages",
         "PYTHONPATH": "/x"}, source, "3.11")
    assert found.volumes == {str(a_site_packages.resolve()): {
        "bind": protocol.EXTRA_LIB_MOUNT, "mode": "ro"}}
    assert any("PYTHONPATH" in w for w in found.warnings)


def test_missing_paths_are_refused_with_the_rule(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="relative to the source folder"):
        extensibility.prepare({"AZUREML_EXTRA_REQUIREMENTS_TXT": "nope.txt"}, tmp_path, "3.11")
    with pytest.raises(ConfigurationError, match="not a folder"):
        extensibility.prepare({"AZUREML_EXTRA_PYTHON_LIB_PATH": "nope"}, tmp_path, "3.11")


def test_requirement_lines_skip_comments_and_options() -> None:
    lines, skipped = extensibility.requirement_lines(
        "# top\nscipy == 1.2.3  # pinned\n\n--index-url http://x\nnumpy\n")
    assert (lines, skipped) == (["scipy == 1.2.3", "numpy"], ["--index-url http://x"])


def test_nothing_named_changes_nothing(tmp_path: Path) -> None:
    options = {"shm_size": "1g"}
    assert extensibility.with_extra_packages(options, {}, tmp_path, "3.11") is options
