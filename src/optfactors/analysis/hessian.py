"""The loss as a function of the flat parameter vector, and its Hessian.

The flat vector concatenates the parameters that require grad, each flattened, in ``model.parameters()``
order (`flat_parameters`); every vector taken or returned here uses that order. Hessian-vector products
are exact: double backward with ``torch.func``, the gradient of ``grad f . v`` (forward-over-reverse was
no faster here and fails on ``mse_loss`` in torch 2.14). The spectral methods build on them: Lanczos
with full reorthogonalisation for the top eigenvalues and for stochastic Lanczos quadrature, Rademacher
probes for Hutchinson's trace. The model is evaluated in eval mode (BatchNorm uses its running statistics,
dropout is off) and left exactly as it was found.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import functional_call, grad

Batches = Iterable[tuple[Tensor, Tensor]]
LossFn = Callable[[Tensor, Tensor], Tensor]
#: The loss of the flat parameter vector on one batch: ``f(theta, x, y)`` (`functional_loss`).
BatchLoss = Callable[[Tensor, Tensor, Tensor], Tensor]
#: The loss of the flat parameter vector on data it holds: ``loss_of(theta)`` (a full-batch objective).
FlatLoss = Callable[[Tensor], Tensor]

__all__ = [
    "Eigenpairs",
    "density",
    "eval_mode",
    "exact_hessian",
    "flat_parameters",
    "functional_loss",
    "hvp",
    "mean_over_batches",
    "smoothed_density",
    "spectral_quadrature",
    "top_eigenvalues",
    "trace",
]


class Eigenpairs(NamedTuple):
    """Eigenvalues, descending, and the matching unit eigenvectors as the rows of a ``(k, n)`` tensor."""

    values: list[float]
    vectors: Tensor


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode for the block, then restore every module's own train/eval flag."""
    flags = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for module, flag in flags:
            module.training = flag


def flat_parameters(model: nn.Module) -> Tensor:
    """A detached copy of the parameters that require grad, flattened and concatenated in order."""
    return torch.cat([p.detach().reshape(-1) for p in model.parameters() if p.requires_grad])


def functional_loss(model: nn.Module, loss_fn: LossFn) -> BatchLoss:
    """``f(theta, x, y) = loss_fn(model(x), y)`` with the parameters read from the flat vector ``theta``.

    Buffers and parameters that do not require grad come from the model, which is never modified; the
    caller chooses the mode (see `eval_mode`).
    """
    named = [(name, p.shape) for name, p in model.named_parameters() if p.requires_grad]
    sizes = [math.prod(shape) for _, shape in named]

    def f(theta: Tensor, x: Tensor, y: Tensor) -> Tensor:
        chunks = theta.split(sizes)
        params = {name: chunk.view(shape) for (name, shape), chunk in zip(named, chunks, strict=True)}
        return loss_fn(functional_call(model, params, (x,)), y)

    return f


def mean_over_batches(fn: Callable[[Tensor, Tensor], Tensor], batches: Batches) -> Tensor:
    """``sum_b len(x_b) fn(x_b, y_b) / sum_b len(x_b)``: the mean over samples when ``fn`` is a batch mean."""
    total, count = None, 0
    for x, y in batches:
        value = fn(x, y) * len(x)
        total = value if total is None else total + value
        count += len(x)
    if total is None:
        raise ValueError("batches is empty")
    return total / count


def _hessian_operator(
    model: nn.Module, loss_fn: LossFn, batches: Batches
) -> tuple[Tensor, Callable[[Tensor], Tensor]]:
    """The flat parameters and ``v -> H v`` for the mean loss over ``batches`` (call it in eval mode)."""
    theta = flat_parameters(model)
    grad_f = grad(functional_loss(model, loss_fn))
    batches = list(batches)

    def matvec(v: Tensor) -> Tensor:
        return mean_over_batches(lambda x, y: grad(lambda t: grad_f(t, x, y) @ v)(theta), batches)

    return theta, matvec


def hvp(model: nn.Module, loss_fn: LossFn, batches: Batches, v: Tensor) -> Tensor:
    """The exact Hessian-vector product ``H v`` of the mean loss over ``batches`` (weighted by batch size).

    ``v`` and the result are flat vectors over the parameters that require grad, in ``model.parameters()``
    order. Eval mode: BatchNorm uses its running statistics.
    """
    with eval_mode(model):
        theta, matvec = _hessian_operator(model, loss_fn, batches)
        if v.shape != theta.shape:
            raise ValueError(f"v must have shape {tuple(theta.shape)}, got {tuple(v.shape)}")
        return matvec(v.to(theta))


