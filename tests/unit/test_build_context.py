"""The build context: its content hash, its install step (uv, pip as fallback), BuildKit's log.

The hash gives equal tags to equal inputs, in bounded memory. The Dockerfile for BuildKit mounts
the wheels (golden files in ``golden_buildkit/``; the portable form's are in ``golden/``), and
the install script falls back to pip, saying why, when uv refuses. Bytecode is compiled once per
wheel on the host and unpacked next to the installed sources.
"""

from __future__ import annotations

import base64
import subprocess
import sys
import tarfile
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from golden import assert_matches_golden

from jupyter_deploy.build import compile_site, context
from jupyter_deploy.build.bytecode import link_bytecode
from jupyter_deploy.build.context import (
    content_digest,
    render_dockerfile,
    render_environment_dockerfile,
    write_environment_context,
)
from jupyter_deploy.build.installer import FALLBACK_NOTICE, SCRIPT, SCRIPT_TEXT, UV_BINARY
from jupyter_deploy.build.wheelhouse import Wheelhouse, platforms_for
from jupyter_deploy.engine.buildkit import _leftovers
from jupyter_deploy.engine.buildkit_progress import Progress
from jupyter_deploy.errors import DependencyError
from jupyter_deploy.spec.environment import Environment
from jupyter_deploy.spec.package import ModelFiles, PackageSpec


def test_the_hash_depends_on_names_and_bytes(tmp_path: Path) -> None:
    # Given two folders with the same files
    for folder in ("a", "b"):
        (tmp_path / folder / "models").mkdir(parents=True)
        (tmp_path / folder / "models" / "w.bin").write_bytes(b"\0" * 10)
    # Then they hash alike, and a changed byte or name changes the hash
    assert content_digest(tmp_path / "a") == content_digest(tmp_path / "b")
    (tmp_path / "b" / "models" / "w.bin").write_bytes(b"\0" * 9 + b"\1")
    assert content_digest(tmp_path / "a") != content_digest(tmp_path / "b")
    (tmp_path / "b" / "models" / "w.bin").rename(tmp_path / "b" / "models" / "v.bin")
    assert content_digest(tmp_path / "a") != content_digest(tmp_path / "b")


def test_an_environment_hashes_its_wheels_by_name_and_size_and_the_rest_by_bytes(
    tmp_path: Path,
) -> None:
    # Given two environment contexts alike
    for folder in ("a", "b"):
        (tmp_path / folder / "wheels").mkdir(parents=True)
        (tmp_path / folder / "wheels" / "numpy-2.1.0-cp311-none-any.whl").write_bytes(b"\0" * 10)
        (tmp_path / folder / "wheels" / "install.sh").write_text("uv\n")
    digest = lambda folder: content_digest(tmp_path / folder,  # noqa: E731
                                           by_name=context._named_for_content)
    assert digest("a") == digest("b")
    # Then a wheel counts by its name and size (a cached file is named for what it holds)
    (tmp_path / "b" / "wheels" / "numpy-2.1.0-cp311-none-any.whl").write_bytes(b"\1" * 10)
    assert digest("a") == digest("b")
    (tmp_path / "b" / "wheels" / "numpy-2.1.0-cp311-none-any.whl").write_bytes(b"\1" * 11)
    assert digest("a") != digest("b")
    # And every other file by its bytes
    (tmp_path / "a" / "wheels" / "numpy-2.1.0-cp311-none-any.whl").write_bytes(b"\1" * 11)
    (tmp_path / "b" / "wheels" / "install.sh").write_text("pip\n")
    assert digest("a") != digest("b")


def test_a_large_model_is_hashed_in_bounded_memory(tmp_path: Path) -> None:
    # Given a 256 MB model file (sparse: it costs no disk)
    model = tmp_path / "context" / "model.bin"
    model.parent.mkdir()
    with model.open("wb") as f:
        f.truncate(256 * 1024 * 1024)
    # When the context is hashed
    tracemalloc.start()
    try:
        content_digest(model.parent)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Then Python held a few megabytes at most, not the file
    assert peak < 8 * 1024 * 1024, peak


