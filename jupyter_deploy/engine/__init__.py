"""Everything that talks to the Docker engine through docker-py: images, containers, base
images, pull/push progress and the mapping of the engine's refusals to our errors.
"""
