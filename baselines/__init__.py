"""Deep-RL baselines (stable-baselines3, sb3-contrib) on pilqr's reacher and door tasks.

``python -m baselines.run`` trains them and writes held-out learning curves;
``python -m baselines.report`` compares those curves with the MDGPS runs of ``pilqr
reproduce`` and writes the "Deep-RL baselines" section of docs/results.md. See
baselines/README.md.
"""
