"""Experiment loggers: CSV always, Weights & Biases online when logged in and offline otherwise."""

from __future__ import annotations

import logging
import statistics
import sys
from typing import Any

from lightning.pytorch.loggers import CSVLogger, Logger, WandbLogger

from optfactors.run.naming import method_columns
from optfactors.run.wandb_target import wandb_mode

log = logging.getLogger(__name__)


def build_loggers(
    logger_cfg: dict[str, Any], save_dir: str, name: str, group: str, tags: list[str], config: dict[str, Any]
) -> list[Logger]:
    """CSV logger in ``save_dir``, plus a W&B run named ``name`` in ``group`` unless W&B is off.

    The W&B run's config is ``config`` plus ``method``: the optimizer, schedule and loss names of runs.csv
    (``method.optimizer`` tells momentum from SGD), for grouping in dashboards.
    """
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
                config={**config, "method": method_columns(config)},
                mode=mode,
            )
        )
    return loggers


#: Summary keys that stay in the W&B summary when None: their absence is the result.
NULLABLE = ("error", "diverged_at")


def run_summary(record: dict[str, Any]) -> dict[str, Any]:
    """A run record's outcome and timing as W&B summary keys.

    The timing keys are those `optfactors.callbacks.TimingLogger` logs each epoch, here for the whole run:
    ``time/per_update_s`` (median, warm-up excluded), ``time/epoch_s`` (median over epochs), ``time/wall_s``
    (this attempt's wall time), ``updates``. Fields a record lacks (an analysis stage has no updates) are
    left out.
    """
    epoch_times = record.get("time_per_epoch_s") or []
    summary = {
        "status": record.get("status"),
        "run_key": record.get("run_key"),
        "error": record.get("error"),
        "diverged_at": record.get("diverged_at"),
        "stop_reason": record.get("stop_reason"),
        "epochs": record.get("epochs"),
        "updates": record.get("updates"),
        "time/per_update_s": record.get("time_per_update_s"),
        "time/epoch_s": statistics.median(epoch_times) if epoch_times else None,
        "time/wall_s": record.get("wall_time_s"),
    }
    return {k: v for k, v in summary.items() if v is not None or k in NULLABLE}


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
