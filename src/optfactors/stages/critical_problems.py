"""Small problems whose full Hessian is cheap (a few hundred parameters), in float64, full batch.

Both networks use tanh, so the loss is smooth and its Hessian is defined everywhere (with ReLU it is not at
the kinks, and whole blocks of it vanish).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from optfactors.analysis.hessian import FlatLoss, flat_parameters, functional_loss
from optfactors.data import balanced_indices, load_arrays


@dataclass(frozen=True)
class Problem:
    """A full-batch training problem: inputs, targets, a loss and a fresh, seeded network."""

    name: str
    x: Tensor
    y: Tensor
    loss: nn.Module
    network: Callable[[int], nn.Module]

    def objective(self, seed: int) -> tuple[Tensor, FlatLoss]:
        """The flat initial parameters of the network drawn from ``seed``; theta -> full-batch loss."""
        network = self.network(seed)
        f = functional_loss(network, self.loss)
        return flat_parameters(network), lambda theta: f(theta, self.x, self.y)


def tanh_mlp(sizes: Sequence[int], seed: int) -> nn.Module:
    """``Linear -> tanh -> ... -> Linear`` through ``sizes`` (input, hidden..., output), float64, with
    PyTorch's default initialisation drawn from ``seed``."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers += [nn.Linear(n_in, n_out)] + ([nn.Tanh()] if i < len(sizes) - 2 else [])
    return nn.Sequential(*layers).double()


def sinc(points: int = 100, hidden: Sequence[int] = (16, 16)) -> Problem:
    """Regression of sin(5πx) / (5πx) on ``points`` evenly spaced x in [-1, 1] by a 1-input tanh MLP, MSE."""
    x = torch.linspace(-1, 1, points, dtype=torch.float64).unsqueeze(1)
    return Problem(
        name="sinc",
        x=x,
        y=torch.sinc(5 * x),
        loss=nn.MSELoss(),
        network=lambda seed: tanh_mlp([1, *hidden, 1], seed),
    )


def mnist_small(
    root: str | os.PathLike, samples: int = 500, pool: int = 4, hidden: Sequence[int] = (8,), seed: int = 0
) -> Problem:
    """A class-balanced draw of ``samples`` MNIST training images, average-pooled by ``pool`` (28x28 -> 7x7
    for 4) and standardised, classified by a tanh MLP with cross-entropy."""
    arrays = load_arrays("mnist", root)
    index = balanced_indices(arrays["y_train"], samples, np.random.default_rng(seed))
    images = torch.from_numpy(arrays["x_train"][index]).double().unsqueeze(1) / 255
    x = nn.functional.avg_pool2d(images, pool).flatten(1)
    x = (x - x.mean()) / x.std()
    y = torch.from_numpy(arrays["y_train"][index]).long()
    return Problem(
        name="mnist_small",
        x=x,
        y=y,
        loss=nn.CrossEntropyLoss(),
        network=lambda s: tanh_mlp([x.shape[1], *hidden, 10], s),
    )
