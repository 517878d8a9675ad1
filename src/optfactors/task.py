"""The one LightningModule: classification with injected model, loss, optimizer and schedule."""

from __future__ import annotations

import inspect
import math

import lightning.pytorch as pl
import torch
from torch import nn
from torch.optim import Optimizer

from optfactors.lightning_private import epoch_ends_after_this_batch, logs_this_update
from optfactors.optim import OptimizerFactory, ScheduleFactory

BN_EVAL_MODES = ("running", "batch")

#: Attribute values that are never parameters, submodules or buffers (see `Classifier.__setattr__`).
_PLAIN = frozenset({str, int, float, bool, type(None)})


def freeze_running_statistics(model: nn.Module) -> dict[str, float | None]:
    """Set the momentum of every BatchNorm layer of ``model`` to 0, so that a forward pass in train mode
    leaves its running averages unchanged; return the momenta it had (for :func:`restore_momentum`)."""
    momenta = {}
    for name, module in model.named_modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            momenta[name], module.momentum = module.momentum, 0.0
    return momenta


def use_batch_statistics(model: nn.Module) -> dict[str, float | None]:
    """Let the model's BatchNorm layers normalise with each batch's statistics without updating the running
    averages (train mode, momentum 0), the rest of the model staying as it is (e.g. dropout off); return the
    momenta they had."""
    momenta = freeze_running_statistics(model)
    for name, module in model.named_modules():
        if name in momenta:
            module.train()
    return momenta


def restore_momentum(model: nn.Module, momenta: dict[str, float | None]) -> None:
    """Put back the BatchNorm momenta recorded before :func:`freeze_running_statistics`."""
    for name, module in model.named_modules():
        if name in momenta:
            module.momentum = momenta[name]


