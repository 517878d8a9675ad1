"""The record lifecycle every analysis stage shares with `optfactors.train.train`: skip a finished run,
record a failure with its traceback, write the record atomically, always."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from omegaconf import DictConfig

from optfactors.config import validate
from optfactors.record import (
    finished_record,
    provenance,
    record_path,
    run_key,
    write_json_atomic,
    write_traceback,
)
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