@pytest.mark.parametrize(("engine_says", "machine"), [
    ("x86_64", "x86_64"), ("amd64", "x86_64"), ("aarch64", "aarch64"), ("arm64", "aarch64"),
])
def test_wheels_are_picked_for_the_engines_machine(engine_says: str, machine: str) -> None:
    tags = platforms_for(engine_says)
    assert tags[0] == f"manylinux_2_28_{machine}" and tags[-1] == f"linux_{machine}"
    assert all(tag.endswith(machine) for tag in tags)


def test_a_machine_without_wheel_tags_is_named() -> None:
    with pytest.raises(DependencyError, match="s390x"):
        platforms_for("s390x")


# -- the install step: uv with pip as fallback, mounted or copied wheels --------------------------

GOLDEN_MOUNTS = Path(__file__).parent / "golden_buildkit"
MOUNT_CASES = {
    "default": Environment(name="default", pip=("scikit-learn==1.9.1",)),
    "conda_base": Environment(name="conda", base_image="127.0.0.1:5000/base/miniconda:4",
                              conda=("python=3.11", "numpy=2.1"), channels=("conda-forge",)),
}


@pytest.fixture
def a_spec_for(tmp_path: Path):
    script = tmp_path / "score.py"
    script.write_text("def init():\n    pass\n\ndef run(data):\n    return data\n")

    def make(env: Environment) -> PackageSpec:
        return PackageSpec("mymodel", script, env, (ModelFiles(tmp_path, "ridge", 3),))

    return make


@pytest.mark.parametrize("case", sorted(MOUNT_CASES))
def test_the_buildkit_dockerfile_matches_its_golden_file(case: str, a_spec_for) -> None:
    # Given a typical environment, When its Dockerfile is rendered for BuildKit
    text = render_dockerfile(a_spec_for(MOUNT_CASES[case]), mounts=True)
    # Then it is exactly the reviewed one (UPDATE_GOLDEN=1 rewrites it after an intended change)
    path = GOLDEN_MOUNTS / f"{case}.Dockerfile"
    assert_matches_golden(text, path)


def test_an_environment_and_a_service_built_on_it_match_their_golden_files(a_spec_for) -> None:
    # Given the default environment, When its own image's Dockerfile and that of a service
    # starting from it are rendered
    spec = a_spec_for(MOUNT_CASES["default"])
    environment = render_environment_dockerfile(spec.environment)
    service = render_dockerfile(spec, mounts=True,
                                environment_image="jupyter-deploy/environments:0123456789abcdef")
    # Then they are the reviewed ones
    assert_matches_golden(environment, GOLDEN_MOUNTS / "default.environment.Dockerfile")
    assert_matches_golden(service, GOLDEN_MOUNTS / "default.on_environment.Dockerfile")
    # And the install step is the environment's alone, which names no service (it is shared)
    assert "install.sh uv" in environment and "--mount=type=bind,source=wheels" in environment
    assert "install.sh" not in service and "--mount" not in service
    assert "mymodel" not in environment


def test_a_user_managed_environment_has_no_image_of_its_own(tmp_path: Path) -> None:
    env = Environment(name="mine", user_managed=True)
    assert write_environment_context(env, tmp_path / "environment") is None


def test_with_mounts_no_wheel_is_copied_into_a_layer(a_spec_for) -> None:
    # Given the default environment rendered for BuildKit
    text = render_dockerfile(a_spec_for(MOUNT_CASES["default"]), mounts=True)
    # Then the wheels are only mounted: one stage, no COPY of them, nothing to delete
    assert "--mount=type=bind,source=wheels,target=/tmp/wheels" in text
    assert "COPY wheels/" not in text and "rm -rf /tmp/wheels" not in text
    assert text.count("FROM ") == 1 and "COPY --from" not in text
    # And the portable form keeps them out of the image with a first stage instead
    portable = render_dockerfile(a_spec_for(MOUNT_CASES["default"]))
    assert "--mount" not in portable and "COPY --from=dependencies" in portable


def test_the_old_installer_is_a_switch(a_spec_for) -> None:
    text = render_dockerfile(a_spec_for(MOUNT_CASES["default"]), installer="pip")
    assert "install.sh pip /opt/jupyter-deploy/venv -r /tmp/requirements.txt" in text
    assert "uv installs" not in text


