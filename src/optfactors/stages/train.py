"""The Hydra entry point (``optfactors`` runs it): compose -> the run's stage -> record; and the training
stage, `train` (validate -> train -> test)."""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path
from typing import Any

import hydra
import lightning.pytorch as pl
from hydra.core.hydra_config import HydraConfig
from hydra.utils import get_object, instantiate
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.callbacks.early_stopping import EarlyStoppingReason
from omegaconf import DictConfig

from optfactors import CONF_DIR
from optfactors.callbacks import (
    DivergenceGuard,
    EpochHistory,
    ProgressBar,
    RandomState,
    TimingLogger,
    UpdateTimer,
)
from optfactors.data import DataError, load_arrays
from optfactors.run.checkpoint_io import AtomicCheckpointIO, remove_checkpoints, resumable_checkpoint
from optfactors.run.config import ConfigError, check_choices, validate
from optfactors.run.faults import is_resource_error, one_line_faults
from optfactors.run.launch import check_launch, is_multirun, share_job_resources
from optfactors.run.lifecycle import Run, Stage
from optfactors.run.provenance import DirtyTreeError, check_results_dir
from optfactors.run.record import (
    FINAL_STATUSES,
    checkpoint_dir,
    resolved_config,
    without_defaults,
    write_json_atomic,
)
from optfactors.run.sweep import OUTCOME_FILE
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


def stage_of(cfg: DictConfig) -> Stage:
    """`train`, or the analysis stage ``cfg.stage`` names if there is one."""
    if "stage" not in cfg:
        return train
    try:
        stage = get_object(cfg.stage)
    except Exception as err:
        raise ConfigError(
            "stage", cfg.stage, f"an importable optfactors.run.lifecycle.Stage ({err})"
        ) from err
    if not isinstance(stage, Stage):
        raise ConfigError("stage", cfg.stage, "an optfactors.run.lifecycle.Stage")
    return stage


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
@one_line_faults
def main(cfg: DictConfig) -> None:
    """Run and record one run: training, or the analysis stage ``cfg.stage`` names.

    A single run with a bad config or data file prints one line and exits with code 2; a failing run
    raises. In a multirun neither stops the sweep: the job's outcome is written to its folder and the
    sweep monitor (optfactors.run.sweep) sums them up at the end and sets the exit code. A full disk, a
    refused write or a SIGTERM prints one line and exits (1, 143), in a sweep too (`one_line_faults`).
    """
    outcome: dict[str, Any]
    try:
        check_results_dir(cfg.paths.results)
    except DirtyTreeError as err:  # the same for every job of a sweep: stop it at the first
        print(f"optfactors: {err}", file=sys.stderr)
        sys.exit(2)
    try:
        check_choices(HydraConfig.get().runtime.choices, CONF_DIR)
        stage = stage_of(cfg)
        record = stage(cfg)
        outcome = {
            "run_key": record["run_key"],
            "status": "skipped" if record.get("skipped") else record["status"],
            "error": record["error"],
            "wall_time_s": record["wall_time_s"],
        }
    except (ConfigError, DataError) as err:
        kind = "config" if isinstance(err, ConfigError) else "data"
        if not is_multirun():
            print(f"optfactors: {kind} error: {err}", file=sys.stderr)
            sys.exit(2)
        log.error("invalid run: %s error: %s", kind, err)
        outcome = {"run_key": None, "status": "invalid", "error": f"{kind} error: {err}"}
    except Exception as err:
        if not is_multirun() or is_resource_error(err):
            raise
        log.exception("run failed")
        outcome = {
            "run_key": stage.key(cfg),
            "status": "failed",
            "error": f"{type(err).__name__}: {err}",
        }
    write_json_atomic(Path(cfg.paths.output) / OUTCOME_FILE, outcome)


if __name__ == "__main__":
    main()
