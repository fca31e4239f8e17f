"""Docker Swarm as a deploy target (see :mod:`.target`)."""

from jupyter_deploy.targets.swarm.target import LABEL_OWNER, SwarmTarget

__all__ = ["LABEL_OWNER", "SwarmTarget"]
