"""The Hydra entry point (console script ``optfactors``): compose -> validate -> train -> test -> record."""

from __future__ import annotations

import contextlib
import logging
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import hydra
import lightning
import lightning.pytorch as pl
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.utils import instantiate
from lightning.pytorch.callbacks import RichProgressBar
from lightning.pytorch.loggers import WandbLogger
from omegaconf import DictConfig

from optfactors.callbacks import Diverged, DivergenceGuard, EpochHistory, UpdateTimer
from optfactors.config import ConfigError, validate
from optfactors.loggers import build_loggers
from optfactors.record import (
    git_commit,
    read_record,
    record_path,
    resolved_config,
    run_key,
    write_json_atomic,
)
from optfactors.task import Classifier

log = logging.getLogger("optfactors")

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"
#: Updates at the start of a run left out of the median time per update (allocator and cache warm-up).
TIMING_SKIP_FIRST = 5


def device_name(device: torch.device) -> str:
    """A human-readable name of the training device (GPU model, or CPU model and thread count)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    return f"{cpu} ({torch.get_num_threads()} threads)"


def _final_metrics(trainer: pl.Trainer, history: EpochHistory) -> dict[str, float]:
    """Last epoch's train (running mean over the epoch) and val metrics, then test and train_eval."""
    metrics = {
        k: v
        for k, v in (history.rows[-1] if history.rows else {}).items()
        if k.startswith(("train_", "val_"))
    }
    metrics.update(
        {
            k.replace("/", "_"): float(v)
            for k, v in trainer.callback_metrics.items()
            if k.startswith(("test/", "train_eval/"))
        }
    )
    return metrics


def train(cfg: DictConfig) -> dict[str, Any]:
    """Run one config to its record (returned); skip it if its record already says ``ok`` and ``resume``."""
    config = resolved_config(cfg)
    validate(config)
    key = run_key(config)
    path = record_path(cfg.paths.results, cfg.experiment_name, key)
    if cfg.resume and (done := read_record(path)) is not None and done["status"] == "ok":
        log.info("run %s is already done (%s): skipped", key, path)
        return done

    start = time.perf_counter()
    pl.seed_everything(cfg.seed, verbose=False)
    datamodule = instantiate(cfg.data, seed=cfg.seed, _convert_="all")
    task = Classifier(
        instantiate(cfg.model),
        instantiate(cfg.loss),
        instantiate(cfg.optimizer),
        instantiate(cfg.scheduler.schedule),
        cfg.scheduler.interval,
    )
    timer = UpdateTimer()
    history = EpochHistory(timer)
    callbacks: list[pl.Callback] = [timer, history, DivergenceGuard()]
    if cfg.trainer.enable_progress_bar:
        callbacks.append(RichProgressBar())
    loggers = build_loggers(
        config["logger"],
        cfg.paths.output,
        name=key,
        group=cfg.experiment_name,
        tags=[cfg.profile.name, cfg.data.name],
        config=config,
    )
    trainer: pl.Trainer = instantiate(
        cfg.trainer, callbacks=callbacks, logger=loggers, default_root_dir=cfg.paths.output
    )
    status, error, diverged_at = "ok", None, None
    try:
        trainer.fit(task, datamodule=datamodule)
        trainer.test(task, datamodule=datamodule, verbose=False)
    except Diverged as err:
        status, error, diverged_at = "diverged", str(err), {"epoch": err.epoch, "update": err.step}
    except Exception as err:
        status, error = "failed", f"{type(err).__name__}: {err}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.with_suffix(".traceback.txt").write_text(traceback.format_exc())
        raise
    finally:
        record = {
            "run_key": key,
            "experiment": cfg.experiment_name,
            "status": status,
            "error": error,
            "diverged_at": diverged_at,
            "metrics": _final_metrics(trainer, history),
            "epochs": len(history.rows),
            "updates": trainer.global_step,
            "time_per_update_s": timer.median_update_time(TIMING_SKIP_FIRST),
            "time_per_epoch_s": timer.epoch_times,
            "wall_time_s": time.perf_counter() - start,
            "device": device_name(trainer.strategy.root_device),
            "processes": trainer.world_size,
            "versions": {
                "python": platform.python_version(),
                "torch": torch.__version__,
                "lightning": lightning.__version__,
            },
            "git_commit": git_commit(),
            "output_dir": cfg.paths.output,
            "choices": _group_choices(),
            "config": config,
            "curve": history.rows,
        }
        if trainer.global_rank == 0:
            write_json_atomic(path, record)
            for logger in loggers:
                if isinstance(logger, WandbLogger):
                    logger.experiment.summary.update({"status": status, "run_key": key, **record["metrics"]})
        _finish_wandb()
    log.info("run %s: %s -> %s", key, status, path)
    return record


def _group_choices() -> dict[str, str]:
    """The config-group options the run was composed from (e.g. optimizer: momentum), if Hydra did."""
    if not HydraConfig.initialized():
        return {}
    return {
        k: v
        for k, v in HydraConfig.get().runtime.choices.items()
        if v and not k.startswith("hydra") and "/" not in k
    }


def _finish_wandb() -> None:
    """Close the W&B run (if any), so that the next job of a multirun starts a run of its own."""
    if "wandb" in sys.modules:
        sys.modules["wandb"].finish()


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> None:
    """Train and record one run; a bad config is one line on stderr and exit code 2."""
    try:
        train(cfg)
    except ConfigError as err:
        if HydraConfig.get().mode == RunMode.MULTIRUN:
            raise
        print(f"optfactors: config error: {err}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
