"""The seeds' Azure ML SDK v1 surface, over jupyter_deploy's native core.

Code written for ``azureml.core`` runs here with only the import prefix changed
(``from jupyter_deploy.azureml.core.model import Model``). Every class is a thin, mutable adapter
that converts to the frozen native specs and calls the same core functions as the native API —
there is no second implementation to drift apart.
"""
