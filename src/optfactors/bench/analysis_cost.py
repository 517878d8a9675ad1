"""The cost of the sharp/flat analysis: one Hessian-vector product vs one gradient on the same batch, and the
wall time of the top Hessian eigenvalue and of ε-sharpness for Keskar's F1 on MNIST."""

from __future__ import annotations

import time

import torch
from torch.func import grad

from optfactors.analysis import hessian, sharpness
from optfactors.bench.core import Measurement, compared, median_time
from optfactors.data import BatchLoader, load_arrays, to_image_tensor
from optfactors.models import keskar_f1

#: Target of the issue tracker: one HVP costs at most this many gradients.
HVP_TARGET = "<= 3"


def mnist_batches(root: str, n: int, batch_size: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The first ``n`` MNIST training images, normalised, as batches."""
    arrays = load_arrays("mnist", root)
    x, y = to_image_tensor(arrays["x_train"][:n]), torch.from_numpy(arrays["y_train"][:n]).long()
    return list(BatchLoader(x, y, batch_size, [0.1307], [0.3081]))


def run(root: str, tiny: bool, repeats: int) -> list[Measurement]:
    """HVP/gradient on one batch of 1,000 images (100 if ``tiny``), then the top eigenvalue (Lanczos, at most
    20 steps) and ε-sharpness (ε = 1e-3, full space, 10 L-BFGS-B iterations) on 10,000 (200) samples."""
    torch.manual_seed(0)
    model = keskar_f1([1, 28, 28], 10).eval()
    loss_fn = torch.nn.CrossEntropyLoss()
    batch_size = 100 if tiny else 1000
    batch = mnist_batches(root, batch_size, batch_size)
    x, y = batch[0]
    theta = hessian.flat_parameters(model)
    gradient = grad(hessian.functional_loss(model, loss_fn))
    v = torch.randn_like(theta)
    times = median_time(
        {"gradient": lambda: gradient(theta, x, y), "hvp": lambda: hessian.hvp(model, loss_fn, batch, v)},
        repeats,
    )
    rows = [
        Measurement("analysis: gradient (F1)", batch_size, times["gradient"], "s"),
        compared(
            "analysis: Hessian-vector product (F1)",
            batch_size,
            times["hvp"],
            times["gradient"],
            "s",
            HVP_TARGET,
        ),
    ]
    n = 200 if tiny else 10_000
    samples = mnist_batches(root, n, min(n, 1000))
    start = time.perf_counter()
    hessian.top_eigenvalues(model, loss_fn, samples, k=1, max_iter=20, tol=1e-3)
    rows.append(
        Measurement(
            f"analysis: top Hessian eigenvalue (F1, {n} samples)", None, time.perf_counter() - start, "s"
        )
    )
    start = time.perf_counter()
    sharpness.epsilon_sharpness(model, loss_fn, samples, epsilon=1e-3, max_iter=10)
    rows.append(
        Measurement(f"analysis: ε-sharpness (F1, {n} samples)", None, time.perf_counter() - start, "s")
    )
    return rows
