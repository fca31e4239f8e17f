"""``python -m jupyter_deploy.cli …``."""

from jupyter_deploy.cli.main import main

raise SystemExit(main())
