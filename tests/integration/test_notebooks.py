"""Every sample notebook, run top to bottom with a real kernel on the real engine.

A notebook passes when no cell errors and its outputs show what it promises (the scores, the
states, the status lines). Scores are read as numbers and compared with a tolerance: the last
bits of a float differ between BLAS builds. Each notebook runs as a copy in a folder of its own,
with a data folder of its own and the run's own workspace registry, and everything it names in
the engine (services, containers, images) renamed to carry the run's id: two runs never share a
name, and a user's own ``quickstart`` container is never touched. What it makes through a
workspace carries the run's label. Afterwards exactly those names are removed, and any registry
the notebook started in its folder is stopped, pass or fail; the label goes at the session's end.
The magics' faults that need a real engine or a real registry (a taken port, a wrong registry
password) are checked here too, through a testing shell.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import nbformat
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from nbclient import NotebookClient
from runs import RUN_ID, TEST_LABEL, remove_tags

import jupyter_deploy
from jupyter_deploy.config import get_config
from jupyter_deploy.engine.client import docker_client
from jupyter_deploy.registry.local import LocalRegistry, write_htpasswd

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

#: What each notebook calls the things it makes in the engine; a test run renames them in its
#: copy. The quickstart's service is named by ``QUICKSTART_SERVICE`` instead, as ``make demo``
#: names it.
NAMES: dict[str, tuple[str, ...]] = {
    "quickstart.ipynb": (),
    "magics.ipynb": ("magics-demo", "magics-files"),
    "widget-panels.ipynb": ("panels-demo",),
    "custom-base-image.ipynb": ("custom-base-service", "custom-base-private"),
    "packaging.ipynb": ("packaged-container", "packaged-myimage"),
    "extensibility.ipynb": ("extensibility-requirements", "extensibility-mounted",
                            "prebuilt-inference"),
    "no-code-models.ipynb": ("nocode-mlflow", "nocode-onnx", "nocode-estimator"),
}
QUICKSTART = "quickstart"

#: The notebooks' linear model (least squares, exact on ten features) scores the seeds' two rows
#: as 1·1 + … + 10·10 and 10·1 + … + 1·10.
EXPECTED = [385.0, 220.0]
NUMBER = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"

Check = Callable[[list[str], Mapping[str, str]], None]


def texts(nb: nbformat.NotebookNode) -> list[str]:
    """Each code cell's outputs as one text (streams, plain text and HTML)."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        parts = []
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"{output.get('ename')}: {output.get('evalue')}"
            parts.append(str(output.get("text", "")))
            data = output.get("data", {})
            parts += [str(data.get("text/plain", "")), str(data.get("text/html", ""))]
        cells.append("".join(parts))
    return cells


def printed_scores(text: str, label: str = "scores:") -> list[list[float]]:
    """Every ``<label> [...]`` list printed in ``text``, as numbers."""
    return [json.loads(found) for found in re.findall(rf"{re.escape(label)} (\[[^\[\]]*\])", text)]


def table_scores(text: str) -> list[float]:
    """The values of a one-column table as ``%%deploy_score`` shows it (``index  value`` lines)."""
    return [float(value) for value in re.findall(rf"^\s*\d+\s+({NUMBER})\s*$", text, re.M)]


def the_expected_scores(scores: list[float]) -> bool:
    return scores == pytest.approx(EXPECTED, rel=1e-6, abs=1e-6)


def check_quickstart(cells: list[str], names: Mapping[str, str]) -> None:
    everything = "\n".join(cells)
    [container] = printed_scores(everything)
    [in_process] = printed_scores(everything, "in-process:")
    # The container answers what the kernel computes; the ridge model is near the exact answer.
    assert container == pytest.approx(in_process, rel=1e-6, abs=1e-6)
    assert container == pytest.approx(EXPECTED, rel=0.02)
    assert "latency:" in everything
    assert f"Service {names[QUICKSTART]!r} is healthy" in everything


def check_magics(cells: list[str], names: Mapping[str, str]) -> None:
    everything = "\n".join(cells)
    demo = names["magics-demo"]
    deployed = next(c for c in cells if f"Service {demo!r} is healthy" in c)
    assert "FloatProgress(" in deployed and "Step 1/" in deployed
    sample, frame, rounded = (c for c in cells if "answered 200" in c)
    assert the_expected_scores(table_scores(sample)) and the_expected_scores(table_scores(rounded))
    assert len(table_scores(frame)) == 3
    registry = get_config().registry_address
    assert f"Status: Downloaded newer image for {registry}/jupyter-deploy/{demo}:" in everything
    assert f"Service {demo!r} reloaded" in everything
    assert "'Dockerfile', 'app', 'models'" in everything
    assert "Stopped" in everything and f"Service {demo!r} removed." in everything
    assert demo not in cells[-1]


