"""The one LightningModule: classification with injected model, loss, optimizer and schedule."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import lightning.pytorch as pl
import torch
from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler
from torchmetrics import MeanMetric

OptimizerFactory = Callable[[Iterable[nn.Parameter]], Optimizer]
ScheduleFactory = Callable[..., LRScheduler]

#: Splits with epoch-level loss and accuracy; train_eval is the training set evaluated after training.
SPLITS = ("train", "val", "test", "train_eval")
BN_EVAL_MODES = ("running", "batch")


def use_batch_statistics(model: nn.Module) -> None:
    """Let the model's BatchNorm layers normalise with each batch's statistics without updating the running
    averages (train mode with momentum 0), the rest of the model staying as it is (e.g. dropout off)."""
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.train()
            module.momentum = 0.0


def restore_momentum(model: nn.Module, momenta: dict[str, float | None]) -> None:
    """Put back the BatchNorm momenta recorded before :func:`use_batch_statistics`."""
    for name, module in model.named_modules():
        if name in momenta:
            module.momentum = momenta[name]


class Classifier(pl.LightningModule):
    """Trains ``model`` on ``loss`` with ``optimizer(params)`` and ``schedule(optimizer, total_steps=...)``.

    Logs per epoch ``<split>/loss`` and ``<split>/acc`` (sample-weighted means, reduced across processes);
    per update, at the Trainer's ``log_every_n_steps``, ``step/loss`` (reduced across processes), ``step/lr``
    and ``step/grad_norm`` (of the averaged gradient, identical on every process).
    Test dataloader 0 is the test set, dataloader 1 (if any) the training set in eval mode.

    ``bn_eval`` says which statistics BatchNorm uses when evaluating: ``running`` (PyTorch's eval mode, the
    running averages from training) or ``batch`` (each evaluation batch's own statistics, as in Keskar et
    al.'s released Keras code); the running averages are left unchanged either way, and dropout is off.
    With ``track_grad_norm`` the gradient norm of every update (before clipping) is also averaged over each
    epoch as ``train/grad_norm``.
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
    ) -> None:
        super().__init__()
        if bn_eval not in BN_EVAL_MODES:
            raise ValueError(f"bn_eval must be one of {BN_EVAL_MODES}, got {bn_eval!r}")
        self.model, self.loss = model, loss
        self.optimizer_factory, self.schedule_factory = optimizer, schedule
        self.schedule_interval, self.bn_eval = schedule_interval, bn_eval
        # nan_strategy="disable": a diverged loss must show as NaN, not be silently dropped.
        self.means = nn.ModuleDict(
            {f"{split}_{m}": MeanMetric(nan_strategy="disable") for split in SPLITS for m in ("loss", "acc")}
        )
        self.grad_norm = MeanMetric(nan_strategy="disable") if track_grad_norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def _loss_and_log(self, batch: tuple[torch.Tensor, torch.Tensor], split: str) -> torch.Tensor:
        x, y = batch
        logits = self.model(x)
        loss = self.loss(logits, y)
        n = len(y)
        correct = (logits.detach().argmax(dim=1) == y).float().mean()
        for name, value in (("loss", loss.detach()), ("acc", correct)):
            metric = self.means[f"{split}_{name}"]
            metric.update(value, weight=n)
            self.log(
                f"{split}/{name}",
                metric,
                on_step=False,
                on_epoch=True,
                batch_size=n,
                add_dataloader_idx=False,
            )
        return loss

    def _should_log_step(self) -> bool:
        # The Trainer's own throttle (log_every_n_steps), as Lightning's LearningRateMonitor uses it.
        return self.trainer._logger_connector.should_update_logs

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self._loss_and_log(batch, "train")
        if self._should_log_step():
            self.log("step/loss", loss.detach(), on_step=True, on_epoch=False, sync_dist=True)
            self.log(
                "step/lr", self.trainer.optimizers[0].param_groups[0]["lr"], on_step=True, on_epoch=False
            )
        return loss

    def on_before_optimizer_step(self, optimizer: Optimizer) -> None:
        log_step = self._should_log_step()
        if log_step or self.grad_norm is not None:
            norm = torch.nn.utils.get_total_norm([p.grad for p in self.parameters() if p.grad is not None])
        if log_step:
            self.log("step/grad_norm", norm, on_step=True, on_epoch=False)
        if self.grad_norm is not None:  # every update, before any clipping, averaged over the epoch
            self.grad_norm.update(norm)
            self.log("train/grad_norm", self.grad_norm, on_step=False, on_epoch=True)

    def _eval_mode(self) -> None:
        self.trainer.model.eval()
        if self.bn_eval == "batch":
            self._momenta = {
                n: m.momentum
                for n, m in self.model.named_modules()
                if isinstance(m, nn.modules.batchnorm._BatchNorm)
            }
            use_batch_statistics(self.model)

    def _train_mode(self) -> None:
        if self.bn_eval == "batch":
            restore_momentum(self.model, self._momenta)
        self.trainer.model.train()

    def on_validation_model_eval(self) -> None:
        self._eval_mode()

    def on_validation_model_train(self) -> None:
        self._train_mode()

    def on_test_model_eval(self) -> None:
        self._eval_mode()

    def on_test_model_train(self) -> None:
        self._train_mode()

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._loss_and_log(batch, "val")

    def test_step(
        self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        self._loss_and_log(batch, ("test", "train_eval")[dataloader_idx])

    def configure_optimizers(self) -> dict:
        optimizer = self.optimizer_factory(self.parameters())
        if self.schedule_factory is None:
            return {"optimizer": optimizer}
        steps = (
            self.trainer.estimated_stepping_batches
            if self.schedule_interval == "step"
            else self.trainer.max_epochs
        )
        schedule = self.schedule_factory(optimizer, total_steps=int(steps))
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": schedule, "interval": self.schedule_interval},
        }
