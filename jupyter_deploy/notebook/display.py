"""How results look: an HTML form for Jupyter and a readable text form everywhere else.

Magics return these small view objects instead of printing, so a notebook renders a table
(``_repr_html_``) while a terminal IPython, a log or a test sees plain text (``__str__`` and
``_repr_pretty_``). Views hold only what they show — never a password — and import nothing from
IPython or ipywidgets.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import quote

import pandas as pd

from jupyter_deploy.errors import DeployError, RegistryError
from jupyter_deploy.registry.catalog import Catalog
from jupyter_deploy.scoring.client import ScoreResult
from jupyter_deploy.services.deployment import Deployment
from jupyter_deploy.spec.environment import Environment

STATE_COLOURS = {"Healthy": "#2e7d32", "running": "#2e7d32", "Transitioning": "#f9a825",
                 "Unhealthy": "#ef6c00", "Failed": "#c62828", "Stopped": "#757575",
                 "exited": "#757575", "Deleted": "#757575"}
#: States (and engine statuses) in which a service publishes no port.
DOWN = ("Stopped", "Failed", "Deleted", "exited", "created", "dead")


class View:
    """Base of every view: text and HTML forms of the same content."""

    def text(self) -> str:
        """The plain-text form."""
        raise NotImplementedError

    def html(self) -> str:
        """The HTML form (escaped)."""
        return f"<pre>{html.escape(self.text())}</pre>"

    def _repr_html_(self) -> str:
        return self.html()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text())

    def __str__(self) -> str:
        return self.text()


def as_table(value: Any) -> pd.DataFrame | None:
    """A DataFrame for an answer that is tabular (scores, rows, records), else None."""
    if isinstance(value, pd.DataFrame):
        return value
    if isinstance(value, Mapping):
        columns = list(value.values())
        same_length = len({len(c) for c in columns if isinstance(c, list)}) == 1
        if columns and all(isinstance(c, list) for c in columns) and same_length:
            return pd.DataFrame(dict(value))
        return None
    if not isinstance(value, list) or not value:
        return None
    if all(isinstance(v, int | float | str | bool) for v in value):
        return pd.DataFrame({"score": value})
    if all(isinstance(v, Mapping) for v in value):
        return pd.DataFrame.from_records(value)
    if all(isinstance(v, list) for v in value) and len({len(v) for v in value}) == 1:
        return pd.DataFrame(value)
    return None


@dataclass(frozen=True, repr=False)
class ScoreView(View):
    """A scoring answer: the result as a table where it is one, and the latency."""

    service: str
    result: ScoreResult

    @property
    def table(self) -> pd.DataFrame | None:
        """The answer as a DataFrame, when it is tabular."""
        return as_table(self.result.value)

    @property
    def summary(self) -> str:
        """``service 'x' answered 200 in 12.3 ms``."""
        return (f"service {self.service!r} answered {self.result.status_code} in "
                f"{self.result.seconds * 1000:.1f} ms")

    def text(self) -> str:
        table = self.table
        body = table.to_string() if table is not None else repr(self.result.value)
        return f"{body}\n{self.summary}"

    def html(self) -> str:
        table = self.table
        body = (table.to_html(classes="jd-score", border=0) if table is not None
                else f"<pre>{html.escape(repr(self.result.value))}</pre>")
        return f"{body}<p><small>{html.escape(self.summary)}</small></p>"


@dataclass(frozen=True, repr=False)
class EnvironmentView(View):
    """An environment's essentials (never its password)."""

    env: Environment

    def rows(self) -> list[tuple[str, str]]:
        """``(field, value)`` pairs worth showing."""
        env = self.env
        rows = [("name", env.name), ("base image", env.base_image or "(from Dockerfile)")]
        if env.registry is not None:
            login = f" as {env.registry.username}" if env.registry.username else ""
            rows.append(("registry", f"{env.registry.address}{login}"))
        rows += [("pip", ", ".join(env.pip) or "—"), ("conda", ", ".join(env.conda) or "—")]
        if env.env_vars:
            rows.append(("variables", ", ".join(f"{k}={v}" for k, v in env.env_vars.items())))
        if env.user_managed:
            rows.append(("python", f"user managed ({env.interpreter_path})"))
        return rows

    def text(self) -> str:
        width = max(len(k) for k, _ in self.rows())
        lines = [f"Environment {self.env.name!r}"]
        lines += [f"  {k.ljust(width)}  {v}" for k, v in self.rows()]
        return "\n".join(lines)

    def html(self) -> str:
        cells = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                        f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
                        for k, v in self.rows())
        return f"<table class='jd-env'>{cells}</table>"


