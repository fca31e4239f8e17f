"""The ``jupyter-deploy`` command: one sub-command module per noun, over the same core calls.

``main.py`` builds the parser and runs a command (the console script
``jupyter_deploy.cli.main:main``; ``python -m jupyter_deploy.cli`` runs the same).
"""
