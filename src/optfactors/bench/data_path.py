"""Data path: the project's in-memory loader against the pipeline of the PyTorch MNIST example
(``torchvision.datasets.MNIST`` with ``ToTensor`` + ``Normalize`` and ``DataLoader(shuffle=True)``), same
model (MNIST ``mlp``) and the same plain training loop; the raw IDX files are written from ``mnist.npz``."""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import numpy as np
import torch
from hydra.utils import instantiate
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

from optfactors.bench.core import Measurement, meets, project_config
from optfactors.bench.framework import mnist_loader, plain_epochs
from optfactors.data import load_arrays

#: torchvision pipeline epoch / project epoch, by batch size (the issue tracker's targets).
TARGETS = {1: ">= 1", 32: ">= 1", 128: ">= 3", 1024: ">= 3"}
IDX_FILES = {
    "train-images-idx3-ubyte": "x_train",
    "train-labels-idx1-ubyte": "y_train",
    "t10k-images-idx3-ubyte": "x_test",
    "t10k-labels-idx1-ubyte": "y_test",
}


def write_idx(path: Path, array: np.ndarray) -> None:
    """``array`` (uint8) as an IDX file: magic (0, 0, 8, ndim), big-endian int32 sizes, the data."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">i4").tobytes()
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def torchvision_mnist(root: str, folder: Path) -> datasets.MNIST:
    """torchvision's MNIST training set from IDX files written into ``folder`` from ``<root>/mnist.npz``."""
    raw = folder / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    arrays = load_arrays("mnist", root)
    for name, key in IDX_FILES.items():
        write_idx(raw / name, arrays[key])
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    return datasets.MNIST(str(folder), train=True, download=False, transform=transform)


def run(root: str, tiny: bool, repeats: int) -> list[Measurement]:
    """Median epoch of both pipelines on the first 20,000 images (5,000 at batch 1; tiny: max(64, batch))."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        dataset = torchvision_mnist(root, Path(folder))
        for batch_size, target in TARGETS.items():
            n = max(64, batch_size) if tiny else (5000 if batch_size == 1 else 20_000)
            torch.manual_seed(0)
            model = instantiate(project_config("model=mlp").model)
            reference = DataLoader(Subset(dataset, range(n)), batch_size=batch_size, shuffle=True)
            ours = mnist_loader(root, n, batch_size)
            plain_epochs(model, reference, 1, 0.01), plain_epochs(model, ours, 1, 0.01)  # warm-up
            times: dict[str, list[float]] = {"torchvision": [], "project": []}
            for _ in range(repeats):  # interleaved, one epoch each
                times["torchvision"] += plain_epochs(model, reference, 1, 0.01)
                times["project"] += plain_epochs(model, ours, 1, 0.01)
            theirs, mine = statistics.median(times["torchvision"]), statistics.median(times["project"])
            speedup = theirs / mine
            rows.append(
                Measurement(f"data path: torchvision pipeline epoch ({n} images)", batch_size, theirs, "s")
            )
            rows.append(
                Measurement(
                    f"data path: project loader epoch ({n} images); ratio = speed-up",
                    batch_size,
                    mine,
                    "s",
                    speedup,
                    target,
                    meets(speedup, target),
                )
            )
    return rows
