"""Framework overhead: the project's Lightning task against a plain PyTorch loop, same model, same in-memory
batches, same updates (MNIST ``mlp``, SGD)."""

from __future__ import annotations

import statistics
import time

import lightning.pytorch as pl
import torch
from hydra.utils import instantiate

from optfactors.bench.core import Measurement, compared, project_config
from optfactors.callbacks import DivergenceGuard, EpochHistory, RandomState, UpdateTimer
from optfactors.data import BatchLoader, load_arrays, to_image_tensor
from optfactors.runtime import default_device, synchronize
from optfactors.stages.train import _build_task

#: Lightning epoch / plain epoch, by batch size (the issue tracker's targets).
TARGETS = {32: "<= 1.25", 128: "<= 1.1", 1024: "<= 1.1"}


def mnist_loader(root: str, n: int, batch_size: int, seed: int = 0) -> BatchLoader:
    """The first ``n`` MNIST training images as the project's shuffling in-memory loader."""
    arrays = load_arrays("mnist", root)
    x, y = to_image_tensor(arrays["x_train"][:n]), torch.from_numpy(arrays["y_train"][:n]).long()
    return BatchLoader(x, y, batch_size, [0.1307], [0.3081], shuffle=True, seed=seed)


def plain_epochs(model: torch.nn.Module, loader: BatchLoader, epochs: int, lr: float) -> list[float]:
    """Wall time of each of ``epochs`` epochs of the textbook loop (zero_grad, forward, backward, step)."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    times = []
    for _ in range(epochs):
        synchronize(default_device())
        start = time.perf_counter()
        for x, y in loader:
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x), y).backward()
            optimizer.step()
        synchronize(default_device())
        times.append(time.perf_counter() - start)
    return times


def lightning_epochs(root: str, loader: BatchLoader, epochs: int, lr: float) -> list[float]:
    """Epoch times of the project's task and training callbacks (no logger, checkpoint or progress bar: their
    I/O is the same for any framework) over ``epochs`` epochs of one ``fit``."""
    cfg = project_config("model=mlp", "optimizer=sgd", f"optimizer.lr={lr}", f"data.root={root}")
    task = _build_task(cfg)
    timer = UpdateTimer()
    trainer = pl.Trainer(
        accelerator="cpu",  # the plain loop runs on the CPU too
        devices=1,
        max_epochs=epochs,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        callbacks=[timer, EpochHistory(timer), RandomState(), DivergenceGuard()],
    )
    trainer.fit(task, train_dataloaders=loader)
    return timer.epoch_times


def run(root: str, tiny: bool, repeats: int) -> list[Measurement]:
    """Median epoch time of both at batch 32, 128 and 1,024 over 20,000 images (1,024 if ``tiny``), the
    first epoch of each left out as warm-up; ratio Lightning / plain against the targets."""
    n = 1024 if tiny else 20_000
    rows = []
    for batch_size, target in TARGETS.items():
        loader = mnist_loader(root, n, batch_size)
        torch.manual_seed(0)
        model = instantiate(project_config("model=mlp").model)
        plain = statistics.median(plain_epochs(model, loader, repeats + 1, 0.01)[1:])
        light = statistics.median(lightning_epochs(root, loader, repeats + 1, 0.01)[1:])
        rows.append(Measurement(f"overhead: plain PyTorch epoch ({n} images)", batch_size, plain, "s"))
        rows.append(
            compared(f"overhead: Lightning task epoch ({n} images)", batch_size, light, plain, "s", target)
        )
    return rows
