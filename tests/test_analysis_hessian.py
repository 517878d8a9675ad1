"""Hessian-vector products and spectral estimates against exact Hessians of tiny models (float64)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

from optfactors.analysis import hessian


def _mlp(width: int = 6, batch_norm: bool = False) -> nn.Module:
    torch.manual_seed(0)
    norm = [nn.BatchNorm1d(width)] if batch_norm else []
    model = nn.Sequential(nn.Linear(4, width), *norm, nn.Tanh(), nn.Linear(width, 3)).double()
    if batch_norm:  # non-trivial running statistics
        with torch.no_grad():
            model(torch.randn(32, 4, dtype=torch.float64) * 2 + 1)
    return model


def _batches(sizes: tuple[int, ...] = (12, 8)) -> list[tuple[Tensor, Tensor]]:
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(sum(sizes), 4, generator=generator, dtype=torch.float64)
    y = torch.randint(0, 3, (sum(sizes),), generator=generator)
    return list(zip(x.split(list(sizes)), y.split(list(sizes)), strict=True))


def _mse(out: Tensor, y: Tensor) -> Tensor:
    return F.mse_loss(out, F.one_hot(y, out.shape[1]).to(out))


def _reference_hessian(
    model: nn.Module, batches: list[tuple[Tensor, Tensor]], loss_fn=F.cross_entropy
) -> Tensor:
    """``torch.autograd.functional.hessian`` of the mean loss over all samples, on the flat parameters."""
    names = [name for name, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    x = torch.cat([b[0] for b in batches])
    y = torch.cat([b[1] for b in batches])

    def loss(theta: Tensor) -> Tensor:
        chunks = theta.split([math.prod(s) for s in shapes])
        params = {n: c.view(s) for n, c, s in zip(names, chunks, shapes, strict=True)}
        return loss_fn(functional_call(model, params, (x,)), y)

    theta = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    model.eval()
    try:
        return torch.autograd.functional.hessian(loss, theta)
    finally:
        model.train()


def quadratic_loss(matrix: Tensor):
    return lambda out, _: 0.5 * out @ matrix @ out


ONE_BATCH = [(torch.zeros(1), torch.zeros(1))]


def _symmetric(eigenvalues: list[float], seed: int = 0) -> Tensor:
    generator = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(
        torch.randn(len(eigenvalues), len(eigenvalues), generator=generator, dtype=torch.float64)
    )
    return q @ torch.diag(torch.tensor(eigenvalues, dtype=torch.float64)) @ q.T


@pytest.mark.parametrize("batch_norm", [False, True])
def test_hvp_and_exact_hessian_match_autograd(batch_norm: bool) -> None:
    model, batches = _mlp(batch_norm=batch_norm), _batches((12, 8))
    reference = _reference_hessian(model, batches)
    n = reference.shape[0]
    assert n == sum(p.numel() for p in model.parameters())
    v = torch.randn(n, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    torch.testing.assert_close(
        hessian.hvp(model, F.cross_entropy, batches, v), reference @ v, rtol=1e-9, atol=1e-12
    )
    torch.testing.assert_close(hessian.exact_hessian(model, F.cross_entropy, iter(batches)), reference)


def test_hvp_skips_frozen_parameters() -> None:
    model, batches = _mlp(), _batches()
    full = _reference_hessian(model, batches)
    model[0].weight.requires_grad_(False)
    n_frozen = model[0].weight.numel()
    v = torch.randn(full.shape[0] - n_frozen, dtype=torch.float64)
    torch.testing.assert_close(
        hessian.hvp(model, F.cross_entropy, batches, v), full[n_frozen:, n_frozen:] @ v
    )
    with pytest.raises(ValueError, match="shape"):
        hessian.hvp(model, F.cross_entropy, batches, torch.zeros(3))


@pytest.mark.parametrize("k", [1, 3])
def test_top_eigenvalues_of_an_indefinite_mlp_hessian(k: int) -> None:
    model, batches = _mlp(width=16), _batches()
    exact = np.linalg.eigvalsh(_reference_hessian(model, batches).numpy())[::-1]
    assert exact[-1] < 0 < exact[0]  # indefinite
    assert exact.size > 100  # more parameters than Lanczos steps: convergence matters
    values, vectors = hessian.top_eigenvalues(model, F.cross_entropy, batches, k=k)
    np.testing.assert_allclose(values, exact[:k], rtol=1e-2)
    assert vectors.shape == (k, exact.size)
    for value, vector in zip(values, vectors, strict=True):
        residual = hessian.hvp(model, F.cross_entropy, batches, vector) - value * vector
        assert residual.norm() <= 1e-3 * abs(exact).max()
        assert vector.norm().item() == pytest.approx(1.0)


def test_top_eigenvalues_when_the_most_negative_eigenvalue_dominates(parameter_vector) -> None:
    spectrum = [-10.0, 5.0, 4.0, 3.0, *np.linspace(-2, 2, 196)]
    matrix = _symmetric(spectrum)
    model = parameter_vector(torch.ones(len(spectrum), dtype=torch.float64))
    values, _ = hessian.top_eigenvalues(model, quadratic_loss(matrix), ONE_BATCH, k=3)
    np.testing.assert_allclose(values, [5.0, 4.0, 3.0], rtol=1e-2)


def test_top_eigenvalues_with_repeated_eigenvalues(parameter_vector) -> None:
    matrix = torch.diag(torch.tensor([3.0, 1.0, 3.0, 0.5, 3.0, 1.0], dtype=torch.float64))
    model = parameter_vector(torch.ones(6, dtype=torch.float64))
    values, vectors = hessian.top_eigenvalues(model, quadratic_loss(matrix), ONE_BATCH, k=5)
    np.testing.assert_allclose(values, [3.0, 3.0, 3.0, 1.0, 1.0], rtol=1e-8)
    torch.testing.assert_close(vectors @ vectors.T, torch.eye(5, dtype=torch.float64))


def test_hutchinson_trace_within_five_percent() -> None:
    model, batches, n_samples = _mlp(), _batches(), 1500
    reference = _reference_hessian(model, batches, _mse)
    exact = reference.trace().item()
    off_diagonal = (reference**2).sum() - (reference.diagonal() ** 2).sum()
    assert 3 * math.sqrt(2 * off_diagonal.item() / n_samples) < 0.05 * exact  # a real test, not luck
    assert hessian.trace(model, _mse, batches, n_samples=n_samples) == pytest.approx(exact, rel=0.05)


def test_density_integrates_to_one_where_the_eigenvalues_are() -> None:
    model, batches = _mlp(), _batches()
    reference = _reference_hessian(model, batches)
    exact = np.linalg.eigvalsh(reference.numpy())
    n_runs = 10
    grid, density = hessian.density(model, F.cross_entropy, batches, n_iter=100, n_runs=n_runs)
    assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=1e-3)
    sigma = math.sqrt(1e-5 * max(1.0, exact[-1] - exact[0]))
    near = np.abs(grid[:, None] - exact[None, :]).min(axis=1) <= 5 * sigma
    assert np.trapezoid(density * near, grid) == pytest.approx(1.0, abs=1e-3)
    # The density's mean is the mean Rayleigh quotient of the Rademacher starts: tr(H) / n on average.
    n = exact.size
    std = math.sqrt(2 * ((reference**2).sum() - (reference.diagonal() ** 2).sum()).item() / n_runs) / n
    assert np.trapezoid(grid * density, grid) == pytest.approx(exact.mean(), abs=4 * std)


def test_density_with_few_lanczos_steps_and_explicit_grid() -> None:
    model, batches = _mlp(), _batches()
    grid = np.linspace(-5, 5, 20_001)
    out_grid, density = hessian.density(model, F.cross_entropy, batches, n_iter=8, sigma=0.05, grid=grid)
    np.testing.assert_array_equal(out_grid, grid)
    assert np.all(density >= 0)
    assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=1e-3)
