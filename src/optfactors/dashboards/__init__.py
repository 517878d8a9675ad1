"""Dashboards as code: per study, a W&B report of the lecture's figures built from the runs' config and
summary. What to draw is data (each study manifest's ``dashboard`` -> `spec`); `build` turns specs into
wandb_workspaces reports; ``python -m optfactors.dashboards`` saves them, or writes the specs when offline."""
