"""Experiment loggers: CSV always, Weights & Biases online when logged in and offline otherwise."""

from __future__ import annotations

import logging
import netrc
import os
import sys
from typing import Any
from urllib.parse import urlparse

from lightning.pytorch.loggers import CSVLogger, Logger, WandbLogger

log = logging.getLogger(__name__)


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
    mode = wandb_mode(wandb_cfg["mode"]) if wandb_cfg else "disabled"
    if mode != "disabled":
        loggers.append(
            WandbLogger(
                name=name,
                save_dir=save_dir,
                project=wandb_cfg["project"],
                entity=wandb_cfg.get("entity"),
                group=group,
                tags=[*tags, *wandb_cfg.get("tags", [])],
                config=config,
                mode=mode,
            )
        )
    return loggers


def close_wandb(loggers: list[Logger], summary: dict[str, Any], rank: int) -> None:
    """Write ``summary`` into the W&B run (rank 0) and finish it, so a multirun's next job starts its own.

    A W&B failure here is logged, never raised: it must not mask the run's own outcome.
    """
    try:
        for logger in loggers:
            if isinstance(logger, WandbLogger) and rank == 0:
                logger.experiment.summary.update(summary)
    except Exception:
        log.warning("could not write the W&B run summary", exc_info=True)
    finally:
        if "wandb" in sys.modules:
            sys.modules["wandb"].finish()


def log_to_wandb(
    loggers: list[Logger],
    tables: dict[str, Any],
    images: dict[str, Any],
    line_plots: dict[str, tuple[str, str, str, str | None]],
) -> None:
    """Log pandas ``tables`` (name -> DataFrame), image files (name -> path) and line plots (name -> (table,
    x, y, series column or None)) into the W&B run among ``loggers``, if any. Failures are logged only."""
    try:
        for logger in loggers:
            if not isinstance(logger, WandbLogger):
                continue
            import wandb

            wandb_tables = {name: wandb.Table(dataframe=frame) for name, frame in tables.items()}
            payload: dict[str, Any] = {f"tables/{name}": table for name, table in wandb_tables.items()}
            payload.update({f"figures/{name}": wandb.Image(str(path)) for name, path in images.items()})
            for name, (table, x, y, series) in line_plots.items():
                payload[f"plots/{name}"] = wandb.plot.line(
                    wandb_tables[table], x, y, stroke=series, title=name
                )
            logger.experiment.log(payload)
    except Exception:
        log.warning("could not log the analysis to W&B", exc_info=True)
