"""What the notebook front ends share: the session (environments, state for magics and
panels), magic-line parsing into command objects, and rich display. Imports IPython lazily.
"""