def _fake_wheels(folder: Path, uv_exit: int) -> Path:
    """A wheel folder whose uv and pip only say what they were asked (and uv exits ``uv_exit``)."""
    folder.mkdir()
    (folder / SCRIPT).write_text(SCRIPT_TEXT)
    (folder / UV_BINARY).write_text(
        f"#!/bin/sh\necho \"uv $*\"\n[ $1 = venv ] && exit 0\n"
        f"[ {uv_exit} = 0 ] || echo 'error: uv says no' >&2\nexit {uv_exit}\n")
    (folder / UV_BINARY).chmod(0o755)
    pip = folder / "pip-99-py3-none-any.whl" / "pip"
    pip.mkdir(parents=True)
    (pip / "__main__.py").write_text("import sys\nprint('pip', *sys.argv[1:])\n")
    return folder


@pytest.mark.parametrize("uv_exit", [0, 2])
def test_pip_installs_when_uv_refuses_and_says_why(tmp_path: Path, uv_exit: int) -> None:
    # Given the install script beside a uv that succeeds, or refuses with a reason
    wheels = _fake_wheels(tmp_path / "wheels", uv_exit)
    # When the image build would run it
    proc = subprocess.run(["sh", str(wheels / SCRIPT), "uv", str(tmp_path / "venv"), "-r",
                           "req.txt"], capture_output=True, text=True, check=False)
    # Then uv alone installs; or uv's reason, the notice and pip follow, and the step succeeds
    assert proc.returncode == 0, proc.stderr
    pip_ran = (f"pip install --no-index --no-cache-dir --disable-pip-version-check "
               f"--find-links {wheels} -r req.txt") in proc.stdout
    assert pip_ran == bool(uv_exit)
    assert (FALLBACK_NOTICE in proc.stdout) == bool(uv_exit)
    assert ("uv says no" in proc.stderr) == bool(uv_exit)
    assert f"--no-cache --find-links {wheels} -r req.txt" in proc.stdout


# -- BuildKit's progress read as the classic builder's lines -------------------------------------

