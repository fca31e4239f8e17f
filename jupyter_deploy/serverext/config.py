"""Settings of the sidebar's server extension (``c.SidebarConfig.…`` in a Jupyter config).

Only addresses live here: passwords for private registries come from Docker's own config
(``docker login``), so a Jupyter config file never holds a credential.
"""

from __future__ import annotations

from traitlets import Float, List, Unicode
from traitlets.config import Configurable


class SidebarConfig(Configurable):
    """Which registries the sidebar shows, and how long answers are reused."""

    registries = List(
        Unicode(),
        default_value=[],
        help="host:port of each registry to list; empty means the workspace registry "
        "(DeployConfig.registry_address). Logins come from `docker login`.",
    ).tag(config=True)
    cache_seconds = Float(
        5.0, help="Seconds a registry or image listing is reused before asking again."
    ).tag(config=True)
