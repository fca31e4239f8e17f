"""From a spec to a build context folder: Dockerfile, wheelhouse, server copy, models, code.

No Docker here: a context is plain files that ``docker build --network none`` turns into the
image, which is why a saved Dockerfile folder and a deploy build the same bytes.
"""
