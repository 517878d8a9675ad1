"""The real data path: npz loading and checks, splits, and the slicing batch loader."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from optfactors import data
from optfactors.data import (
    ArrayDataModule,
    BatchLoader,
    DataError,
    augment_batch,
    class_quotas,
    load_arrays,
    split_indices,
)


@pytest.fixture(scope="module")
def mnist(data_dir):
    return load_arrays("mnist", data_dir)


def test_mnist_has_exact_shapes_and_statistics(mnist):
    assert mnist["x_train"].shape == (60000, 28, 28) and mnist["x_train"].dtype == np.uint8
    assert mnist["x_test"].shape == (10000, 28, 28)
    assert mnist["y_train"].shape == (60000,) and mnist["y_test"].shape == (10000,)
    assert abs(mnist["x_train"].mean() / 255 - 0.1307) < 0.0005
    assert abs(mnist["x_train"].std() / 255 - 0.3081) < 0.0005
    assert list(mnist["y_train"][:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.bincount(mnist["y_train"]).tolist() == [
        5923,
        6742,
        5958,
        6131,
        5842,
        5421,
        5918,
        6265,
        5851,
        5949,
    ]


def test_cifar10_has_exact_shapes_and_channel_means(data_dir):
    arrays = load_arrays("cifar10", data_dir)
    assert arrays["x_train"].shape == (50000, 32, 32, 3) and arrays["x_test"].shape == (10000, 32, 32, 3)
    means = arrays["x_train"][:10000].reshape(-1, 3).mean(axis=0) / 255
    assert np.allclose(means, [0.4914, 0.4822, 0.4465], atol=0.01)
    assert data.to_image_tensor(arrays["x_test"][:2]).shape == (2, 3, 32, 32)


def test_truncated_archive_is_an_error_naming_the_file(tmp_path, data_dir):
    raw = (data_dir / "mnist.npz").read_bytes()
    (tmp_path / "mnist.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match="mnist.npz is not a valid mnist archive"):
        load_arrays("mnist", tmp_path)


def test_wrong_shape_is_an_error(tmp_path):
    np.savez(
        tmp_path / "mnist.npz",
        x_train=np.zeros((60000, 28, 27), np.uint8),
        y_train=np.zeros(60000, int),
        x_test=np.zeros((10000, 28, 28), np.uint8),
        y_test=np.zeros(10000, int),
    )
    with pytest.raises(
        DataError, match=r"x_train is uint8\[60000, 28, 27\], expected uint8\[60000, 28, 28\]"
    ):
        load_arrays("mnist", tmp_path)


def test_missing_file_offline_says_where_it_looked(tmp_path, monkeypatch):
    import torchvision

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(torchvision.datasets, "MNIST", offline)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    with pytest.raises(DataError) as err:
        load_arrays("mnist", tmp_path)
    message = str(err.value)
    assert str(tmp_path / "mnist.npz") in message and f"DATA_DIR={tmp_path}" in message
    assert "network is unreachable" in message and not (tmp_path / "mnist.npz").exists()


def test_download_fallback_caches_the_npz_layout(tmp_path, monkeypatch):
    import torchvision

    class FakeMNIST:  # stands in for torchvision's download: same attributes
        def __init__(self, root, train, download):
            n = 60000 if train else 10000
            self.data = torch.zeros(n, 28, 28, dtype=torch.uint8)
            self.targets = torch.arange(n) % 10

    monkeypatch.setattr(torchvision.datasets, "MNIST", FakeMNIST)
    arrays = load_arrays("mnist", tmp_path)
    assert (tmp_path / "mnist.npz").exists() and arrays["y_test"][:3].tolist() == [0, 1, 2]
    assert load_arrays("mnist", tmp_path)["x_train"].shape == (60000, 28, 28)


def _loader(n: int, batch_size: int, **kwargs) -> BatchLoader:
    x = torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1).expand(n, 1, 2, 2).contiguous()
    return BatchLoader(x, torch.arange(n), batch_size, mean=[0.0], std=[1 / 255], **kwargs)


@pytest.mark.parametrize("batch_size", [1, 7, 60000])
def test_loader_yields_every_sample_once_per_epoch(mnist, batch_size):
    x = data.to_image_tensor(mnist["x_train"])
    loader = BatchLoader(x, torch.arange(len(x)), batch_size, [0.1307], [0.3081], shuffle=True, seed=3)
    for _ in range(2 if batch_size > 1 else 1):
        seen = torch.cat([y for _, y in loader])
        assert len(loader) == -(-60000 // batch_size)
        assert torch.equal(seen.sort().values, torch.arange(60000))


def test_loader_normalises_with_mean_and_std(mnist):
    x = data.to_image_tensor(mnist["x_train"][:1000])
    xb, _ = next(iter(BatchLoader(x, torch.zeros(1000), 1000, [0.1307], [0.3081])))
    assert xb.dtype == torch.float32 and xb.shape == (1000, 1, 28, 28)
    assert abs(xb.mean().item()) < 0.05 and abs(xb.std().item() - 1) < 0.05


def test_loader_order_depends_on_seed_and_epoch_only():
    a, b, c = (
        _loader(100, 10, shuffle=True, seed=1),
        _loader(100, 10, shuffle=True, seed=1),
        _loader(100, 10, shuffle=True, seed=2),
    )
    order = lambda loader: torch.cat([y for _, y in loader])  # noqa: E731
    first_a, first_b, first_c = order(a), order(b), order(c)
    assert torch.equal(first_a, first_b) and not torch.equal(first_a, first_c)
    assert not torch.equal(order(a), first_a)  # a new permutation every epoch
    epoch = {"n": 0}
    resumed = _loader(100, 10, shuffle=True, seed=1, epoch_fn=lambda: epoch["n"])
    assert torch.equal(order(resumed), first_a)


def test_drop_last_and_full_batch():
    assert len(_loader(100, 30)) == 4 and len(_loader(100, 30, drop_last=True)) == 3
    full = list(_loader(100, 100, shuffle=True))
    assert len(full) == 1 and len(full[0][1]) == 100


def test_ranks_get_disjoint_shares_of_every_global_batch():
    shards = [list(_loader(100, 20, shuffle=True, seed=5, rank=r, world_size=2)) for r in range(2)]
    full = list(_loader(100, 20, shuffle=True, seed=5))
    assert len(shards[0]) == len(shards[1]) == len(full) == 5
    for (_, y0), (_, y1), (_, y) in zip(shards[0], shards[1], full, strict=True):
        assert len(y0) == len(y1) == 10
        assert torch.equal(torch.cat([y0, y1]), y)
    with pytest.raises(ValueError, match="not divisible by 3 processes"):
        _loader(100, 20, world_size=3)


def test_batch_size_outside_data_is_rejected():
    for bad in (0, 101):
        with pytest.raises(ValueError, match="batch_size must be in 1..100"):
            _loader(100, bad)


def test_subset_is_class_balanced_deterministic_and_disjoint_from_val(mnist):
    splits = split_indices(mnist, subset=2000, val_size=5000, split_seed=0)
    y_train, y_val = splits["train"][1], splits["val"][1]
    assert len(y_train) == 2000 and np.bincount(y_train).tolist() == [200] * 10
    assert np.bincount(y_val).tolist() == [500] * 10
    again = split_indices(mnist, subset=2000, val_size=5000, split_seed=0)
    assert np.array_equal(again["train"][0], splits["train"][0])
    val_images = {img.tobytes() for img in splits["val"][0]}
    assert not any(img.tobytes() in val_images for img in splits["train"][0])  # MNIST has no duplicates
    full = split_indices(mnist, subset=None, val_size=5000, split_seed=0)
    assert len(full["train"][1]) == 55000 and len(full["test"][1]) == 10000


def test_augmentation_crops_and_flips_each_image_deterministically():
    x = torch.randint(0, 256, (64, 3, 8, 8), dtype=torch.uint8)
    out = augment_batch(x, torch.Generator().manual_seed(0), pad=0)
    flipped = torch.tensor([torch.equal(o, xi.flip(-1)) for o, xi in zip(out, x, strict=True)])
    same = torch.tensor([torch.equal(o, xi) for o, xi in zip(out, x, strict=True)])
    assert bool((flipped | same).all()) and 10 < int(flipped.sum()) < 54
    padded = augment_batch(x, torch.Generator().manual_seed(1), pad=4)
    assert padded.shape == x.shape
    assert torch.equal(padded, augment_batch(x, torch.Generator().manual_seed(1), pad=4))
    assert not torch.equal(padded, augment_batch(x, torch.Generator().manual_seed(2), pad=4))


def test_datamodule_builds_splits_on_cpu(data_dir):
    dm = ArrayDataModule(
        "mnist", str(data_dir), [1, 28, 28], 10, [0.1307], [0.3081], batch_size=64, subset=1000, val_size=500
    )
    dm.setup("fit")
    xb, yb = next(iter(dm.train_dataloader()))
    assert xb.shape == (64, 1, 28, 28) and yb.dtype == torch.int64
    assert len(dm.train_dataloader()) == 16 and len(dm.val_dataloader()) == 1
    assert [len(loader.x) for loader in dm.test_dataloader()] == [10000, 1000]


def test_class_quotas_fill_short_classes_first():
    assert class_quotas(np.array([10, 10, 10]), 7).tolist() == [3, 2, 2]
    assert class_quotas(np.array([1, 10, 10]), 9).tolist() == [1, 4, 4]
    assert class_quotas(np.array([2, 3, 100]), 100).tolist() == [2, 3, 95]
    with pytest.raises(ValueError, match="11 samples requested, 10 available"):
        class_quotas(np.array([5, 5]), 11)


def test_a_large_subset_is_as_balanced_as_the_data_allow(mnist):
    # After 5,000 validation samples (500 a class) some digits have fewer than 5,400 left for a 54,000
    # subset: those give all they have, the others share the rest equally.
    splits = split_indices(mnist, subset=54000, val_size=5000, split_seed=0)
    counts = np.bincount(splits["train"][1])
    available = np.bincount(mnist["y_train"]) - 500
    assert counts.sum() == 54000 and counts[5] == available[5] == 4921
    assert all(c == a or c >= counts.max() - 1 for c, a in zip(counts, available, strict=True))