def _field(number: int, value: int | bytes) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append(value & 0x7F | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def _vertex(digest: str, name: str, started: int | None = None, completed: int | None = None,
            cached: bool = False) -> bytes:
    body = _field(1, digest.encode()) + _field(3, name.encode())
    body += _field(4, 1) if cached else b""
    body += _field(5, _field(1, started)) if started is not None else b""
    body += _field(6, _field(1, completed)) if completed is not None else b""
    return _field(1, body)


def _message(*parts: bytes) -> str:
    return base64.b64encode(b"".join(parts)).decode()


def test_buildkit_progress_reads_as_steps_with_their_output() -> None:
    # Given BuildKit's status messages for a cached step and a step with output
    progress = Progress()
    progress.feed(_message(_vertex("a", "[1/2] FROM base", 100, 100, cached=True)))
    progress.feed(_message(_vertex("b", "[2/2] RUN make", 100)))
    progress.feed(_message(_field(3, _field(1, b"b") + _field(4, b"line one\nline t"))))
    progress.feed(_message(_field(3, _field(1, b"b") + _field(4, b"wo\n")),
                           _vertex("b", "[2/2] RUN make", 100, 104)))
    # Then they read as the classic builder's log, with the time each step took
    assert progress.lines == ["Step 1/2 : FROM base", " ---> Using cache", "Step 2/2 : RUN make",
                              "line one", "line two", " ---> done in 4.0 s"]
    assert [(s.name, s.seconds, s.cached) for s in progress.steps] == [
        ("[1/2] FROM base", 0.0, True), ("[2/2] RUN make", 4.0, False)]


def test_without_uv_to_download_pip_installs_and_says_why(
    a_spec_for, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given wheels on the host but no uv to be had (an index without it, say)
    house = tmp_path_factory.mktemp("house")
    (house / "pip-99-py3-none-any.whl").write_bytes(b"")
    monkeypatch.setattr(context, "download", lambda *a, **k: Wheelhouse(house, {}, ()))

    def no_uv(*args: object, **kwargs: object) -> Path:
        raise DependencyError("could not download the uv installer", ("uv",))

    monkeypatch.setattr(context, "fetch_uv", no_uv)
    # When the build context is written
    written = context.write_build_context(a_spec_for(MOUNT_CASES["default"]),
                                          tmp_path_factory.mktemp("context") / "ctx")
    # Then pip installs the wheels, and a warning says why
    assert "install.sh pip " in written.dockerfile.read_text()
    assert not (written.path / "wheels" / UV_BINARY).exists()
    assert any("uv could not be downloaded" in w for w in written.warnings)


# -- bytecode compiled once per wheel on the host, unpacked in the image --------------------------

def _a_wheel(folder: Path) -> Path:
    wheel = folder / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("demo/__init__.py", "VALUE = 1\n")
        archive.writestr("demo/tests/test_demo.py", "def test(): pass\n")
        archive.writestr("demo-1.0.data/purelib/demo_top.py", "TOP = 2\n")
        archive.writestr("demo-1.0.data/scripts/tool.py", "print('not a module')\n")
        archive.writestr("demo-1.0.dist-info/METADATA", "Name: demo\n")
    return wheel


def test_a_wheels_bytecode_is_compiled_once_and_unpacked_beside_its_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a wheel, and a host cache of our own
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    wheel = _a_wheel(tmp_path)
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    # When its bytecode is put in a context twice (the second time from the cache)
    assert link_bytecode([wheel], python, tmp_path / "ctx1" / "bytecode") == 1
    assert link_bytecode([wheel], python, tmp_path / "ctx2" / "bytecode") == 1
    # Then the tar holds the modules' bytecode where an installer puts the sources, not the tests'
    tar = next((tmp_path / "ctx2" / "bytecode").glob("*/demo-1.0-py3-none-any.whl.tar"))
    tag = sys.implementation.cache_tag
    with tarfile.open(tar) as archive:
        assert sorted(archive.getnames()) == [f"__pycache__/demo_top.{tag}.pyc",
                                              f"demo/__pycache__/__init__.{tag}.pyc"]
    # When an image's environment holds the installed sources and the tool runs there
    site = tmp_path / "site"
    for name, text in [("demo/__init__.py", "VALUE = 1\n"), ("demo_top.py", "TOP = 2\n"),
                       ("demo/tests/test_demo.py", "def test(): pass\n"), ("extra.py", "X = 3\n")]:
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text)
    assert compile_site.unpack(str(tmp_path / "ctx2" / "bytecode"), str(site)) == 2
    # Then only the file no wheel held is left to compile (test suites are skipped)
    assert compile_site.uncompiled(str(site)) == [str(site / "extra.py")]
    # And the host's bytecode is hash-checked, so the installed files' times do not matter
    flags = (site / "demo" / "__pycache__" / f"__init__.{tag}.pyc").read_bytes()[4:8]
    assert int.from_bytes(flags, "little") == 3


def test_another_python_on_the_host_leaves_the_compiling_to_the_image(tmp_path: Path) -> None:
    assert link_bytecode([_a_wheel(tmp_path)], "2.7", tmp_path / "ctx" / "bytecode") == 0
    assert not (tmp_path / "ctx").exists()


def _record(id_: str, description: str, parent: str = "", at: str = "00:00:01",
            used: str = "00:00:02", **flags: bool) -> dict[str, object]:
    return {"ID": id_, "Description": description, "Parent": parent,
            "CreatedAt": f"2026-01-01T{at}.5Z", "LastUsedAt": f"2026-01-01T{used}.5Z",
            "InUse": flags.get("in_use", False), "Shared": flags.get("shared", False)}


def test_buildkit_leftovers_are_what_no_image_or_build_uses() -> None:
    # Given BuildKit's records: two of our install steps (one under a layer an image still
    # uses), a context's tar and its unpacked copy, one still-used context, and a user's record
    install = "mount / from exec /bin/sh -c sh /tmp/wheels/install.sh uv /opt/v -r /tmp/r"
    records = [
        _record("venv1", install), _record("copy1", "fileop target", parent="venv1"),
        _record("venv2", install), _record("copy2", "fileop target", "venv2", shared=True),
        _record("tar1", "http url http://build-context-abc", at="00:00:10", used="00:00:40"),
        _record("unpacked1", "fileop target", at="00:00:30"),
        _record("tar2", "http url http://build-context-def", at="00:01:00", in_use=True),
        _record("unpacked2", "fileop target", at="00:01:01"),
        _record("users", "mount / from exec /bin/sh -c make"),
        _record("stray", "fileop target", at="00:05:00"),
    ]
    # Then what goes is the unused install step (its child first) and the unused context's tar
    # with its copy; nothing an image or a running build holds, nothing of anyone else's
    assert _leftovers(records) == ["copy1", "venv1", "tar1", "unpacked1"]
