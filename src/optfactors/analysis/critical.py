"""Critical points of a loss over a flat parameter vector: reach one, take its exact Hessian, count the
signs of its eigenvalues (the lecture's "minimum ratio"); the loss along an eigenvector against the Taylor
prediction, and gradient descent with and without noise from a point (escaping a saddle). Pure functions of
``theta -> loss``, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch
from torch import Tensor

from optfactors.analysis.hessian import FlatLoss


def train(loss_of: FlatLoss, theta: Tensor, steps: int, lr: float) -> Tensor:
    """``steps`` full-batch Adam updates of the loss from ``theta``."""
    theta = theta.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([theta], lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        loss_of(theta).backward()
        optimizer.step()
    return theta.detach()


def hessian(loss_of: FlatLoss, theta: Tensor) -> Tensor:
    """The exact ``(n, n)`` Hessian of the loss at ``theta`` (``torch.func.hessian``)."""
    return torch.func.hessian(loss_of)(theta)


@dataclass(frozen=True)
class CriticalPoint:
    """Where the search for a critical point ended, and whether ‖∇L‖ got below the threshold there."""

    theta: Tensor
    loss: float
    grad_norm: float
    iterations: int
    converged: bool


def find_critical_point(
    loss_of: FlatLoss,
    theta: Tensor,
    grad_tol: float,
    max_iter: int,
    damping: float = 1e-3,
    refresh: int = 5,
    max_step: float = 1.0,
) -> CriticalPoint:
    """Minimise ½‖∇L(θ)‖² from ``theta`` until ‖∇L‖ <= ``grad_tol`` (or ``max_iter`` iterations).

    Levenberg-Marquardt on the residual ∇L, whose Jacobian is the Hessian H: the step is
    -(H² + μI)⁻¹ H ∇L, at most ``max_step`` long, accepted when it lowers ‖∇L‖; μ (starting at
    ``damping`` · max λ²) shrinks after an accepted step and grows until a step is accepted. H is
    recomputed every ``refresh`` accepted steps and whenever a step with an older H fails; ``iterations``
    counts passes of the loop (an accepted step, or a refresh of a stale H). Unlike descent on
    the loss it is drawn to critical points of every kind, saddles included. It stops early, not converged,
    where no step lowers ‖∇L‖ (a minimum of the gradient norm that is not a critical point).
    """
    grad_of = torch.func.grad(loss_of)
    g = grad_of(theta)
    mu, age, iterations = None, refresh, 0
    while iterations < max_iter and float(g.norm()) > grad_tol:
        if age >= refresh:
            values, vectors = torch.linalg.eigh(hessian(loss_of, theta))
            if not values.abs().max() > 0:  # a zero Hessian: no step to take
                break
            mu, age = (mu if mu is not None else damping * float(values.abs().max()) ** 2), 0
        along = vectors.T @ g
        for _ in range(60):
            step = -vectors @ (values * along / (values**2 + mu))
            length = float(step.norm())
            step = step * (max_step / length) if length > max_step else step
            g_candidate = grad_of(theta + step)
            if g_candidate.norm() < g.norm():
                theta, g, mu, age = theta + step, g_candidate, mu / 3, age + 1
                break
            if age > 0:  # the Hessian is stale: refresh it before damping more
                age = refresh
                break
            mu *= 4
        else:
            break
        iterations += 1
    grad_norm = float(g.norm())
    return CriticalPoint(theta, float(loss_of(theta)), grad_norm, iterations, grad_norm <= grad_tol)


@dataclass(frozen=True)
class Signs:
    """Eigenvalue counts: positive, negative, and zero (|λ| <= tolerance · max |λ|)."""

    positive: int
    negative: int
    zero: int

    @property
    def minimum_ratio(self) -> float:
        """Positive eigenvalues / eigenvalues that are not zero: 1 at a (non-strict) local minimum."""
        signed = self.positive + self.negative
        return self.positive / signed if signed else float("nan")

    @property
    def minimum_ratio_all(self) -> float:
        """Positive eigenvalues / all eigenvalues (zero ones counted as not positive)."""
        return self.positive / (self.positive + self.negative + self.zero)


def eigenvalue_signs(eigenvalues: Tensor, tolerance: float) -> Signs:
    """Count positive, negative and zero eigenvalues, zero meaning ``|λ| <= tolerance · max |λ|``.

    The tolerance is relative so that it does not depend on the loss's scale. At a point with a small but
    non-zero gradient, eigenvalues that would vanish at the exact critical point need not be that small:
    compare the counts at several tolerances.
    """
    cutoff = tolerance * float(eigenvalues.abs().max())
    positive = int((eigenvalues > cutoff).sum())
    negative = int((eigenvalues < -cutoff).sum())
    return Signs(positive, negative, len(eigenvalues) - positive - negative)


def taylor_table(
    loss_of: FlatLoss, theta: Tensor, eigenvalue: float, direction: Tensor, etas: Tensor
) -> pd.DataFrame:
    """The loss change along ``theta + η · direction`` for each η against the second-order prediction
    ½λη² (and the first-order term η ∇L·u, ~0 at a critical point): eta, loss_change, predicted,
    first_order."""
    base = float(loss_of(theta))
    slope = float(torch.func.grad(loss_of)(theta) @ direction)
    return pd.DataFrame(
        [
            {
                "eta": eta,
                "loss_change": float(loss_of(theta + eta * direction)) - base,
                "predicted": 0.5 * eigenvalue * eta**2,
                "first_order": slope * eta,
            }
            for eta in etas.tolist()
        ]
    )


def descent(loss_of: FlatLoss, theta: Tensor, lr: float, steps: int, noise: float, seed: int) -> pd.DataFrame:
    """``steps`` full-batch gradient-descent updates from ``theta``, each plus Gaussian noise of standard
    deviation ``noise`` per coordinate (0: exact GD). Loss and distance from ``theta`` at every step."""
    generator = torch.Generator().manual_seed(seed)
    grad_of = torch.func.grad_and_value(loss_of)
    current, rows = theta.clone(), []
    for t in range(steps + 1):
        gradient, loss = grad_of(current)
        rows.append((t, float(loss), float((current - theta).norm()), float(gradient.norm())))
        if t == steps:
            break
        current = current - lr * gradient
        if noise:
            current = current + noise * torch.randn(current.shape, generator=generator, dtype=current.dtype)
    return pd.DataFrame(rows, columns=["step", "loss", "distance", "grad_norm"])


def escape_step(path: pd.DataFrame, drop: float) -> int | None:
    """The first update whose loss is below the start's by more than ``drop`` (relative), if any."""
    start = path["loss"].iloc[0]
    below = path.index[path["loss"] < start - drop * abs(start)]
    return int(path.loc[below[0], "step"]) if len(below) else None
