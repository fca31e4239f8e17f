"""``%load_ext jupyter_deploy``: the notebook front end (magics), loaded only from IPython.

The magics live in :mod:`.deploy_magics`; pulling with a progress display in :mod:`.pulling`.
Loading registers them with the shell and adds :class:`~jupyter_deploy.config.DeployConfig` and
:class:`DeployMagics` to the shell's configurables, so ``%config DeployConfig.ready_timeout = 300``
and ``%config DeployMagics.short_errors = False`` work like any IPython setting.
"""

from __future__ import annotations

from typing import Any

from jupyter_deploy.config import get_config
from jupyter_deploy.magics.deploy_magics import DeployMagics


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics and their configurables with ``ipython``."""
    magics = DeployMagics(ipython)
    ipython.register_magics(magics)
    config = get_config()
    config.update_config(ipython.config)
    magics.update_config(ipython.config)
    for configurable in (config, magics):
        if configurable not in ipython.configurables:
            ipython.configurables.append(configurable)


__all__ = ["DeployMagics", "load_ipython_extension"]