@dataclass(frozen=True, repr=False)
class TableView(View):
    """A titled list of rows (services, images, repositories)."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    empty: str = "nothing yet"

    @property
    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame."""
        return pd.DataFrame([list(r) for r in self.rows], columns=list(self.columns))

    def text(self) -> str:
        if not self.rows:
            return f"{self.title}: {self.empty}"
        return f"{self.title}\n{self.frame.to_string(index=False)}"

    def html(self) -> str:
        if not self.rows:
            return f"<p><b>{html.escape(self.title)}</b>: {html.escape(self.empty)}</p>"
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(_cell(c, v) for c, v in zip(self.columns, r, strict=False))
                       + "</tr>" for r in self.rows)
        return (f"<p><b>{html.escape(self.title)}</b></p>"
                f"<table class='jd-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
                "</table>")


def _cell(column: str, value: Any) -> str:
    text = html.escape("" if value is None else str(value))
    if column == "state" and str(value) in STATE_COLOURS:
        colour = STATE_COLOURS[str(value)]
        return f"<td style='white-space:nowrap'><span style='color:{colour}'>●</span> {text}</td>"
    if column == "scoring URI" and value:
        return f"<td><a href='{text}' target='_blank'>{text}</a></td>"
    return f"<td>{text}</td>"


@dataclass(frozen=True, repr=False)
class LogView(View):
    """A service's log tail."""

    name: str
    log: str

    def text(self) -> str:
        return self.log or f"(service {self.name!r} has logged nothing yet)"

    def html(self) -> str:
        return (f"<details open><summary>log of {html.escape(self.name)}</summary>"
                f"<pre style='max-height:30em;overflow:auto'>{html.escape(self.text())}</pre>"
                "</details>")


@dataclass(frozen=True, repr=False)
class Message(View):
    """One line of outcome (``service 'x' stopped``)."""

    message: str

    def text(self) -> str:
        return self.message

    def html(self) -> str:
        return f"<p>{html.escape(self.message)}</p>"


class ServiceRow(NamedTuple):
    """One service as listings show it (never its keys)."""

    name: str
    state: str
    port: int | None
    image: str
    scoring_uri: str
    target: str = "local"
    replicas: str = ""
    auth: bool = False


#: ``%deploy_ls``'s columns, in the order shown, and the :class:`ServiceRow` field of each.
SERVICE_COLUMNS = ("name", "target", "state", "replicas", "auth", "port", "image", "scoring URI")
_SERVICE_FIELDS = ("name", "target", "state", "replicas", "auth", "port", "image", "scoring_uri")


def service_state(service: Deployment) -> str:
    """The service's state: ``Healthy``, ``Failed``…"""
    return service.state


def service_row(service: Deployment) -> ServiceRow:
    """One row of the services table; a service that vanished meanwhile shows as ``Deleted``."""
    try:
        state = service_state(service)
        running = state not in DOWN
        healthy, desired = service.replicas
        return ServiceRow(service.name, state, service.port if running else None, service.image,
                          service.scoring_uri if running else "", service.target.kind,
                          f"{healthy}/{desired}", service.auth_enabled)
    except DeployError:
        return ServiceRow(service.name, "Deleted", None, "", "", service.target.kind, "", False)


def services_view(services: Iterable[Deployment]) -> TableView:
    """The services table (``%deploy_ls``)."""
    rows = [tuple("key" if f == "auth" and getattr(r, f) else "" if f == "auth"
                  else getattr(r, f) for f in _SERVICE_FIELDS)
            for r in map(service_row, services)]
    return TableView("Services", SERVICE_COLUMNS, rows, empty="none: start one with %deploy")


def mask(key: str) -> str:
    """``••••••••`` and the key's last four characters: enough to tell keys apart, not to use."""
    return "••••••••" + key[-4:]


