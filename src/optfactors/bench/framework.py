"""Framework overhead: a training run as the CLI makes it (Lightning, callbacks, loggers, progress bar,
checkpoint) against a plain PyTorch loop over the same in-memory MNIST tensors (``mlp``, SGD)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from hydra.utils import instantiate

from optfactors.bench.core import Measurement, compared, project_config
from optfactors.data import BatchLoader, load_arrays, to_image_tensor
from optfactors.device import default_device, synchronize

#: CLI run epoch / plain epoch, by batch size (the issue tracker's targets).
TARGETS = {1: "<= 1.5", 32: "<= 1.25", 128: "<= 1.1", 1024: "<= 1.1"}


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


def cli_epochs(root: str, n: int, batch_size: int, epochs: int, lr: float) -> list[float]:
    """Epoch times of ``optfactors model=mlp ...`` run as a user runs it: a child process of the CLI with the
    default loggers (W&B offline, CSV), progress bar and per-epoch checkpoint, no validation; the times are
    the run record's (each epoch from its start to the end of its last update)."""
    with tempfile.TemporaryDirectory() as folder:
        args = [
            "model=mlp",
            "optimizer=sgd",
            f"optimizer.lr={lr}",
            f"data.batch_size={batch_size}",
            f"data.subset={n}",
            "data.val_size=0",
            "data.eval_train=false",
            f"trainer.max_epochs={epochs}",
            f"data.root={root}",
            f"paths.results={folder}",
            f"hydra.run.dir={folder}/run",
        ]
        env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true"}
        subprocess.run([sys.executable, "-m", "optfactors", *args], check=True, capture_output=True, env=env)
        (record,) = Path(folder).glob("*/runs/*.json")
        return json.loads(record.read_text())["time_per_epoch_s"]


#: Images per epoch by batch size: all of MNIST, but 5,000 at batch 1 (5,000 updates an epoch).
IMAGES = {1: 5_000, 32: 60_000, 128: 60_000, 1024: 60_000}


def run(root: str, tiny: bool, repeats: int) -> list[Measurement]:
    """Median epoch time of both, the first epoch left out as warm-up, at batch 1, 32, 128 and 1,024 (only
    128, on 1,024 images, if ``tiny``); ratio CLI run / plain loop against the targets."""
    rows = []
    for batch_size, target in ({128: TARGETS[128]} if tiny else TARGETS).items():
        n = 1024 if tiny else IMAGES[batch_size]
        epochs = 2 if tiny else 3
        loader = mnist_loader(root, n, batch_size)
        torch.manual_seed(0)
        model = instantiate(project_config("model=mlp").model)
        plain = statistics.median(plain_epochs(model, loader, epochs, 0.01)[1:])
        user = statistics.median(cli_epochs(root, n, batch_size, epochs, 0.01)[1:])
        rows.append(Measurement(f"overhead: plain PyTorch epoch ({n} images)", batch_size, plain, "s"))
        rows.append(
            compared(f"overhead: optfactors CLI run epoch ({n} images)", batch_size, user, plain, "s", target)
        )
    return rows
