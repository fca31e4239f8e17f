"""Kubernetes as a deploy target: the same package as manifests, applied with the official client.

:mod:`.manifests` turns a service into plain dicts (no cluster needed; written to a folder or
applied); :mod:`.target` applies them with server-side apply when a kubeconfig context is attached.
The ``kubernetes`` client is an optional extra (``pip install jupyter_deploy[kubernetes]``),
imported only when a cluster is used.
"""