#: What a Copy button runs in the browser: it asks the Jupyter server this page came from for
#: the key (``GET jupyter-deploy/services/<name>/keys``, with the page's own token) and puts it
#: in the clipboard, so the key itself is never in a cell's output, a widget's state or the page.
_COPY_JS = """(async (button, path, field) => {
  const note = button.nextElementSibling;
  try {
    const element = document.getElementById('jupyter-config-data');
    const config = element ? JSON.parse(element.textContent) : {};
    const base = (config.baseUrl || '/').replace(/\\/?$/, '/');
    const headers = config.token ? { Authorization: 'token ' + config.token } : {};
    const answer = await fetch(base + path, { headers, credentials: 'same-origin' });
    const body = await answer.json();
    if (!answer.ok) { throw new Error(body.message || answer.statusText); }
    const key = body[field];
    try {
      await navigator.clipboard.writeText(key);
    } catch (error) {
      const put = event => {
        event.clipboardData.setData('text/plain', key);
        event.preventDefault();
      };
      document.addEventListener('copy', put, true);
      const copied = document.execCommand('copy');
      document.removeEventListener('copy', put, true);
      if (!copied) { throw error; }
    }
    note.textContent = 'copied';
  } catch (error) {
    note.textContent = 'not copied: ' + error.message + ' (service.get_keys() returns the keys)';
  }
})(this, PATH, FIELD)"""


def copy_key_button(service: str, which: str) -> str:
    """HTML of a button that copies ``service``'s ``which`` key ("primary" or "secondary") into
    the clipboard through the Jupyter server (the page never holds the key)."""
    path = f"jupyter-deploy/services/{quote(service, safe='')}/keys"
    script = _COPY_JS.replace("PATH", json.dumps(path)).replace(
        "FIELD", json.dumps(f"{which}_key"))
    return (f"<button class='jd-copy-key' data-key='{which}' onclick=\"{html.escape(script)}\">"
            f"Copy</button><span class='jd-copy-note' style='margin-left:.5em'></span>")


@dataclass(frozen=True, repr=False)
class KeysView(View):
    """A service's keys, masked, each with a Copy button (``%deploy_keys``, the services panel)."""

    name: str
    primary: str
    secondary: str

    @classmethod
    def of(cls, name: str, keys: tuple[str, str]) -> KeysView:
        """The view of ``keys``: only their masks are kept."""
        return cls(name, mask(keys[0]), mask(keys[1]))

    def text(self) -> str:
        return (f"Keys of {self.name!r} (masked; `service.get_keys()` returns them):\n"
                f"  primary    {self.primary}\n  secondary  {self.secondary}")

    def html(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{which}</th><td><code>{html.escape(masked)}</code>"
            f"</td><td style='text-align:left'>{copy_key_button(self.name, which)}</td></tr>"
            for which, masked in (("primary", self.primary), ("secondary", self.secondary)))
        return (f"<p><b>Keys of {html.escape(self.name)}</b> "
                "<small>(send one as <code>Authorization: Bearer &lt;key&gt;</code>; "
                "<code>service.score()</code> sends it itself)</small></p>"
                f"<table class='jd-keys'>{rows}</table>")


def images_view(address: str, repository: str | None = None,
                catalog: Catalog | None = None) -> View:
    """The registry's repositories (or one repository's tags), then this project's local images.

    Raises:
        DockerUnavailableError: no engine (a registry that is down is shown, not raised).
    """
    catalog = catalog or Catalog([])
    return Views((_registry_view(catalog, address, repository), _local_view(catalog)))


def _registry_view(catalog: Catalog, address: str, repository: str | None) -> View:
    try:
        if repository:
            rows = [(f"{address}/{t['repository']}:{t['tag']}", t.get("size"), t.get("created"))
                    for t in catalog.tags(address, repository)]
            return TableView(f"Tags of {repository} in {address}", ("image", "size", "created"),
                             rows)
        repos = catalog.repositories(address)
        return TableView(f"Registry {address}", ("repository",), [(r,) for r in repos],
                         empty="empty: push an image to it")
    except RegistryError as e:
        return Message(f"Registry {address}: {e}")


def _local_view(catalog: Catalog) -> TableView:
    rows = [(tag, f"{(image.get('size') or 0) / 1e6:.0f} MB", image["id"][7:19])
            for image in catalog.local_images() for tag in image["tags"]
            if _ours(tag, image.get("labels") or {})]
    return TableView("Local images", ("image", "size", "id"), sorted(rows))


def _ours(tag: str, labels: Mapping[str, str]) -> bool:
    return tag.startswith("jupyter-deploy/") or "jupyter_deploy.managed" in labels or (
        tag.split("/", 1)[0].startswith("127.0.0.1:"))


@dataclass(frozen=True, repr=False)
class Views(View):
    """Several views shown one after another."""

    parts: Sequence[View]

    def text(self) -> str:
        return "\n\n".join(p.text() for p in self.parts)

    def html(self) -> str:
        return "".join(p.html() for p in self.parts)
