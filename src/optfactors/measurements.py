"""Training callbacks that measure the model with `optfactors.analysis` and put the numbers in the run's
metrics (its record and runs.csv row): the trained solution's sharpness (the large-batch remedies compare
it), the gradient noise scale during training (the critical batch size)."""

from __future__ import annotations

import lightning.pytorch as pl
import torch
from omegaconf import DictConfig

from optfactors.analysis import hessian, sharpness
from optfactors.analysis.noise_scale import measure_noise_scale
from optfactors.data import analysis_batches


class FinalSharpness(pl.Callback):
    """After the test: ε-sharpness (Keskar's Metric 2.1, percent, in a random ``subspace_dim``-D subspace,
    L-BFGS-B with ``max_iter`` steps) and the top Hessian eigenvalue (Lanczos, at most ``lanczos_iter``
    steps) of the training loss on ``samples`` class-balanced training samples (drawn with ``seed``), as
    ``train_eval/epsilon_sharpness`` and ``train_eval/top_eigenvalue`` in the run's metrics.

    Measured as `optfactors.stages.sharp_flat` measures: in eval mode (BatchNorm's running averages), on the
    device the model trained on. ``data`` is the run's data config (which training split to sample).
    """

    def __init__(
        self,
        data: DictConfig,
        samples: int = 1000,
        epsilon: float = 1e-3,
        subspace_dim: int | None = 100,
        max_iter: int = 10,
        lanczos_iter: int = 20,
        tol: float = 1e-3,
        batch_size: int = 1000,
        seed: int = 0,
    ) -> None:
        self.data, self.samples, self.batch_size, self.seed = data, samples, batch_size, seed
        self.epsilon, self.subspace_dim, self.max_iter = epsilon, subspace_dim, max_iter
        self.lanczos_iter, self.tol = lanczos_iter, tol
        self.measured: dict[str, float] = {}

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # After every callback's on_train_end (SWA puts its averaged weights in there), outside the test
        # loop's inference mode.
        model, loss_fn = pl_module.model, pl_module.loss
        batches = analysis_batches(
            self.data, "train", self.samples, self.batch_size, self.seed, pl_module.device
        )
        with torch.enable_grad():
            phi = sharpness.epsilon_sharpness(
                model, loss_fn, batches, self.epsilon, self.subspace_dim, self.max_iter, self.seed
            )
            top = hessian.top_eigenvalues(model, loss_fn, batches, 1, self.lanczos_iter, self.tol, self.seed)
        self.measured = {"epsilon_sharpness": float(phi), "top_eigenvalue": float(top.values[0])}

    def on_test_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for name, value in self.measured.items():
            pl_module.log(f"train_eval/{name}", value, batch_size=1, add_dataloader_idx=False)


class NoiseScaleProbe(pl.Callback):
    """McCandlish et al.'s simple noise scale ``B_simple = tr(Sigma) / |G|^2`` of the training loss, measured
    before the updates numbered ``at_steps`` (0: at initialisation) from ``samples`` class-balanced training
    samples (drawn with ``seed``) as batches of ``small`` and of ``big`` (`measure_noise_scale`, eval mode),
    logged as ``train_eval/b_simple_at_<step>``. Only in runs whose training batch size is in
    ``batch_sizes`` (None: every run); a step the run never reaches is not logged.
    """

    def __init__(
        self,
        data: DictConfig,
        at_steps: list[int],
        small: int = 64,
        big: int = 1024,
        samples: int = 4096,
        seed: int = 0,
        batch_sizes: list[int] | None = None,
    ) -> None:
        self.data, self.at_steps, self.small, self.big = data, set(at_steps), small, big
        self.samples, self.seed = samples, seed
        self.active = batch_sizes is None or data.batch_size in batch_sizes
        self.measured: dict[int, float] = {}

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: object, batch_idx: int
    ) -> None:
        step = trainer.global_step
        if not self.active or step not in self.at_steps or step in self.measured:
            return
        batches = {
            size: analysis_batches(self.data, "train", self.samples, size, self.seed, pl_module.device)
            for size in (self.small, self.big)
        }
        self.measured[step] = measure_noise_scale(
            pl_module.model, pl_module.loss, batches[self.small], batches[self.big]
        ).b_simple

    def on_test_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for step, value in sorted(self.measured.items()):
            pl_module.log(f"train_eval/b_simple_at_{step}", value, batch_size=1, add_dataloader_idx=False)

    def state_dict(self) -> dict[str, dict[int, float]]:
        return {"measured": self.measured}

    def load_state_dict(self, state: dict[str, dict[int, float]]) -> None:
        self.measured = dict(state["measured"])