def exact_hessian(model: nn.Module, loss_fn: LossFn, batches: Batches) -> Tensor:
    """The full ``(n, n)`` Hessian of the mean loss over ``batches`` (``torch.func.hessian``; small models).

    Rows and columns follow `flat_parameters`. Eval mode: BatchNorm uses its running statistics.
    """
    with eval_mode(model):
        theta = flat_parameters(model)
        hess_f = torch.func.hessian(functional_loss(model, loss_fn))
        return mean_over_batches(lambda x, y: hess_f(theta, x, y), batches)


def _gaussian(like: Tensor, generator: torch.Generator) -> Tensor:
    return torch.randn(like.shape, generator=generator, dtype=like.dtype).to(like.device)


def _rademacher(like: Tensor, generator: torch.Generator) -> Tensor:
    return (torch.randint(0, 2, like.shape, generator=generator) * 2 - 1).to(like)


def _orthogonalize(w: Tensor, basis: Tensor) -> Tensor:
    """``w`` minus its projection on the orthonormal rows of ``basis`` (classical Gram-Schmidt, twice)."""
    for _ in range(2):
        w = w - basis.T @ (basis @ w)
    return w


def _lanczos(
    matvec: Callable[[Tensor], Tensor],
    start: Tensor,
    n_steps: int,
    generator: torch.Generator,
    k: int = 0,
    tol: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, Tensor]:
    """Lanczos tridiagonalisation ``T = Q H Q^T`` with full reorthogonalisation.

    Runs ``min(n_steps, n)`` steps or, when ``k > 0``, stops earlier once the ``k`` largest Ritz pairs
    have residual norm ``||H u - theta u|| <= tol * max|theta|``. On breakdown (an invariant subspace, as
    with fewer distinct eigenvalues than steps) it continues from a fresh Gaussian vector orthogonal to
    the basis and runs all the steps, since the rest of the space may hold copies of repeated eigenvalues.
    Returns the Ritz values (ascending), the eigenvectors of ``T`` (columns) and the basis ``Q`` (rows).
    """
    n_steps = min(n_steps, start.numel())
    breakdown = math.sqrt(torch.finfo(start.dtype).eps)
    basis = start.new_zeros(n_steps, start.numel())
    basis[0] = start / start.norm()
    alphas: list[float] = []
    betas: list[float] = []
    restarted = False
    for j in range(n_steps):
        w = matvec(basis[j])
        alphas.append(torch.dot(w, basis[j]).item())
        # Projecting out the whole basis also removes alpha_j q_j and beta_{j-1} q_{j-1}.
        w = _orthogonalize(w, basis[: j + 1])
        beta = w.norm().item()
        ritz, vectors = np.linalg.eigh(np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1))
        scale = np.abs(ritz).max()
        residuals = beta * np.abs(vectors[-1, ritz.size - k :])
        if j + 1 == n_steps or (k and not restarted and ritz.size >= k and np.all(residuals <= tol * scale)):
            break
        if beta <= breakdown * scale:
            w, beta = _orthogonalize(_gaussian(w, generator), basis[: j + 1]), 0.0
            restarted = True
        basis[j + 1] = w / w.norm()
        betas.append(beta)
    return ritz, vectors, basis[: ritz.size]


def top_eigenvalues(
    model: nn.Module,
    loss_fn: LossFn,
    batches: Batches,
    k: int = 1,
    max_iter: int = 100,
    tol: float = 1e-4,
    seed: int = 0,
) -> Eigenpairs:
    """The ``k`` algebraically largest Hessian eigenvalues, descending, with unit eigenvectors.

    Lanczos with full reorthogonalisation from a seeded Gaussian vector: unlike power iteration it finds
    the largest eigenvalues even when the most negative one is larger in magnitude. At most ``max_iter``
    Hessian-vector products (capped at n); stops once every one of the k Ritz pairs has residual
    ``||H u - lambda u|| <= tol * max|lambda|`` (which bounds the eigenvalue error), unless the Krylov
    space was exhausted (repeated eigenvalues in a tiny model): then it takes all the steps. Memory: up to
    ``max_iter`` flat vectors. Eigenvectors follow `flat_parameters`. Eval mode (BatchNorm running
    statistics).
    """
    with eval_mode(model):
        theta, matvec = _hessian_operator(model, loss_fn, batches)
        if not 1 <= k <= min(max_iter, theta.numel()):
            raise ValueError(f"k must be in [1, min(max_iter, n)] = [1, {min(max_iter, theta.numel())}]")
        generator = torch.Generator().manual_seed(seed)
        ritz, vectors, basis = _lanczos(matvec, _gaussian(theta, generator), max_iter, generator, k, tol)
    top = np.arange(ritz.size - 1, ritz.size - k - 1, -1)
    ritz_vectors = torch.from_numpy(vectors[:, top].T.copy()).to(basis) @ basis
    return Eigenpairs([float(ritz[i]) for i in top], ritz_vectors)


