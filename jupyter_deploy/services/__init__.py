"""The handles users hold: a deployment, a package, a workspace, the inventory front ends
list, and the one-time set-up (engine, registry, base image). Front ends call these.
"""
