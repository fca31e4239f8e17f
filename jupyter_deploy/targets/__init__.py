"""Where a deployment runs: one small interface and its implementations (the local engine).
"""
