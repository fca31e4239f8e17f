"""Every sample notebook, run top to bottom with a real kernel on the real engine.

A notebook passes when no cell errors and its outputs show what it promises (the scores, the
states, the status lines). Whatever a notebook starts — services, plain containers, a private
registry — is removed afterwards by name, pass or fail. The magics' faults that need a real
engine or a real registry (a taken port, a wrong registry password) are checked here too,
through a testing shell.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from nbclient import NotebookClient

import jupyter_deploy
from jupyter_deploy.engine.client import docker_client
from jupyter_deploy.registry.local import LocalRegistry, write_htpasswd

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
PRIVATE_REGISTRY = "127.0.0.1:8990"

#: What each notebook leaves in the engine if it stops half-way (containers, image tags).
LEFTOVERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "quickstart.ipynb": (("quickstart",), ()),
    "magics.ipynb": (("magics-demo",), ()),
    "widget-panels.ipynb": (("panels-demo",), ()),
    "custom-base-image.ipynb": (("custom-base-service", "custom-base-private"),
                                (f"{PRIVATE_REGISTRY}/base/custom-python:1",)),
    "packaging.ipynb": (("packaged-container", "packaged-myimage"), ("packaged-myimage",)),
    "extensibility.ipynb": (("extensibility-requirements", "extensibility-mounted"), ()),
}

Check = Callable[[list[str]], None]


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


def check_quickstart(cells: list[str]) -> None:
    everything = "\n".join(cells)
    assert "scores: [" in everything and "latency:" in everything


def check_magics(cells: list[str]) -> None:
    everything = "\n".join(cells)
    deployed = next(c for c in cells if "Service 'magics-demo' is healthy" in c)
    assert "FloatProgress(" in deployed and "Step 1/" in deployed
    scores = next(c for c in cells if "answered 200" in c)
    assert "385.0" in scores and "220.0" in scores
    assert "Status: Downloaded newer image for 127.0.0.1:5000/jupyter-deploy/magics-demo:" in (
        everything)
    assert "Service 'magics-demo' reloaded" in everything
    assert "'Dockerfile', 'app', 'models'" in everything
    assert "Stopped" in everything and "Service 'magics-demo' removed." in everything
    assert "magics-demo" not in cells[-1]


def check_panels(cells: list[str]) -> None:
    everything = "\n".join(cells)
    assert "Healthy http://127.0.0.1:" in everything
    assert "[385.0, 219.99" in everything and "Service 'panels-demo' removed." in everything


def check_custom_base(cells: list[str]) -> None:
    everything = "\n".join(cells)
    assert "was successful after" in everything and "digest: sha256:" in everything
    assert "custom base image: tools pre-installed once" in everything
    assert re.search(r"Healthy\s+\[385\.0, 219\.99", everything)
    assert "wrong password:" in everything and "refused the credentials" in everything
    assert "password='********'" in everything
    assert "Healthy [385.0, 219.99" in everything and "Deleted Deleted" in everything


def check_packaging(cells: list[str]) -> None:
    everything = "\n".join(cells)
    assert "Status: Downloaded newer image for 127.0.0.1:5000/package:" in everything
    assert "200\n" in everything and everything.count("[385.0, 219.99") == 2
    assert "'Dockerfile', 'app', 'models', 'requirements.txt', 'server', 'wheels'" in everything


def check_extensibility(cells: list[str]) -> None:
    everything = "\n".join(cells)
    assert everything.count("Healthy\n  score\n-------\n    385\n    220") == 2
    assert "tabulate 0.9.0 from /tmp/jd-extra-packages/" in everything
    assert re.search(r"first start: the requirements file is [0-9.]+x slower", everything)
    assert "Deleted Deleted" in everything


CHECKS: dict[str, Check] = {
    "quickstart.ipynb": check_quickstart,
    "magics.ipynb": check_magics,
    "widget-panels.ipynb": check_panels,
    "custom-base-image.ipynb": check_custom_base,
    "packaging.ipynb": check_packaging,
    "extensibility.ipynb": check_extensibility,
}


def remove_leftovers(name: str) -> None:
    containers, tags = LEFTOVERS.get(name, ((), ()))
    client = docker_client()
    for container in containers:
        with contextlib.suppress(Exception):
            client.containers.get(container).remove(force=True)
    for tag in tags:
        with contextlib.suppress(Exception):
            client.images.remove(tag)
    if name == "custom-base-image.ipynb":
        root = NOTEBOOKS / "workdir" / "custom-base" / "private-registry"
        with contextlib.suppress(Exception):
            LocalRegistry(PRIVATE_REGISTRY, root=root).stop()


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebook_runs_and_shows_its_results(name: str) -> None:
    # Given a sample notebook with the outputs it promises
    assert name in CHECKS, f"{name} has no expectations: add a check to CHECKS"
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    try:
        # When it runs top to bottom with a real kernel
        client.execute()
        # Then no cell failed and the outputs show the promised results
        CHECKS[name](texts(nb))
    finally:
        remove_leftovers(name)


# -- the magics' faults on the real engine -----------------------------------------------------


@pytest.fixture
def a_shell() -> Iterator[InteractiveShell]:
    shell = InteractiveShell.instance()
    jupyter_deploy.load_ipython_extension(shell)
    yield shell
    shell.user_ns.clear()
    shell.init_user_ns()


@pytest.fixture
def a_protected_registry(tmp_path: Path) -> Iterator[tuple[LocalRegistry, str]]:
    password = secrets.token_urlsafe(12)
    htpasswd = write_htpasswd(tmp_path / "htpasswd", {"reader": password})
    registry = LocalRegistry("127.0.0.1:8991", root=tmp_path / "registry", htpasswd=htpasswd)
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
