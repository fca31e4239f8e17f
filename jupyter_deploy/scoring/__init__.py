"""Scoring: the wire protocol, the server that runs inside every image, and the client.

This package's ``__init__`` imports nothing, so ``server.py`` and ``protocol.py`` can be copied
into an image on their own (as the ``jd_scoring`` package) and run there without the rest of
jupyter_deploy or its dependencies.
"""
