"""The scoring server that runs inside every image, as a package of its own.

The build copies this folder whole into the image (as ``jd_scoring``), so nothing here imports
the rest of ``jupyter_deploy``: only this package, the standard library and the pinned packages
named in :data:`protocol.SERVER_REQUIREMENTS`. The host imports its constants (``protocol``) and
runs it directly for ``jupyter-deploy serve``.
"""
