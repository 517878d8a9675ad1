"""Datasets as in-memory tensors: npz loading (with a torchvision fallback) and a batch loader that slices.

The whole split lives on the training device as uint8; a batch is an index slice of a per-epoch
permutation, normalised (and optionally augmented) as one tensor. No per-sample Python, no workers:
batch size 1 and batch size 60,000 both run at the speed of the model.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch
from omegaconf import DictConfig

log = logging.getLogger(__name__)

#: Expected arrays of each npz file: name -> (shape of one image, train size, test size).
DATASETS: dict[str, tuple[tuple[int, ...], int, int]] = {
    "mnist": ((28, 28), 60_000, 10_000),
    "cifar10": ((32, 32, 3), 50_000, 10_000),
}
NUM_CLASSES = 10


#: (images, labels) batches read once onto the device and kept: every measurement reads the same ones.
BatchList = list[tuple[torch.Tensor, torch.Tensor]]


class DataError(RuntimeError):
    """A data file is missing, unreadable or not what it should be."""


def load_arrays(name: str, root: str | os.PathLike) -> dict[str, np.ndarray]:
    """Load and check ``<root>/<name>.npz`` (x_train, y_train, x_test, y_test); download it if absent.

    The arrays are cached per process and shared between callers: treat them as read-only.
    """
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    path = Path(root).resolve() / f"{name}.npz"
    if not path.exists():
        _download_to_npz(name, path)
    stat = path.stat()
    return _read_npz(name, path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=2)
def _read_npz(name: str, path: Path, mtime_ns: int, size: int) -> dict[str, np.ndarray]:
    """Read and check an archive once per process (a multirun's jobs share it); keyed by its file state."""
    try:
        with np.load(path) as npz:
            arrays = {key: npz[key] for key in ("x_train", "y_train", "x_test", "y_test")}
    except Exception as err:  # zip, pickle and key errors all mean the same thing here
        raise DataError(
            f"{path} is not a valid {name} archive ({type(err).__name__}: {err}); "
            f"delete it and rerun to download it again"
        ) from err
    _check_arrays(name, path, arrays)
    return arrays


def _check_arrays(name: str, path: Path, arrays: dict[str, np.ndarray]) -> None:
    image_shape, n_train, n_test = DATASETS[name]
    for split, n in (("train", n_train), ("test", n_test)):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.shape != (n, *image_shape) or x.dtype != np.uint8:
            raise DataError(
                f"{path}: x_{split} is {x.dtype}{list(x.shape)}, expected uint8{[n, *image_shape]}"
            )
        if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
            raise DataError(f"{path}: y_{split} is {y.dtype}{list(y.shape)}, expected integer[{n}]")
        if y.min() < 0 or y.max() >= NUM_CLASSES:
            raise DataError(f"{path}: y_{split} has labels outside 0..{NUM_CLASSES - 1}")


def _download_to_npz(name: str, path: Path) -> None:
    """Fetch the dataset with torchvision into ``path.parent`` and cache it as ``path`` (atomically)."""
    import torchvision

    cls = {"mnist": torchvision.datasets.MNIST, "cifar10": torchvision.datasets.CIFAR10}[name]
    log.info("%s not found: downloading %s with torchvision into %s", path, name, path.parent)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        splits = {
            split: cls(str(path.parent), train=split == "train", download=True) for split in ("train", "test")
        }
    except Exception as err:
        raise DataError(
            f"{name}: no file {path} (DATA_DIR={os.environ.get('DATA_DIR', '<unset>')}) and the download "
            f"failed ({type(err).__name__}: {err}). Set DATA_DIR to a folder holding {path.name} "
            f"(arrays x_train, y_train, x_test, y_test), or run once with internet access."
        ) from err
    arrays = {}
    for split, ds in splits.items():
        arrays[f"x_{split}"] = np.asarray(ds.data, dtype=np.uint8)
        arrays[f"y_{split}"] = np.asarray(ds.targets, dtype=np.int64)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as tmp:
        np.savez_compressed(tmp, **arrays)
    os.replace(tmp.name, path)


def class_quotas(available: np.ndarray, n: int) -> np.ndarray:
    """How many of ``n`` samples to take from each class: every class up to a common level L (all it has if
    that is less), L as high as ``n`` allows, the remainder one each to the first classes that have more."""
    if n > available.sum():
        raise ValueError(f"{n} samples requested, {available.sum()} available")
    low, high = 0, int(available.max())
    while low < high:  # the largest L with sum(min(available, L)) <= n
        mid = (low + high + 1) // 2
        low, high = (mid, high) if np.minimum(available, mid).sum() <= n else (low, mid - 1)
    quota = np.minimum(available, low)
    quota[np.flatnonzero(available > low)[: n - quota.sum()]] += 1
    return quota


def balanced_indices(
    labels: np.ndarray,
    n: int,
    rng: np.random.Generator,
    exclude: np.ndarray | None = None,
) -> np.ndarray:
    """``n`` indices drawn at random, as equal per class as the data allow (see :func:`class_quotas`).

    Indices in ``exclude`` are never chosen.
    """
    candidates = (
        np.setdiff1d(np.arange(len(labels)), exclude) if exclude is not None else np.arange(len(labels))
    )
    order = rng.permutation(candidates)
    classes = np.unique(labels)
    available = np.array([(labels[order] == c).sum() for c in classes])
    quota = class_quotas(available, n)
    chosen = [order[labels[order] == c][:q] for c, q in zip(classes, quota, strict=True)]
    return np.sort(np.concatenate(chosen))


def to_image_tensor(x: np.ndarray) -> torch.Tensor:
    """uint8 images as (N, C, H, W): adds the channel axis to greyscale, moves it first for HWC colour."""
    t = torch.from_numpy(np.ascontiguousarray(x))
    return t.unsqueeze(1) if t.ndim == 3 else t.permute(0, 3, 1, 2).contiguous()


def augment_batch(x: torch.Tensor, generator: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random crop after zero-padding by ``pad`` and random horizontal flip, one draw per image."""
    n, _, h, w = x.shape
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n, 1), generator=generator, device=x.device)
    dx = torch.randint(0, 2 * pad + 1, (n, 1), generator=generator, device=x.device)
    rows = (dy + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (dx + torch.arange(w, device=x.device))[:, None, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    channel = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    cropped = padded[batch, channel, rows, cols]
    flip = torch.rand(n, generator=generator, device=x.device) < 0.5
    return torch.where(flip[:, None, None, None], cropped.flip(-1), cropped)


def num_batches(n: int, batch_size: int, drop_last: bool = False, world_size: int = 1) -> int:
    """Global batches in an epoch of ``n`` samples; a last short batch counts unless ``drop_last`` or it has
    fewer samples than there are processes."""
    full, rest = divmod(n, batch_size)
    return full + int(not drop_last and rest >= world_size and rest > 0)


class BatchLoader:
    """Batches ``(x, y)`` by slicing in-memory tensors; an iterable Lightning accepts as a dataloader.

    x is uint8 (N, C, H, W) and is normalised per batch with ``mean``/``std`` (per channel, 0-1 scale).
    With ``shuffle``, every epoch draws a new permutation from a generator seeded with (seed, epoch), so the
    order depends only on the seed and the epoch number (also after resuming). ``batch_size`` is the global
    batch: with ``world_size`` processes, process ``rank`` gets its contiguous share of every global batch
    (a last, short batch is shared as evenly as possible, and dropped if it has fewer samples than there
    are processes, so that every process takes the same number of steps).
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        mean: Sequence[float],
        std: Sequence[float],
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int = 0,
        augment: bool = False,
        rank: int = 0,
        world_size: int = 1,
        epoch_fn: Callable[[], int] | None = None,
    ) -> None:
        if not 1 <= batch_size <= len(x):
            raise ValueError(f"batch_size must be in 1..{len(x)} (the number of samples), got {batch_size}")
        if batch_size % world_size:
            raise ValueError(f"global batch_size {batch_size} is not divisible by {world_size} processes")
        self.x, self.y = x, y
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.seed, self.augment, self.rank, self.world_size = seed, augment, rank, world_size
        self.mean = torch.tensor(mean, dtype=torch.float32, device=x.device).view(1, -1, 1, 1) * 255
        self.std = torch.tensor(std, dtype=torch.float32, device=x.device).view(1, -1, 1, 1) * 255
        self._epoch_fn = epoch_fn
        self._epochs_started = 0

    def __len__(self) -> int:
        return num_batches(len(self.x), self.batch_size, self.drop_last, self.world_size)

    def _generator(self, epoch: int) -> torch.Generator:
        g = torch.Generator(device=self.x.device)
        g.manual_seed(self.seed * 1_000_003 + epoch)
        return g

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        epoch = self._epoch_fn() if self._epoch_fn is not None else self._epochs_started
        self._epochs_started += 1
        g = self._generator(epoch)
        n = len(self.x)
        order = torch.randperm(n, generator=g, device=self.x.device) if self.shuffle else None
        for b in range(len(self)):
            start = b * self.batch_size
            stop = min(start + self.batch_size, n)
            idx = order[start:stop] if order is not None else torch.arange(start, stop, device=self.x.device)
            idx = torch.tensor_split(idx, self.world_size)[self.rank] if self.world_size > 1 else idx
            yield self._make_batch(idx, g)

    def _make_batch(self, idx: torch.Tensor, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.x[idx]
        if self.augment:
            x = augment_batch(x, g)
        return (x.float() - self.mean) / self.std, self.y[idx]


class ArrayDataModule(pl.LightningDataModule):
    """MNIST / CIFAR-10 from ``<root>/<name>.npz`` as train / val / test BatchLoaders on the device.

    ``subset`` picks a class-balanced subset of the training set after ``val_size`` class-balanced
    samples were held out for validation (both fixed by ``split_seed``); the official test set is the test
    set. ``seed`` drives the shuffling and augmentation. The constructor only stores its arguments (so
    ``name``, ``input_shape`` and friends can be read back); ``setup`` loads the data.
    """

    def __init__(
        self,
        name: str,
        root: str,
        input_shape: Sequence[int],
        num_classes: int,
        mean: Sequence[float],
        std: Sequence[float],
        batch_size: int,
        eval_batch_size: int = 1000,
        subset: int | None = None,
        val_size: int = 5000,
        split_seed: int = 0,
        drop_last: bool = False,
        eval_train: bool = True,
        augment: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.name, self.root = name, root
        self.input_shape, self.num_classes = tuple(input_shape), num_classes
        self.mean, self.std = list(mean), list(std)
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size
        self.subset, self.val_size, self.split_seed = subset, val_size, split_seed
        self.drop_last, self.eval_train, self.augment, self.seed = drop_last, eval_train, augment, seed
        self.splits: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def setup(self, stage: str | None = None) -> None:
        """Load the arrays once, split them, and move them to the training device."""
        if self.splits:
            return
        arrays = load_arrays(self.name, self.root)
        device = self.trainer.strategy.root_device if self.trainer is not None else torch.device("cpu")
        for split, (x, y) in split_indices(arrays, self.subset, self.val_size, self.split_seed).items():
            self.splits[split] = (to_image_tensor(x).to(device), torch.from_numpy(y).long().to(device))

    def _loader(self, split: str, train: bool) -> BatchLoader:
        x, y = self.splits[split]
        rank, world = (self.trainer.global_rank, self.trainer.world_size) if self.trainer else (0, 1)
        if train:
            epoch_fn = (lambda: self.trainer.current_epoch) if self.trainer is not None else None
            return BatchLoader(
                x,
                y,
                self.batch_size,
                self.mean,
                self.std,
                shuffle=True,
                drop_last=self.drop_last,
                seed=self.seed,
                augment=self.augment,
                rank=rank,
                world_size=world,
                epoch_fn=epoch_fn,
            )
        # Evaluation: each process takes a contiguous share of the split; metrics are reduced across them.
        x, y = torch.tensor_split(x, world)[rank], torch.tensor_split(y, world)[rank]
        return BatchLoader(x, y, min(self.eval_batch_size, len(x)), self.mean, self.std)

    def train_dataloader(self) -> BatchLoader:
        return self._loader("train", train=True)

    def val_dataloader(self) -> BatchLoader | list:
        return self._loader("val", train=False) if "val" in self.splits else []

    def test_dataloader(self) -> list[BatchLoader]:
        """The test set, then (as dataloader 1, with ``eval_train``) the training set in eval mode."""
        return [self._loader("test", train=False)] + (
            [self._loader("train", train=False)] if self.eval_train else []
        )


def split_indices(
    arrays: dict[str, np.ndarray],
    subset: int | None,
    val_size: int,
    split_seed: int,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Split into train (optionally a subset), val (held out from train) and test arrays."""
    x, y = arrays["x_train"], arrays["y_train"]
    rng = np.random.default_rng(split_seed)
    splits = {}
    val_idx = balanced_indices(y, val_size, rng) if val_size else np.array([], dtype=np.int64)
    if val_size:
        splits["val"] = (x[val_idx], y[val_idx])
    if subset is not None:
        train_idx = balanced_indices(y, subset, rng, exclude=val_idx)
    else:
        train_idx = np.setdiff1d(np.arange(len(y)), val_idx)
    splits["train"] = (x[train_idx], y[train_idx])
    splits["test"] = (arrays["x_test"], arrays["y_test"])
    return splits


def analysis_batches(
    data: DictConfig, split: str, n: int, batch_size: int, seed: int, device: torch.device
) -> BatchList:
    """``n`` class-balanced samples (drawn with ``seed``) of the source run's ``split`` as normalised batches.

    ``split`` is ``train`` (the training samples the source run was trained on) or ``test``; ``n`` larger
    than the split takes all of it.
    """
    x, y = split_indices(load_arrays(data.name, data.root), data.subset, data.val_size, data.split_seed)[
        split
    ]
    if n < len(y):
        keep = balanced_indices(y, n, np.random.default_rng(seed))
        x, y = x[keep], y[keep]
    images, labels = to_image_tensor(x).to(device), torch.from_numpy(y).long().to(device)
    return list(BatchLoader(images, labels, min(batch_size, len(labels)), data.mean, data.std))
