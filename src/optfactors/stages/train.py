"""The training stage, `train`: validate -> train -> test, one run to its record."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
from hydra.utils import instantiate
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.callbacks.early_stopping import EarlyStoppingReason
from omegaconf import DictConfig

from optfactors.callbacks import (
    DivergenceGuard,
    EpochHistory,
    ProgressBar,
    RandomState,
    TimingLogger,
    UpdateTimer,
)
from optfactors.data import load_arrays
from optfactors.run.checkpoint_io import AtomicCheckpointIO, remove_checkpoints, resumable_checkpoint
from optfactors.run.config import validate
from optfactors.run.launch import check_launch, share_job_resources
from optfactors.run.lifecycle import Run, Stage
from optfactors.run.record import (
    FINAL_STATUSES,
    checkpoint_dir,
    resolved_config,
    without_defaults,
)
from optfactors.task import Classifier

log = logging.getLogger("optfactors")

#: Updates at the start of a run left out of the median time per update (allocator and cache warm-up).
TIMING_SKIP_FIRST = 5

# Lightning 2.6 calls a torch.utils._pytree API that torch 2.14 deprecates; the warning says nothing to users.
warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")


def _final_metrics(trainer: pl.Trainer, history: EpochHistory) -> dict[str, float]:
    """Last epoch's train (running mean over the epoch) and val metrics, then test and train_eval."""
    last = history.rows[-1] if history.rows else {}
    metrics = {k: v for k, v in last.items() if k.startswith(("train_", "val_"))}
    metrics.update(
        {
            k.replace("/", "_"): float(v)
            for k, v in trainer.callback_metrics.items()
            if k.startswith(("test/", "train_eval/"))
        }
    )
    return metrics


def _callbacks(
    cfg: DictConfig, ckpt_dir: Path, timer: UpdateTimer, history: EpochHistory
) -> list[pl.Callback]:
    """Timing (and its logging), history, RNG state, divergence guard; per-epoch checkpoint, early stopping,
    the config's ``callbacks``, progress bar."""
    callbacks: list[pl.Callback] = [
        timer,
        TimingLogger(timer, TIMING_SKIP_FIRST),
        history,
        RandomState(),
        DivergenceGuard(),
    ]
    if cfg.checkpoint.every_n_epochs:
        callbacks.append(
            ModelCheckpoint(  # top-1 without a monitor = the latest, overwritten in place as last.ckpt
                dirpath=ckpt_dir,
                filename="last",
                save_top_k=1,
                every_n_epochs=cfg.checkpoint.every_n_epochs,
                save_on_train_epoch_end=True,
                enable_version_counter=False,
            )
        )
    if cfg.early_stopping:
        stop = cfg.early_stopping
        mode = "max" if stop.monitor.endswith("acc") else "min"
        callbacks.append(
            EarlyStopping(
                stop.monitor,
                stop.min_delta,
                stop.patience,
                mode=mode,
                stopping_threshold=stop.get("target"),
                # a validation metric is checked after every validation (val_check_interval may be updates)
                check_on_train_epoch_end=not stop.monitor.startswith("val/"),
            )
        )
    # An experiment's own callbacks (e.g. SWA, the final sharpness), instantiated from `callbacks.<name>`.
    callbacks += [instantiate(spec) for spec in (cfg.get("callbacks") or {}).values()]
    if cfg.trainer.enable_progress_bar:
        callbacks.append(ProgressBar())
    return callbacks


def stop_reason(trainer: pl.Trainer | None) -> str | None:
    """Why training ended: ``target`` (early stopping's threshold reached), ``plateau`` (its patience ran
    out), ``cap`` (trainer.max_epochs / max_steps) or None (not finished)."""
    if trainer is None or trainer.state.status.value != "finished":
        return None
    stop = trainer.early_stopping_callback
    reason = stop.stopping_reason if stop is not None else EarlyStoppingReason.NOT_STOPPED
    return {
        EarlyStoppingReason.STOPPING_THRESHOLD: "target",
        EarlyStoppingReason.PATIENCE_EXHAUSTED: "plateau",
    }.get(reason, "cap")


