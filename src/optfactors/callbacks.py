"""Trainer callbacks: update/epoch timing (and its logging), the divergence guard, the per-epoch history, the
RNG state in checkpoints, the progress bar."""

from __future__ import annotations

import math
import statistics
import time
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import RichProgressBar

from optfactors.device import synchronize


class Diverged(RuntimeError):
    """The training loss became non-finite."""

    def __init__(self, epoch: int, step: int, loss: float) -> None:
        super().__init__(f"training loss is {loss} at epoch {epoch}, update {step}")
        self.epoch, self.step, self.loss = epoch, step, loss


class DivergenceGuard(pl.Callback):
    """Stops training with :class:`Diverged` as soon as the training loss is NaN or infinite.

    The decision is agreed between processes, so under DDP every rank stops at the same update.
    """

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        finite = trainer.strategy.reduce_boolean_decision(bool(torch.isfinite(loss)), all=True)
        if not finite:
            raise Diverged(trainer.current_epoch, trainer.global_step, float(loss))


class UpdateTimer(pl.Callback):
    """Wall time of every update (forward + backward + optimizer step) and of every training epoch.

    Both are measured with the device synchronised. An epoch's time runs from its start to the end of its
    last update, so validation is not included.
    """

    def __init__(self) -> None:
        self.update_times: list[float] = []
        self.epoch_times: list[float] = []
        self._t_update = self._t_epoch = self._t_last = 0.0

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        synchronize(pl_module.device)
        self._t_epoch = self._t_last = time.perf_counter()

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        synchronize(pl_module.device)
        self._t_update = time.perf_counter()

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        synchronize(pl_module.device)
        self._t_last = time.perf_counter()
        self.update_times.append(self._t_last - self._t_update)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.epoch_times.append(self._t_last - self._t_epoch)

    def state_dict(self) -> dict[str, list[float]]:
        return {"update_times": self.update_times, "epoch_times": self.epoch_times}

    def load_state_dict(self, state: dict[str, list[float]]) -> None:
        self.update_times, self.epoch_times = list(state["update_times"]), list(state["epoch_times"])

    def median_update_time(self, skip_first: int) -> float | None:
        """Median time per update without the first ``skip_first`` (warm-up) updates, if there are more."""
        times = self.update_times[skip_first:] if len(self.update_times) > skip_first else self.update_times
        return statistics.median(times) if times else None


class TimingLogger(pl.Callback):
    """Logs the timing of every training epoch to the trainer's loggers (W&B history, CSV).

    Keys: ``time/epoch_s`` (the epoch's wall time), ``time/per_update_s`` (median over the epoch's updates,
    without the run's first ``skip_first`` warm-up updates when the epoch has others), ``time/wall_s`` (since
    the fit started) and ``updates`` (so far). Place it after ``timer`` in the callback list.
    """

    def __init__(self, timer: UpdateTimer, skip_first: int) -> None:
        self.timer, self.skip_first = timer, skip_first
        self._t_fit = 0.0
        self._first_update = 0

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._t_fit = time.perf_counter()

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._first_update = len(self.timer.update_times)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        times = self.timer.update_times[self._first_update :]
        warm = self.timer.update_times[max(self._first_update, self.skip_first) :]
        metrics = {
            "time/epoch_s": self.timer.epoch_times[-1],
            "time/wall_s": time.perf_counter() - self._t_fit,
            "updates": float(trainer.global_step),
        }
        if warm or times:
            metrics["time/per_update_s"] = statistics.median(warm or times)
        for logger in trainer.loggers:
            logger.log_metrics(metrics, step=trainer.global_step)


class EpochHistory(pl.Callback):
    """One row per training epoch: the epoch-level metrics (``train/loss`` as ``train_loss``, ...), the
    learning rate at the epoch's end, and the epoch's time."""

    def __init__(self, timer: UpdateTimer) -> None:
        self.timer = timer
        self.rows: list[dict[str, float]] = []

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        row: dict[str, float] = {"epoch": trainer.current_epoch, "updates": trainer.global_step}
        row.update(
            {
                k.replace("/", "_"): float(v)
                for k, v in trainer.callback_metrics.items()
                if k.startswith(("train/", "val/"))
            }
        )
        row["lr"] = trainer.optimizers[0].param_groups[0]["lr"]
        if self.timer.epoch_times:
            row["epoch_time_s"] = self.timer.epoch_times[-1]
        self.rows.append(row)

    def state_dict(self) -> dict[str, list[dict[str, float]]]:
        return {"rows": self.rows}

    def load_state_dict(self, state: dict[str, list[dict[str, float]]]) -> None:
        self.rows = list(state["rows"])


class RandomState(pl.Callback):
    """Saves the global torch random state (dropout, initialisation) in checkpoints and restores it.

    Lightning checkpoints do not hold it, so without this a resumed run with dropout would draw other
    masks than the uninterrupted one. Data order and augmentation have generators of their own.
    """

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"cpu": torch.get_rng_state()}
        if torch.cuda.is_available():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        torch.set_rng_state(state["cpu"])
        if "cuda" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda"])


class ProgressBar(RichProgressBar):
    """Lightning's Rich progress bar, redrawn at most every ``min_interval`` seconds during training (and at
    each epoch's last batch) instead of after every update: at batch 32 on a CPU its per-update redraw and
    metrics collection cost a fifth of an update. An epoch count reads "Epoch 3", not "Epoch 3/-2", when
    training is bounded by updates or a target rather than by epochs."""

    def __init__(self, min_interval: float = 0.2) -> None:
        super().__init__()
        self.min_interval = min_interval
        self._last_draw = -math.inf  # not 0: perf_counter counts from boot, so 0 is recent on a new machine

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        now = time.perf_counter()
        last = batch_idx + 1 >= self.total_train_batches
        if last or now - self._last_draw >= self.min_interval:
            self._last_draw = now
            super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def _get_train_description(self, current_epoch: int) -> str:
        if self.trainer.max_epochs is not None and self.trainer.max_epochs < 0:
            return f"Epoch {current_epoch}"
        return super()._get_train_description(current_epoch)
