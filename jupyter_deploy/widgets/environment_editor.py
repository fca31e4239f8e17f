"""The environment editor: a form over :class:`~jupyter_deploy.spec.environment.Environment`.

Fields map one to one onto the frozen spec (base image, pip and conda lists, variables, private
registry) so what the form shows is exactly what ``%%deploy_env`` would have produced; *Save*
builds the spec (the spec's own validation reports a bad requirement or variable name) and hands
it to ``on_save``. The base-image picker is fed by the registries layer's
:class:`~jupyter_deploy.registry.catalog.Catalog` (workspace registry tags and local images) on the
worker thread; beside it, a *Prebuilt* menu offers the seeds' inference images (ONNX Runtime,
the minimal one) by the names the seeds use, which resolve to the offline catalogue's at build
time, and says what each holds and whether this engine has it built. The password field is
masked and never shown back, logged or written.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as w

from jupyter_deploy.config import get_config
from jupyter_deploy.engine import prebuilt
from jupyter_deploy.errors import DeployError, RegistryError
from jupyter_deploy.notebook.display import EnvironmentView
from jupyter_deploy.registry.catalog import Catalog
from jupyter_deploy.spec import formats as environment_io
from jupyter_deploy.spec.base_catalog import CATALOG, PrebuiltBase, lookup
from jupyter_deploy.spec.environment import Environment, RegistryCredentials
from jupyter_deploy.widgets.base import Panel, labelled


class EnvVarTable(w.VBox):
    """Rows of name/value fields with add and remove buttons."""

    def __init__(self, variables: dict[str, str] | None = None) -> None:
        self.add_button = w.Button(description="Add variable", icon="plus")
        self.add_button.on_click(lambda _: self.add_row())
        self.rows: list[w.HBox] = []
        super().__init__()
        for key, value in (variables or {}).items():
            self.add_row(key, value)
        self._redraw()

    def add_row(self, key: str = "", value: str = "") -> w.HBox:
        """Append one ``NAME = value`` row."""
        remove = w.Button(icon="trash", tooltip="remove", layout=w.Layout(width="3em"))
        row = w.HBox([w.Text(key, placeholder="NAME"), w.Text(value, placeholder="value"),
                      remove])
        remove.on_click(lambda _: self.remove_row(row))
        self.rows.append(row)
        self._redraw()
        return row

    def remove_row(self, row: w.HBox) -> None:
        """Drop one row."""
        self.rows.remove(row)
        self._redraw()

    @property
    def value(self) -> dict[str, str]:
        """The variables, skipping rows whose name is empty."""
        pairs = ((r.children[0].value.strip(), r.children[1].value) for r in self.rows)
        return {k: v for k, v in pairs if k}

    def _redraw(self) -> None:
        self.children = (*self.rows, self.add_button)


class EnvironmentPanel(Panel):
    """Edit an environment; *Save* validates it and calls ``on_save(env)``.

    Args:
        env: the environment to start from (the default one when None).
        on_save: called with the saved environment (the magics bind it in the notebook).
        catalog: where base images are listed from (the workspace registry by default).
        load_images: fill the base-image picker at once (on the worker thread).
    """

    def __init__(self, env: Environment | None = None,
                 on_save: Callable[[Environment], None] | None = None,
                 catalog: Catalog | None = None, load_images: bool = True) -> None:
        super().__init__("Environment", css="env")
        self.on_save = on_save
        self.catalog = catalog or Catalog()
        self.saved: Environment | None = None
        self._build_fields()
        self.load(env or Environment())
        self.children = self._layout()
        if load_images:
            self.refresh_images()

    def _build_fields(self) -> None:
        self.name = w.Text(placeholder="name")
        self.base_image = w.Combobox(placeholder=get_config().default_base_image,
                                     ensure_option=False, layout=w.Layout(width="28em"))
        self.refresh_button = w.Button(icon="refresh", tooltip="list base images",
                                       layout=w.Layout(width="3em"))
        self.refresh_button.on_click(lambda _: self.refresh_images())
        self.prebuilt = w.Dropdown(options=_prebuilt_options(), value="",
                                   layout=w.Layout(width="28em"))
        self.prebuilt.observe(lambda change: self._pick_prebuilt(change["new"]), names="value")
        self.base_image.observe(lambda change: self._follow_base(change["new"]), names="value")
        self.prebuilt_note = w.HTML("")
        self._prebuilt_sizes: dict[str, str] = {}
        self.pip = w.Textarea(placeholder="scikit-learn==1.5.2  (one per line)", rows=4)
        self.conda = w.Textarea(placeholder="needs a base image with conda", rows=2)
        self.env_vars = EnvVarTable()
        self.registry_address = w.Text(placeholder="myregistry.example:5000")
        self.registry_username = w.Text(placeholder="username")
        self.registry_password = w.Password(placeholder="password")
        self.save_button = w.Button(description="Save", button_style="primary", icon="check")
        self.save_button.on_click(lambda _: self.save())
        self.yaml_button = w.Button(description="Show YAML", icon="file-code-o")
        self.yaml_button.on_click(lambda _: self.show_yaml())
        self.import_text = w.Textarea(placeholder="paste an environment.yml, our YAML or the "
                                      "inference-configuration JSON", rows=6,
                                      layout=w.Layout(width="36em"))
        self.import_button = w.Button(description="Import", icon="upload")
        self.import_button.on_click(lambda _: self.import_from_text())

    def _layout(self) -> tuple[w.Widget, ...]:
        registry = w.VBox([labelled("address", self.registry_address),
                           labelled("username", self.registry_username),
                           labelled("password", self.registry_password)])
        private = w.Accordion([registry], titles=("Private registry",))
        importer = w.Accordion([w.VBox([self.import_text, self.import_button])],
                               titles=("Import from a file's text",))
        return (self.title, labelled("Name", self.name),
                labelled("Base image", w.HBox([self.base_image, self.refresh_button])),
                labelled("Prebuilt", w.VBox([self.prebuilt, self.prebuilt_note])),
                labelled("pip", self.pip), labelled("conda", self.conda),
                labelled("Variables", self.env_vars), private, importer,
                w.HBox([self.save_button, self.yaml_button]), self.status, self.output)

    def buttons(self) -> list[w.Button]:
        return [self.save_button, self.refresh_button, self.import_button]

    # -- values --------------------------------------------------------------------------------

    def load(self, env: Environment) -> None:
        """Show ``env`` in the form (the password field stays empty)."""
        self.name.value = env.name
        self.base_image.value = env.base_image
        self.pip.value = "\n".join(env.pip)
        self.conda.value = "\n".join(env.conda)
        self.env_vars.rows = []
        for key, value in env.env_vars.items():
            self.env_vars.add_row(key, value)
        self.env_vars._redraw()
        registry = env.registry or RegistryCredentials()
        self.registry_address.value = registry.address or ""
        self.registry_username.value = registry.username or ""
        self.registry_password.value = ""

    @property
    def environment(self) -> Environment:
        """The environment the form describes.

        Raises:
            EnvironmentSpecError: a field is invalid (named in the message).
        """
        address = self.registry_address.value.strip()
        registry = RegistryCredentials(address, self.registry_username.value.strip() or None,
                                       self.registry_password.value or None) if address else None
        return Environment(
            name=self.name.value.strip() or "default", base_image=self.base_image.value.strip(),
            pip=_lines(self.pip.value), conda=_lines(self.conda.value),
            env_vars=self.env_vars.value, registry=registry)

    # -- actions -------------------------------------------------------------------------------

    def save(self) -> Environment | None:
        """Validate and save; the panel says what is wrong if a field is bad."""
        env = self.guard("Cannot save", lambda: self.environment)
        if env is None:
            return None
        self.saved = env
        if self.on_save is not None:
            self.on_save(env)
        self.say(f"Saved environment {env.name!r}.", "ok")
        self.clear()
        self.show(EnvironmentView(env))
        return env

    def import_from_text(self) -> Environment | None:
        """Fill the form from pasted text (any format ``%%deploy_env`` reads); nothing is saved."""
        text = self.import_text.value
        env = self.guard("Cannot import", lambda: environment_io.loads(text))
        if env is not None:
            self.load(env)
            self.say(f"Imported {env.name!r}: check the fields, then Save.", "ok")
        return env

    def show_yaml(self) -> None:
        """Show the environment as ``%%deploy_env`` YAML (without the password)."""
        env = self.guard("Cannot show", lambda: self.environment)
        if env is not None:
            self.clear()
            self.log(environment_io.dumps(env, "yaml"))

    def refresh_images(self) -> None:
        """List base images (local ones and the workspace registry's tags) in the picker."""
        self.run_in_background("Listing base images", self._image_options, self._set_options)

    def _pick_prebuilt(self, name: str) -> None:
        """Put the seeds' name of the chosen prebuilt image in the base-image field, and say
        what it holds."""
        found = lookup(name) if name else None
        if not isinstance(found, PrebuiltBase):
            self.prebuilt_note.value = ""
            return
        self.base_image.value = name
        size = self._prebuilt_sizes.get(found.name, f"not built yet, ≈ {found.approx_size}")
        self.prebuilt_note.value = (
            f"<small>{html.escape(found.title)}. Built offline as <code>{found.repository}"
            f"</code> ({html.escape(size)}) the first time it is used.</small>")

    def _follow_base(self, image: str) -> None:
        """A base image typed by hand selects its prebuilt entry, or none."""
        self.prebuilt.value = image if image in _seed_names() else ""

    def _image_options(self) -> list[str]:
        self._prebuilt_sizes = _prebuilt_sizes()
        names = {tag for image in self.catalog.local_images() for tag in image["tags"]}
        for entry in self.catalog.registries():
            if entry.get("reachable"):
                names |= _registry_images(self.catalog, entry["address"])
        return sorted(names)

    def _set_options(self, options: list[str]) -> None:
        self.base_image.options = tuple(options)
        self.say(f"{len(options)} base images available.", "ok")


def _registry_images(catalog: Catalog, address: str) -> set[str]:
    try:
        return {f"{address}/{row['repository']}:{row['tag']}"
                for repository in catalog.repositories(address)
                for row in catalog.tags(address, repository)}
    except RegistryError:
        return set()


def _prebuilt_options() -> list[tuple[str, str]]:
    """The menu: nothing, then each prebuilt image as ``name — seeds' name``."""
    return [("(none)", ""), *((f"{base.name} — {base.seed_name}", base.seed_name)
                              for base in CATALOG)]


def _seed_names() -> set[str]:
    return {base.seed_name for base in CATALOG}


def _prebuilt_sizes() -> dict[str, str]:
    """``name → size`` of the prebuilt images this engine has (none when it cannot say)."""
    try:
        return {i.base.name: i.to_dict()["size"] for i in prebuilt.list_images() if i.built}
    except DeployError:
        return {}


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())
