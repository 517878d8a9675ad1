"""The cost of the sharp/flat analysis: one Hessian-vector product vs one gradient on the same batch, for
Keskar's F1 on MNIST and C1 on CIFAR-10-shaped data, as the library computes it (reverse-over-reverse) and
forward-over-reverse (measured beside it, not used); then the wall time of the top Hessian eigenvalue and of
ε-sharpness for F1."""

from __future__ import annotations

import time

import torch
from hydra.utils import instantiate
from torch.func import grad, jvp

from optfactors.analysis import hessian, sharpness
from optfactors.bench.core import Measurement, compared, median_time, project_config
from optfactors.data import BatchLoader, load_arrays, to_image_tensor
from optfactors.models import keskar_f1

#: Target of the issue tracker: one HVP costs at most this many gradients.
HVP_TARGET = "<= 3"


def mnist_batches(root: str, n: int, batch_size: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The first ``n`` MNIST training images, normalised, as batches."""
    arrays = load_arrays("mnist", root)
    x, y = to_image_tensor(arrays["x_train"][:n]), torch.from_numpy(arrays["y_train"][:n]).long()
    return list(BatchLoader(x, y, batch_size, [0.1307], [0.3081]))


def forward_over_reverse(
    gradient: hessian.BatchLoss, theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor, v: torch.Tensor
) -> torch.Tensor:
    """``H v``: the directional derivative of ``gradient(theta, x, y)`` along ``v`` (``jvp``)."""
    return jvp(lambda t: gradient(t, x, y), (theta,), (v,))[1]


def hvp_cost(
    network: str, model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, repeats: int
) -> list[Measurement]:
    """Median time of one gradient, of the library's HVP and of a forward-over-reverse HVP (``jvp`` of the
    gradient) on the batch ``(x, y)``, the model in eval mode; each HVP as a multiple of the gradient."""
    model.eval()
    loss_fn = torch.nn.CrossEntropyLoss()
    theta = hessian.flat_parameters(model)
    gradient = grad(hessian.functional_loss(model, loss_fn))
    v = torch.randn_like(theta)
    times = median_time(
        {
            "gradient": lambda: gradient(theta, x, y),
            "hvp": lambda: hessian.hvp(model, loss_fn, [(x, y)], v),
            "forward": lambda: forward_over_reverse(gradient, theta, x, y, v),
        },
        repeats,
    )
    batch_size = len(x)
    return [
        Measurement(f"analysis: gradient ({network})", batch_size, times["gradient"], "s"),
        compared(
            f"analysis: Hessian-vector product ({network})",
            batch_size,
            times["hvp"],
            times["gradient"],
            "s",
            HVP_TARGET,
        ),
        compared(
            f"analysis: Hessian-vector product, forward-over-reverse, not used ({network})",
            batch_size,
            times["forward"],
            times["gradient"],
            "s",
            HVP_TARGET,
        ),
    ]


def run(root: str, tiny: bool, repeats: int) -> list[Measurement]:
    """HVP/gradient for F1 on 1,000 MNIST images (100 if ``tiny``) and for C1 on 250 random CIFAR-10-shaped
    images (16), then the top eigenvalue (Lanczos, at most 20 steps) and ε-sharpness (ε = 1e-3, full space,
    10 L-BFGS-B iterations) of F1 on 10,000 (200) samples."""
    torch.manual_seed(0)
    model = keskar_f1([1, 28, 28], 10).eval()
    loss_fn = torch.nn.CrossEntropyLoss()
    batch_size = 100 if tiny else 1000
    x, y = mnist_batches(root, batch_size, batch_size)[0]
    rows = hvp_cost("F1", model, x, y, repeats)
    c1 = instantiate(project_config("setting=cifar10_c1").model)
    n_c1 = 16 if tiny else 250
    rows += hvp_cost("C1", c1, torch.randn(n_c1, 3, 32, 32), torch.randint(0, 10, (n_c1,)), repeats)
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