def trace(model: nn.Module, loss_fn: LossFn, batches: Batches, n_samples: int = 100, seed: int = 0) -> float:
    """Hutchinson's estimate of the Hessian trace: the mean of ``v^T H v`` over seeded Rademacher ``v``.

    Its variance per sample is ``2 (||H||_F^2 - sum_i H_ii^2)``. Eval mode (BatchNorm running statistics).
    """
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}")
    with eval_mode(model):
        theta, matvec = _hessian_operator(model, loss_fn, batches)
        generator = torch.Generator().manual_seed(seed)
        total = 0.0
        for _ in range(n_samples):
            v = _rademacher(theta, generator)
            total += torch.dot(v, matvec(v)).item()
    return total / n_samples


def spectral_quadrature(
    model: nn.Module, loss_fn: LossFn, batches: Batches, n_iter: int = 100, n_runs: int = 1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Stochastic Lanczos quadrature of the Hessian's spectral measure (Ghorbani et al. 2019; PyHessian).

    Each of ``n_runs`` runs takes ``n_iter`` Lanczos steps (capped at n) from a seeded Rademacher vector;
    its Ritz values (nodes), weighted by the squared first components of the eigenvectors of ``T`` divided
    by ``n_runs`` (weights, summing to 1 over all runs), are a Gauss quadrature of the spectral measure.
    Returns ``(nodes, weights)`` as float64 arrays; `smoothed_density` turns them into a density. Eval mode
    (BatchNorm running statistics).
    """
    if n_iter < 1 or n_runs < 1:
        raise ValueError(f"n_iter and n_runs must be >= 1, got {n_iter} and {n_runs}")
    nodes, weights = [], []
    with eval_mode(model):
        theta, matvec = _hessian_operator(model, loss_fn, batches)
        generator = torch.Generator().manual_seed(seed)
        for _ in range(n_runs):
            ritz, vectors, _ = _lanczos(matvec, _rademacher(theta, generator), n_iter, generator)
            nodes.append(ritz)
            weights.append(vectors[0] ** 2 / n_runs)
    return np.concatenate(nodes).astype(np.float64), np.concatenate(weights).astype(np.float64)


def smoothed_density(
    nodes: np.ndarray, weights: np.ndarray, sigma: float | None = None, grid: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The quadrature ``(nodes, weights)`` as a mixture of Gaussians of width ``sigma`` evaluated on ``grid``.

    Defaults follow PyHessian: ``sigma = sqrt(1e-5 * max(1, lmax - lmin))`` and 10,000 grid points from
    ``lmin - margin`` to ``lmax + margin``, ``margin = 0.01 (lmax - lmin) + 5 sigma``, with ``lmin, lmax``
    the extreme nodes. It integrates to ~1 when the grid covers the nodes and its spacing is well below
    sigma. Returns ``(grid, density)`` as float64 arrays.
    """
    node, weight = np.asarray(nodes, dtype=np.float64), np.asarray(weights, dtype=np.float64)
    spread = node.max() - node.min()
    if sigma is None:
        sigma = math.sqrt(1e-5 * max(1.0, spread))
    if grid is None:
        margin = 0.01 * spread + 5 * sigma
        grid = np.linspace(node.min() - margin, node.max() + margin, 10_000)
    grid = np.asarray(grid, dtype=np.float64)
    kernel = np.exp(-0.5 * ((grid[:, None] - node[None, :]) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
    return grid, kernel @ weight


def density(
    model: nn.Module,
    loss_fn: LossFn,
    batches: Batches,
    n_iter: int = 100,
    n_runs: int = 1,
    sigma: float | None = None,
    grid: np.ndarray | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The Hessian's eigenvalue density by stochastic Lanczos quadrature (Ghorbani et al. 2019; PyHessian).

    `spectral_quadrature` with ``n_iter``, ``n_runs`` and ``seed``, then `smoothed_density` with ``sigma``
    and ``grid`` (PyHessian's defaults). Returns ``(grid, density)`` as float64 arrays. Eval mode
    (BatchNorm running statistics).
    """
    nodes, weights = spectral_quadrature(model, loss_fn, batches, n_iter, n_runs, seed)
    return smoothed_density(nodes, weights, sigma, grid)