def check_panels(cells: list[str], names: Mapping[str, str]) -> None:
    everything = "\n".join(cells)
    assert "Healthy http://127.0.0.1:" in everything
    [scores] = printed_scores(everything)
    assert the_expected_scores(scores)
    assert f"Service {names['panels-demo']!r} removed." in everything


def check_custom_base(cells: list[str], names: Mapping[str, str]) -> None:
    everything = "\n".join(cells)
    assert "was successful after" in everything and "digest: sha256:" in everything
    assert "custom base image: tools pre-installed once" in everything
    # Both services, on the base from the workspace registry and from the private one
    assert len(re.findall(r"Healthy\s+scores: \[", everything)) == 2
    scores = printed_scores(everything)
    assert len(scores) == 2 and all(the_expected_scores(s) for s in scores)
    assert "wrong password:" in everything and "refused the credentials" in everything
    assert "password='********'" in everything
    assert "Deleted Deleted" in everything


def check_packaging(cells: list[str], names: Mapping[str, str]) -> None:
    everything = "\n".join(cells)
    registry = get_config().registry_address
    assert f"Status: Downloaded newer image for {registry}/package:" in everything
    assert "200\n" in everything
    scores = printed_scores(everything)
    assert len(scores) == 2 and all(the_expected_scores(s) for s in scores)
    assert "'Dockerfile', 'app', 'models', 'requirements.txt', 'server', 'wheels'" in everything


def check_extensibility(cells: list[str], names: Mapping[str, str]) -> None:
    everything = "\n".join(cells)
    assert everything.count("Healthy\nscores: [") == 2
    scores = printed_scores(everything)
    assert len(scores) == 2 and all(the_expected_scores(s) for s in scores)
    assert everything.count("  score\n-------\n") == 2
    assert "tabulate 0.9.0 from /tmp/jd-extra-packages/" in everything
    assert re.search(r"first start: the requirements file is [0-9.]+x slower", everything)
    assert "Deleted Deleted" in everything


def check_no_code(cells: list[str], names: Mapping[str, str]) -> None:
    everything = "\n".join(cells)
    [expected] = printed_scores(everything, "in-process:")
    # The MLflow folder, the ONNX file and the kernel's estimator each answer like the model
    for label in ("mlflow scores:", "onnx scores:", "estimator scores:"):
        [scores] = printed_scores(everything, label)
        assert scores == expected, label
    assert "mlflow==" in everything  # the folder's requirements, as MLflow wrote them
    assert "sample: {'sepal length (cm)': 5.1" in everything
    assert "in-process and container answers agree" in everything
    assert "Generated the scoring script" in everything and "fingerprint" in everything
    assert all(f"{names[n]} removed" in everything for n in NAMES["no-code-models.ipynb"])


CHECKS: dict[str, Check] = {
    "quickstart.ipynb": check_quickstart,
    "magics.ipynb": check_magics,
    "widget-panels.ipynb": check_panels,
    "custom-base-image.ipynb": check_custom_base,
    "packaging.ipynb": check_packaging,
    "extensibility.ipynb": check_extensibility,
    "no-code-models.ipynb": check_no_code,
}


def this_runs_names(name: str) -> dict[str, str]:
    """Each name the notebook gives, and the name it gets in this run (the run id appended)."""
    given = (QUICKSTART,) if name == "quickstart.ipynb" else NAMES[name]
    return {original: f"{original}-{RUN_ID}" for original in given}


def renamed(nb: nbformat.NotebookNode, names: Mapping[str, str]) -> nbformat.NotebookNode:
    """``nb`` with every name (and the variable a magic binds it to) replaced by this run's."""
    if not names:
        return nb
    spellings = {**names, **{k.replace("-", "_"): v.replace("-", "_") for k, v in names.items()}}
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, spellings)) + r")\b")
    for cell in nb.cells:
        cell.source = pattern.sub(lambda m: spellings[m.group(1)], cell.source)
    return nb


#: Run in the kernel before the first cell (an IPython startup file): the run's workspace
#: registry, and the run's label on every workspace, so what the SDK notebooks make through
#: ``Workspace.from_config()`` is labelled like what the engine tests make through theirs.
KERNEL_STARTUP = """\
from jupyter_deploy.config import get_config
from jupyter_deploy.services.workspace import Workspace

get_config().registry_address = {registry!r}
_open_workspace = Workspace.__init__


def _open_labelled_workspace(self, *args, **kwargs):
    _open_workspace(self, *args, **kwargs)
    self.labels.setdefault({label!r}, {run!r})


Workspace.__init__ = _open_labelled_workspace
"""


