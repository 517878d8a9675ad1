"""One run's life, the same for every stage (training or an analysis): the settings that define it and its
run key, skip if done, loggers, the stage's work, the record written atomically (a failure with its
traceback), W&B closed."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from lightning.pytorch.loggers import Logger
from omegaconf import DictConfig, OmegaConf

from optfactors.callbacks import Diverged
from optfactors.data import DataError
from optfactors.device import device_name
from optfactors.run.config import ConfigError
from optfactors.run.faults import is_resource_error
from optfactors.run.launch import leave_process_group
from optfactors.run.loggers import build_loggers, close_wandb, run_summary
from optfactors.run.record import (
    finished_record,
    provenance,
    record_path,
    resolved_config,
    run_key,
    write_json_atomic,
    write_traceback,
)

log = logging.getLogger("optfactors")

#: A stage's settings: cfg -> the validated settings that define a run (its key and its record's config).
Settings = Callable[[DictConfig], dict[str, Any]]
#: Rows of a record's long table (its ``curve``, collected into ``curves.csv``): one dict a row.
Rows = list[dict[str, Any]]


@dataclass
class Run:
    """A run in progress: what its stage reads (cfg, key, loggers) and fills in as it goes."""

    cfg: DictConfig
    key: str
    loggers: list[Logger]
    metrics: dict[str, float] = field(default_factory=dict)
    curve: Rows = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    processes: int = 1
    rank: int = 0


@dataclass(frozen=True)
class Stage:
    """A kind of run. ``work(run)`` does it; ``settings`` define it; ``tag(cfg)`` labels its W&B run;
    ``finish(run, record)`` runs once the record is written (publish tables, drop a checkpoint).
    Calling a stage on a config runs it through `execute`."""

    work: Callable[[Run], None]
    settings: Settings
    tag: Callable[[DictConfig], str]
    finish: Callable[[Run, dict[str, Any]], None] | None = None

    def key(self, cfg: DictConfig) -> str:
        """The run key of ``cfg`` under this stage."""
        return run_key(self.settings(cfg))

    def __call__(self, cfg: DictConfig) -> dict[str, Any]:
        return execute(self, cfg)


def subtrees(*names: str) -> Settings:
    """Settings made of the top-level config entries ``names``, resolved; a missing or null one is a
    ConfigError (e.g. an optional config group left unchosen)."""

    def settings(cfg: DictConfig) -> dict[str, Any]:
        config = resolved_config(cfg)
        for name in names:
            if config.get(name) is None:
                example = f"optfactors experiment={cfg.experiment_name} {name}=NAME"
                raise ConfigError(name, None, f"{cfg.experiment_name} needs it (e.g. {example})")
        return {name: config[name] for name in names}

    return settings


def execute(stage: Stage, cfg: DictConfig) -> dict[str, Any]:
    """Run ``cfg`` as ``stage`` to its record (returned).

    A bad config or data file (ConfigError, DataError) is raised and leaves no record. With ``resume``, a run
    whose record is final (``ok`` or ``diverged``) is skipped. Otherwise the record is written whatever
    happens: ``ok``; ``diverged`` (the work raised `Diverged`); or ``failed`` (any other exception, Ctrl-C, a
    SIGTERM), with ``<run_key>.traceback.txt`` beside it, and the exception re-raised. A resource error (full
    disk, no permission: `optfactors.run.faults`) is re-raised without a record.
    """
    config = stage.settings(cfg)
    key = run_key(config)
    path = record_path(cfg.paths.results, cfg.experiment_name, key)
    if (done := finished_record(cfg, path)) is not None:
        log.info("run %s is already done (%s, %s): skipped", key, done["status"], path)
        return {**done, "skipped": True}
    run, start = Run(cfg, key, loggers=[]), time.perf_counter()
    outcome: dict[str, Any] | None = {"status": "failed", "error": None, "diverged_at": None}
    record: dict[str, Any] = {}
    try:
        logger_cfg = OmegaConf.to_container(cfg.logger, resolve=True)
        tags = [cfg.profile.name, stage.tag(cfg)]
        run.loggers = build_loggers(logger_cfg, cfg.paths.output, key, cfg.experiment_name, tags, config)
        stage.work(run)
        outcome["status"] = "ok"
    except Diverged as err:
        outcome.update(
            status="diverged", error=str(err), diverged_at={"epoch": err.epoch, "update": err.step}
        )
    except (ConfigError, DataError):  # found during the work: still a bad config or data file
        outcome = None
        raise
    except BaseException as err:  # also KeyboardInterrupt and SystemExit (Lightning's answer to SIGTERM)
        if is_resource_error(err):  # a full disk, no permission: not the run's fault, and nothing is written
            outcome = None
            raise
        outcome["error"] = f"{type(err).__name__}: {err}"
        write_traceback(path)
        raise
    finally:
        try:
            if outcome is not None:
                record = _record(run, config, outcome, time.perf_counter() - start)
                if run.rank == 0:
                    write_json_atomic(path, record)
                    _finish(stage, run, record)
        finally:
            close_wandb(run.loggers, run_summary(record), run.rank)
            leave_process_group()
    log.info("run %s: %s -> %s", key, record["status"], path)
    return record


def _record(run: Run, config: dict[str, Any], outcome: dict[str, Any], wall_time: float) -> dict[str, Any]:
    """The record of ``run``: its outcome, what its stage filled in, and its provenance."""
    return {
        "run_key": run.key,
        "experiment": run.cfg.experiment_name,
        **outcome,
        "metrics": run.metrics,
        **run.fields,
        "wall_time_s": wall_time,  # this attempt's
        "device": device_name(run.device),
        "processes": run.processes,
        **provenance(run.cfg, config),
        "curve": run.curve,
    }


def _finish(stage: Stage, run: Run, record: dict[str, Any]) -> None:
    """``stage.finish``, if any; a failure there is logged, never raised: the record is written."""
    if stage.finish is None:
        return
    try:
        stage.finish(run, record)
    except Exception:
        log.warning("could not finish run %s", run.key, exc_info=True)
