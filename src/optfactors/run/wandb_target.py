"""Where W&B output goes, decided the same way for runs, study reports and dashboards: the mode (online when
logged in, offline otherwise, never a prompt) and the project of ``conf/logger/wandb.yaml``.

Light on purpose (no torch, no Lightning), so ``make publish`` and ``make dashboard`` stay cheap.
"""

from __future__ import annotations

import netrc
import os
from urllib.parse import urlparse

from omegaconf import OmegaConf

from optfactors import CONF_DIR

#: The W&B logger config every run uses by default.
WANDB_CONFIG = CONF_DIR / "logger" / "wandb.yaml"


def wandb_mode(configured: str) -> str:
    """The W&B mode to use: ``configured`` unless it is ``auto``.

    ``auto`` honours ``WANDB_MODE`` if set, else is ``online`` when an API key is configured
    (``WANDB_API_KEY`` or a ``wandb login`` entry in ~/.netrc) and ``offline`` otherwise, so a run never
    stops at a login prompt.
    """
    if configured != "auto":
        return configured
    if os.environ.get("WANDB_MODE"):
        return os.environ["WANDB_MODE"]
    if os.environ.get("WANDB_API_KEY"):
        return "online"
    host = urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).hostname
    try:
        found = netrc.netrc(os.environ.get("NETRC")).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        found = None
    return "online" if found and found[2] else "offline"


def wandb_project() -> tuple[str, str | None, str]:
    """(project, entity or None, mode) of the default W&B logger config, the mode resolved by `wandb_mode`."""
    cfg = OmegaConf.load(WANDB_CONFIG).wandb
    return cfg.project, cfg.entity, wandb_mode(cfg.mode)
