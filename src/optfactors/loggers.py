"""Experiment loggers: CSV always, Weights & Biases online when logged in and offline otherwise."""

from __future__ import annotations

import netrc
import os
from typing import Any
from urllib.parse import urlparse

from lightning.pytorch.loggers import CSVLogger, Logger, WandbLogger


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


def build_loggers(
    logger_cfg: dict[str, Any], save_dir: str, name: str, group: str, tags: list[str], config: dict[str, Any]
) -> list[Logger]:
    """CSV logger in ``save_dir``, plus a W&B run named ``name`` in ``group`` unless W&B is off."""
    loggers: list[Logger] = [CSVLogger(save_dir, name="csv", version="")]
    wandb_cfg = logger_cfg.get("wandb")
    if wandb_cfg and wandb_mode(wandb_cfg["mode"]) != "disabled":
        loggers.append(
            WandbLogger(
                name=name,
                save_dir=save_dir,
                project=wandb_cfg["project"],
                entity=wandb_cfg.get("entity"),
                group=group,
                tags=[*tags, *wandb_cfg.get("tags", [])],
                config=config,
                mode=wandb_mode(wandb_cfg["mode"]),
            )
        )
    return loggers
