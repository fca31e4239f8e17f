"""Frozen specs and their file formats: what an environment, a package, an image reference
and a service record are. No Docker here, so specs can be read, checked and tested anywhere.
"""
