"""The record lifecycle every analysis stage shares with `optfactors.train.train`: skip a finished run,
record a failure with its traceback, write the record atomically, always."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from omegaconf import DictConfig

from optfactors.config import validate
from optfactors.figures import FIGURES, FORMATS
from optfactors.figures.style import use_style
from optfactors.loggers import build_loggers, close_wandb, log_to_wandb, run_summary
from optfactors.record import (
    finished_record,
    provenance,
    record_path,
    run_key,
    write_json_atomic,
    write_traceback,
)
from optfactors.results import run_row
from optfactors.runtime import device_name

log = logging.getLogger("optfactors")


@dataclass
class Analysis:
    """What a stage fills in as it goes: the long table's rows, headline metrics, more record fields."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)


def run_analysis(
    cfg: DictConfig,
    config: dict[str, Any],
    analyse: Callable[[str, Analysis], None],
    device: torch.device,
    after: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Validate ``config`` (the resolved run config), then ``analyse(run_key, analysis)`` -> one record.

    With ``resume`` a finished run is skipped. Whatever happens, the record is written (``ok``, or
    ``failed`` with the error and ``<run_key>.traceback.txt``, then re-raised) and ``after(record)`` runs.
    """
    validate(config)
    key = run_key(config)
    path = record_path(cfg.paths.results, cfg.experiment_name, key)
    if (done := finished_record(cfg, path)) is not None:
        log.info("run %s is already done (%s, %s): skipped", key, done["status"], path)
        return {**done, "skipped": True}
    start = time.perf_counter()
    analysis, status, error = Analysis(), "failed", None
    try:
        analyse(key, analysis)
        status = "ok"
    except BaseException as err:
        error = f"{type(err).__name__}: {err}"
        write_traceback(path)
        raise
    finally:
        record = {
            "run_key": key,
            "experiment": cfg.experiment_name,
            "status": status,
            "error": error,
            "metrics": analysis.metrics,
            **analysis.fields,
            "wall_time_s": time.perf_counter() - start,
            "device": device_name(device),
            "processes": 1,
            **provenance(cfg, config),
            "curve": analysis.rows,
        }
        write_json_atomic(path, record)
        if after is not None:
            after(record)
    log.info("run %s: %s -> %s", key, status, path)
    return record


def stage_loggers(cfg: DictConfig, config: dict[str, Any], key: str, tag: str) -> list:
    """The loggers of an analysis run, as `train` builds them: CSV in the run's output folder, plus a W&B run
    named after the run key in the experiment's group, tagged with the profile and ``tag``."""
    return build_loggers(
        config["logger"],
        cfg.paths.output,
        name=key,
        group=cfg.experiment_name,
        tags=[cfg.profile.name, tag],
        config=config,
    )


Tables = dict[str, pd.DataFrame]
LinePlots = dict[str, tuple[str, str, str, str | None]]


def log_record(
    loggers: list,
    record: dict[str, Any],
    output: Path,
    line_plots: LinePlots,
    derived: Callable[[Tables], Tables] | None = None,
) -> None:
    """The record's summary metrics to every logger; to W&B its tables (one per ``table`` of the long
    table, plus ``derived(tables)``), ``line_plots`` and the figures of its experiment drawn from this run
    alone (also saved as PNG under ``output/figures``)."""
    for logger in loggers:
        logger.log_metrics(record["metrics"])
        logger.save()
    runs = pd.DataFrame([run_row(record)])
    curves = pd.DataFrame([{"run_key": record["run_key"], **row} for row in record["curve"]])
    tables = {name: part.dropna(axis=1, how="all") for name, part in curves.groupby("table")}
    if derived is not None:
        tables.update(derived(tables))
    images = {}
    (output / "figures").mkdir(parents=True, exist_ok=True)
    for spec in FIGURES.values():
        if spec.experiment == record["experiment"]:
            with use_style():
                images[spec.name] = output / "figures" / f"{spec.name}.png"
                spec.fn(runs, curves).savefig(images[spec.name], dpi=110, metadata=FORMATS["png"])
    log_to_wandb(loggers, tables, images, line_plots)


def closing(
    loggers: list, output: Path, line_plots: LinePlots, derived: Callable[[Tables], Tables] | None = None
) -> Callable[[dict[str, Any]], None]:
    """The ``after`` of `run_analysis` for a stage that logs: `log_record` if the run is ok, then the W&B
    run closed with the status in its summary, whatever happened."""

    def after(record: dict[str, Any]) -> None:
        try:
            if record["status"] == "ok":
                log_record(loggers, record, output, line_plots, derived)
        except Exception:  # the record is written: a logging or drawing failure must not fail the run
            log.warning("could not log run %s to its loggers", record["run_key"], exc_info=True)
        finally:
            close_wandb(loggers, run_summary(record), 0)

    return after
