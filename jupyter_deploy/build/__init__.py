"""From a spec to a build context folder: Dockerfile, wheels and installer, server, models, code.

No Docker here: a context is plain files that ``docker build --network none`` turns into the
image. A saved folder always holds the portable Dockerfile, which any builder takes; a deploy on
an engine with BuildKit renders the same image with the wheels mounted instead of copied.
"""