def a_kernel_environment(folder: Path, names: Mapping[str, str]) -> dict[str, str]:
    """The kernel's environment: this run's startup file, and a data folder of its own.

    The IPython folder is the kernel's own too, so the user's profile and history are not
    touched either.
    """
    startup = folder / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-this-test-run.py").write_text(KERNEL_STARTUP.format(
        registry=get_config().registry_address, label=TEST_LABEL, run=RUN_ID))
    return {**os.environ, "IPYTHONDIR": str(folder / "ipython"),
            "JUPYTER_DEPLOY_HOME": str(folder / "home"),
            "QUICKSTART_SERVICE": names.get(QUICKSTART, f"{QUICKSTART}-{RUN_ID}")}


def remove_what_it_made(names: Mapping[str, str], folder: Path) -> None:
    """Containers and tags with this run's names; registries started in ``folder``, their tags.

    Only this run's names are touched: a container called ``quickstart`` (or any name the
    notebook would use outside tests) that someone else made stays as it is. What the notebook
    made through a workspace carries the run's label and goes when the session ends.
    """
    client = docker_client()
    ours = set(names.values())
    for name in ours:
        with contextlib.suppress(Exception):
            client.containers.get(name).remove(force=True)
    addresses = []
    for config in folder.rglob("config-*.yml"):  # a LocalRegistry's root holds one per port
        address = f"127.0.0.1:{config.stem.removeprefix('config-')}"
        addresses.append(f"{address}/")
        with contextlib.suppress(Exception):
            LocalRegistry(address, root=config.parent).stop()
    remove_tags(lambda tag: any(name in tag for name in ours) or tag.startswith(tuple(addresses)))


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebook_runs_and_shows_its_results(name: str, tmp_path: Path) -> None:
    # Given a sample notebook with the outputs it promises, its names made this run's own
    assert name in CHECKS, f"{name} has no expectations: add a check to CHECKS"
    names = this_runs_names(name)
    nb = renamed(nbformat.read(NOTEBOOKS / name, as_version=4), names)
    folder = tmp_path / "notebook"
    folder.mkdir()
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})
    try:
        # When it runs top to bottom with a real kernel
        client.execute(env=a_kernel_environment(tmp_path, names))
        # Then no cell failed and the outputs show the promised results
        CHECKS[name](texts(nb), names)
    finally:
        nbformat.write(nb, tmp_path / name)  # what it showed, for a look after a failure
        remove_what_it_made(names, folder)


# -- the magics' faults on the real engine -----------------------------------------------------


@pytest.fixture
def a_shell() -> Iterator[InteractiveShell]:
    shell = InteractiveShell.instance()
    jupyter_deploy.load_ipython_extension(shell)
    yield shell
    shell.user_ns.clear()
    shell.init_user_ns()


@pytest.fixture
def a_protected_registry(
    tmp_path: Path, an_unused_port: int,
) -> Iterator[tuple[LocalRegistry, str]]:
    password = secrets.token_urlsafe(12)
    htpasswd = write_htpasswd(tmp_path / "htpasswd", {"reader": password})
    registry = LocalRegistry(f"127.0.0.1:{an_unused_port}", root=tmp_path / "registry",
                             htpasswd=htpasswd)
    registry.start()
    try:
        yield registry, password
    finally:
        registry.stop()


def usage_error(shell: InteractiveShell, code: str) -> str:
    result = shell.run_cell(code, store_history=False)
    assert isinstance(result.error_in_exec, UsageError), result.error_in_exec
    return str(result.error_in_exec)


def test_a_taken_port_names_its_holder(
    a_shell: InteractiveShell, a_taken_port: int, a_service_name: str,
    test_labels: dict[str, str], tmp_path: Path,
) -> None:
    # Given a script, an environment that installs nothing, and a port someone holds
    (tmp_path / "score.py").write_text("def init():\n    pass\n\ndef run(raw):\n    return raw\n")
    a_shell.run_cell("%%deploy_env bare\nuser_managed: true\n").raise_error()
    labels = " ".join(f"--label {k}={v}" for k, v in test_labels.items())
    # When a service is deployed on that port
    message = usage_error(a_shell, f"%deploy {a_service_name} --entry {tmp_path}/score.py "
                                   f"--env bare --port {a_taken_port} {labels} --quiet")
    # Then the one-paragraph message names the holder and what to do
    assert f"port {a_taken_port}" in message and "taken by process" in message
    assert "pass another port" in message


def test_a_wrong_registry_password_is_refused_without_echo(
    a_shell: InteractiveShell, a_protected_registry: tuple[LocalRegistry, str],
) -> None:
    # Given a registry that wants a login, and a wrong password in a variable
    registry, _ = a_protected_registry
    a_shell.user_ns["wrong"] = "not-the-password-42"
    # When pulling with it
    message = usage_error(a_shell, f"%deploy_pull {registry.address}/base/thing:1 "
                                   "-u reader -p $wrong")
    # Then it is an authentication message, without the password
    assert "refused the credentials" in message and "not-the-password-42" not in message
