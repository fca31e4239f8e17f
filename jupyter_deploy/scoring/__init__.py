"""Scoring: the wire protocol, the server that runs inside every image, and the client.

This package's ``__init__`` imports nothing, so the server's modules (listed in
``protocol.SERVER_FILES``: settings, the ASGI app, the entry-script loader, the Azure import
shims …) can be copied into an image on their own (as the ``jd_scoring`` package) and run there
with uvicorn alone, without the rest of jupyter_deploy or its dependencies. ``client.py`` is the
host side and is never copied.
"""