class Classifier(pl.LightningModule):
    """Trains ``model`` on ``loss`` with ``optimizer(params)`` and ``schedule(optimizer)``: any
    ``torch.optim.lr_scheduler`` class (or a function returning one); a schedule with a ``total_steps``
    parameter (optfactors.schedules, OneCycleLR) gets the number of times it will be stepped, unless the run
    has no length (only early stopping ends it).

    Logs per epoch ``<split>/loss`` and ``<split>/acc`` (sample-weighted means, reduced across processes);
    per update, at the Trainer's ``log_every_n_steps``, ``step/loss`` (reduced across processes), ``step/lr``
    and ``step/grad_norm`` (of the averaged gradient, identical on every process).
    Test dataloader 0 is the test set, dataloader 1 (if any) the training set in eval mode.

    ``bn_eval`` says which statistics BatchNorm uses when evaluating: ``running`` (PyTorch's eval mode, the
    running averages from training) or ``batch`` (each evaluation batch's own statistics, as in Keskar et
    al.'s released Keras code); the running averages are left unchanged either way, and dropout is off.
    With ``track_grad_norm`` the gradient norm of every update (before clipping) is also averaged over each
    epoch as ``train/grad_norm``. With ``channels_last`` the model's weights and every image batch use the
    channels-last memory layout (faster convolutions on recent GPUs; same results).
    """

    def __init__(
        self,
        model: nn.Module,
        loss: nn.Module,
        optimizer: OptimizerFactory,
        schedule: ScheduleFactory | None = None,
        schedule_interval: str = "step",
        bn_eval: str = "running",
        track_grad_norm: bool = False,
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        if bn_eval not in BN_EVAL_MODES:
            raise ValueError(f"bn_eval must be one of {BN_EVAL_MODES}, got {bn_eval!r}")
        self.channels_last = channels_last
        self.model = model.to(memory_format=torch.channels_last) if channels_last else model
        self.loss = loss
        self.optimizer_factory, self.schedule_factory = optimizer, schedule
        self.schedule_interval, self.bn_eval = schedule_interval, bn_eval
        self.track_grad_norm = track_grad_norm
        # Per split, this epoch's sums of (loss x n, correct, n), and of (grad norm, updates): plain tensors
        # added to on the device every step and logged once per epoch (a self.log per step costs more than
        # the update itself for small batches). A diverged loss makes the sum NaN, so it shows as NaN.
        self._sums: dict[str, torch.Tensor] = {}

    def __setattr__(self, name: str, value: object) -> None:
        # Lightning sets a plain attribute (``_current_fx_name``) on the module around every hook it calls,
        # ~40 times per update; nn.Module.__setattr__'s Parameter/Module/buffer checks made that a tenth of
        # a batch-32 MLP update on a CPU. Plain values that name no parameter, submodule or buffer take
        # object.__setattr__, which is what nn.Module.__setattr__ ends with for them anyway.
        state = self.__dict__
        if (
            type(value) in _PLAIN
            and "_buffers" in state
            and name not in state["_parameters"]
            and name not in state["_modules"]
            and name not in state["_buffers"]
        ):
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def transfer_batch_to_device(self, batch: object, device: torch.device, dataloader_idx: int) -> object:
        """The batch as it is when its tensors are already on ``device`` (the project's loaders put the data
        there once), else Lightning's transfer: this skips its walk over the batch on every update."""
        if isinstance(batch, (tuple, list)) and all(
            isinstance(t, torch.Tensor) and t.device == device for t in batch
        ):
            return batch
        return super().transfer_batch_to_device(batch, device, dataloader_idx)

    def _accumulate(self, key: str, values: list[torch.Tensor | float]) -> None:
        update = torch.stack([torch.as_tensor(v, dtype=torch.float32, device=self.device) for v in values])
        self._sums[key] = self._sums[key] + update if key in self._sums else update

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last and x.ndim == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.model(x)

    def _loss_and_accumulate(self, batch: tuple[torch.Tensor, torch.Tensor], split: str) -> torch.Tensor:
        x, y = batch
        logits = self._logits(x)
        loss = self.loss(logits, y)
        n = len(y)
        correct = (logits.detach().argmax(dim=1) == y).sum()
        self._accumulate(split, [loss.detach() * n, correct, n])
        return loss

    def _log_epoch(self, split: str) -> None:
        """Log ``split``'s epoch means from the sums of every process, then forget them. Every process takes
        part in the one reduction even with nothing to add (a process can get no evaluation batch)."""
        size = 2 if split == "grad_norm" else 3
        local = self._sums.pop(split, torch.zeros(size, device=self.device))
        sums = self.trainer.strategy.reduce(local, reduce_op="sum")
        if split == "grad_norm":
            values = {"train/grad_norm": sums[0] / sums[1]} if sums[1] > 0 else {}
        else:
            values = (
                {f"{split}/loss": sums[0] / sums[2], f"{split}/acc": sums[1] / sums[2]} if sums[2] > 0 else {}
            )
        for name, value in values.items():
            self.log(name, value, on_step=False, on_epoch=True, batch_size=1, add_dataloader_idx=False)

    def _perturbed_loss(self, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """The loss of an optimizer's second pass over the batch (SAM's, at perturbed weights): only its
        gradient is used; no metrics, and BatchNorm's running statistics stay as the first pass left them."""
        momenta = freeze_running_statistics(self.model)
        try:
            x, y = batch
            return self.loss(self._logits(x), y)
        finally:
            restore_momentum(self.model, momenta)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        if getattr(self.trainer.optimizers[0], "perturbed", False):
            return self._perturbed_loss(batch)
        loss = self._loss_and_accumulate(batch, "train")
        if logs_this_update(self.trainer):  # the Trainer's own log_every_n_steps throttle
            self.log("step/loss", loss.detach(), on_step=True, on_epoch=False, sync_dist=True)
            self.log(
                "step/lr", self.trainer.optimizers[0].param_groups[0]["lr"], on_step=True, on_epoch=False
            )
        return loss

    def on_before_optimizer_step(self, optimizer: Optimizer) -> None:
        log_step = logs_this_update(self.trainer)
        if log_step or self.track_grad_norm:
            norm = torch.nn.utils.get_total_norm([p.grad for p in self.parameters() if p.grad is not None])
        if log_step:
            self.log("step/grad_norm", norm, on_step=True, on_epoch=False)
        if self.track_grad_norm:  # every update, before any clipping, averaged over the epoch
            self._accumulate("grad_norm", [norm, 1])

    def on_train_batch_end(self, outputs: object, batch: object, batch_idx: int) -> None:
        # Lightning runs the callbacks' on_train_epoch_end (EpochHistory) before the module's, so the
        # training metrics are logged after the epoch's last batch, whatever ends the epoch (its last batch,
        # max_steps, a stop request), where they are reduced in time.
        if epoch_ends_after_this_batch(self.trainer):
            self._log_epoch("train")
            if self.track_grad_norm:
                self._log_epoch("grad_norm")

    def _eval_mode(self) -> None:
        self.trainer.model.eval()
        if self.bn_eval == "batch":
            self._momenta = use_batch_statistics(self.model)

    def _train_mode(self) -> None:
        if self.bn_eval == "batch":
            restore_momentum(self.model, self._momenta)
        self.trainer.model.train()

    def on_train_epoch_start(self) -> None:
        self._sums.pop("train", None)
        self._sums.pop("grad_norm", None)

    def on_validation_epoch_start(self) -> None:
        self._sums.pop("val", None)

    def on_validation_epoch_end(self) -> None:
        self._log_epoch("val")

    def on_test_epoch_start(self) -> None:
        self._sums.pop("test", None)
        self._sums.pop("train_eval", None)

    def on_test_epoch_end(self) -> None:
        self._log_epoch("test")
        self._log_epoch("train_eval")

    def on_validation_model_eval(self) -> None:
        self._eval_mode()

    def on_validation_model_train(self) -> None:
        self._train_mode()

    def on_test_model_eval(self) -> None:
        self._eval_mode()

    def on_test_model_train(self) -> None:
        self._train_mode()

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._loss_and_accumulate(batch, "val")

    def test_step(
        self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        self._loss_and_accumulate(batch, ("test", "train_eval")[dataloader_idx])

    def configure_optimizers(self) -> dict:
        optimizer = self.optimizer_factory(self.parameters())
        if self.schedule_factory is None:
            return {"optimizer": optimizer}
        options = {}
        if "total_steps" in inspect.signature(self.schedule_factory).parameters:
            steps = (
                self.trainer.estimated_stepping_batches
                if self.schedule_interval == "step"
                else self.trainer.max_epochs
            )
            if math.isfinite(steps):  # infinite when only early stopping ends the run
                options["total_steps"] = int(steps)
        schedule = self.schedule_factory(optimizer, **options)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": schedule, "interval": self.schedule_interval},
        }
