"""``/jupyter-deploy/base-images``: the prebuilt inference base images, for the sidebar.

``GET base-images`` lists them; ``POST base-images/<name>/build`` builds one and answers its row.
What they answer comes from :class:`~jupyter_deploy.serverext.prebuilt_images.BaseImages`, which
the manager holds.
"""

from __future__ import annotations

from tornado import web

from jupyter_deploy.serverext.handlers import DeployHandler


class BaseImagesHandler(DeployHandler):
    """``GET base-images``."""

    @web.authenticated
    async def get(self) -> None:
        await self.answer(self.manager.base_images.list)


class BaseImageBuildHandler(DeployHandler):
    """``POST base-images/<name>/build``: build it (minutes for the CUDA one); answers its row."""

    @web.authenticated
    async def post(self, ref: str) -> None:
        await self.answer(self.manager.base_images.build, ref)
