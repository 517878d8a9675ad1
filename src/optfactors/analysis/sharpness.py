"""Keskar et al.'s ε-sharpness: the largest relative loss increase in a small box around a solution."""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import Bounds, minimize
from torch import Tensor, nn
from torch.func import grad_and_value

from optfactors.analysis.hessian import (
    Batches,
    BatchLoss,
    LossFn,
    eval_mode,
    flat_parameters,
    functional_loss,
    mean_over_batches,
)

__all__ = ["epsilon_sharpness"]


def _loss_and_grad(f: BatchLoss, theta: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """``[f(theta), *grad f(theta)]`` on one batch, as one vector (so batches can be averaged at once)."""
    gradient, value = grad_and_value(f)(theta, x, y)
    return torch.cat([value.reshape(1), gradient])


def epsilon_sharpness(
    model: nn.Module,
    loss_fn: LossFn,
    batches: Batches,
    epsilon: float = 1e-3,
    subspace_dim: int | None = None,
    max_iter: int = 10,
    seed: int = 0,
    adaptive: bool = False,
) -> float:
    """Keskar et al.'s ε-sharpness (ICLR 2017, Metric 2.1), in percent, or its adaptive variant.

    ``phi = (max_{y in C} f(x + A y) - f(x)) / (1 + f(x)) * 100`` over the box
    ``C = {y : |y_i| <= epsilon (|(A^+ x)_i| + 1)}``, where ``x`` is the flat parameter vector (see
    `hessian.flat_parameters`) and ``f`` the mean loss over ``batches``. As in the paper the maximum is
    sought by SciPy's L-BFGS-B on ``-f`` from ``y = 0`` with ``maxiter=max_iter`` and the gradient from
    autograd, so phi is a lower bound of the exact maximum.

    ``A = I`` when ``subspace_dim`` is None. Otherwise ``A`` is ``n x p`` (``p = subspace_dim``) with
    i.i.d. standard normal entries, ``torch.randn(n, p, generator=torch.Generator().manual_seed(seed),
    dtype=<the parameters' dtype>)`` moved to their device, and ``A^+ x`` solves the normal equations.
    Eval mode: BatchNorm uses its running statistics; the model is not modified.

    ``adaptive``: the scale-invariant ε-sharpness of Kwon et al. (2021) / Andriushchenko et al. (2023), the
    box ``|y_i| <= epsilon |(A^+ x)_i|`` (no ``+ 1``). It is searched in the normalised coordinates
    ``z = y / |A^+ x|`` (box ``|z_i| <= epsilon``), so a reparametrisation that rescales parameters without
    changing the function (Dinh et al. 2017: one layer times alpha, the next divided by it) poses L-BFGS-B
    the same problem and gives the same value.
    """
    if epsilon <= 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon}")
    batches = list(batches)
    with eval_mode(model):
        x = flat_parameters(model)
        if subspace_dim is None:
            basis, coords = None, x
        elif 1 <= subspace_dim <= x.numel():
            generator = torch.Generator().manual_seed(seed)
            basis = torch.randn(x.numel(), subspace_dim, generator=generator, dtype=x.dtype).to(x.device)
            coords = torch.linalg.solve(basis.T @ basis, basis.T @ x)
        else:
            raise ValueError(f"subspace_dim must be None or in [1, {x.numel()}], got {subspace_dim}")
        f = functional_loss(model, loss_fn)

        # The search variable is y, or z = y / |A^+ x| (adaptive): y = scale * variable.
        scale = coords.abs() if adaptive else torch.ones_like(coords)

        def negative_loss(variable: np.ndarray) -> tuple[float, np.ndarray]:
            step = scale * torch.from_numpy(variable).to(x)
            theta = x + (step if basis is None else basis @ step)
            value = mean_over_batches(
                lambda inputs, targets: _loss_and_grad(f, theta, inputs, targets), batches
            )
            gradient = scale * (value[1:] if basis is None else basis.T @ value[1:])
            return -value[0].item(), -gradient.detach().double().cpu().numpy()

        box = np.full(coords.numel(), 1.0) if adaptive else coords.abs().double().cpu().numpy() + 1
        bound = epsilon * box
        start = np.zeros_like(bound)
        loss = -negative_loss(start)[0]
        result = minimize(
            negative_loss,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=Bounds(-bound, bound),
            options={"maxiter": max_iter},
        )
    return float((-result.fun - loss) / (1 + loss) * 100)