def _build_task(cfg: DictConfig) -> Classifier:
    """The LightningModule with model, loss, optimizer and schedule instantiated from the config; with
    ``compile=true`` the model is compiled in place (``nn.Module.compile``: same parameters, same
    checkpoint keys)."""
    model = instantiate(cfg.model)
    if cfg.compile:
        model.compile()
    return Classifier(
        model,
        instantiate(cfg.loss),
        instantiate(cfg.optimizer),
        instantiate(cfg.scheduler.schedule),
        cfg.scheduler.interval,
        cfg.bn_eval,
        cfg.track_grad_norm,
        cfg.channels_last,
    )


def settings(cfg: DictConfig) -> dict[str, Any]:
    """What defines a training run: the whole resolved config but its switches at their default (the run key
    also leaves out its volatile keys), validated, and refused if it asks for DDP inside a local sweep."""
    config = resolved_config(cfg)
    validate(config)
    check_launch(cfg)
    return without_defaults(config)


def fit(run: Run) -> None:
    """Train and test ``run.cfg``'s model, filling in the run's metrics, curve, timing and device.

    A run that was killed or failed continues from its last checkpoint (with ``resume``). The data file is
    checked first: a missing or corrupt one is a DataError before anything starts.
    """
    cfg = run.cfg
    load_arrays(cfg.data.name, cfg.data.root)
    share_job_resources(cfg)
    timer = UpdateTimer()
    history = EpochHistory(timer)
    ckpt_dir = checkpoint_dir(cfg.paths.results, cfg.experiment_name, run.key)
    resume_from = resumable_checkpoint(ckpt_dir) if cfg.resume else None
    trainer: pl.Trainer | None = None
    try:
        pl.seed_everything(cfg.seed, verbose=False)
        datamodule = instantiate(cfg.data, seed=cfg.seed, _convert_="all")
        task = _build_task(cfg)
        trainer = instantiate(
            cfg.trainer,
            callbacks=_callbacks(cfg, ckpt_dir, timer, history),
            logger=run.loggers,
            default_root_dir=cfg.paths.output,
            enable_checkpointing=bool(cfg.checkpoint.every_n_epochs),
            plugins=[AtomicCheckpointIO()],
        )
        if resume_from:
            log.info("run %s continues from its checkpoint %s", run.key, resume_from)
        trainer.fit(task, datamodule=datamodule, ckpt_path=resume_from)
        trainer.test(task, datamodule=datamodule, verbose=False)
    finally:
        run.metrics = _final_metrics(trainer, history) if trainer else {}
        run.curve = history.rows
        run.fields = {
            "epochs": len(history.rows),
            "stop_reason": stop_reason(trainer),
            "updates": trainer.global_step if trainer else 0,
            "time_per_update_s": timer.median_update_time(TIMING_SKIP_FIRST),
            "time_per_epoch_s": timer.epoch_times,
            "resumed_from": resume_from,
        }
        if trainer is not None:
            run.device, run.rank = trainer.strategy.root_device, trainer.global_rank
            run.processes = trainer.world_size


def drop_checkpoint(run: Run, record: dict[str, Any]) -> None:
    """Delete a finished run's checkpoint unless ``checkpoint.keep`` (a later analysis reads it)."""
    cfg = run.cfg
    if record["status"] in FINAL_STATUSES and not cfg.checkpoint.keep:
        remove_checkpoints(checkpoint_dir(cfg.paths.results, cfg.experiment_name, run.key))


#: Training: `train(cfg)` runs one config to its record (`optfactors.run.lifecycle.execute`).
train = Stage(fit, settings, tag=lambda cfg: cfg.data.name, finish=drop_checkpoint)
