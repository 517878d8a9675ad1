"""ε-sharpness of separable quadratics against its closed form (the maximum sits at a corner of the box)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from optfactors.analysis.sharpness import epsilon_sharpness

CURVATURES = torch.tensor([4.0, 1.0, 0.5, 2.0, 0.1, 3.0, 1.5, 0.2], dtype=torch.float64)
THETA = torch.tensor([0.5, -1.0, 2.0, -0.3, 1.2, 0.8, -2.5, 0.05], dtype=torch.float64)
ONE_BATCH = [(torch.zeros(1), torch.zeros(1))]


def separable_quadratic(out: Tensor, _: Tensor) -> Tensor:
    """``f(theta) = 1/2 sum_i h_i theta_i^2`` plus a constant, so that ``1 + f(x)`` is not ~1."""
    return 0.5 * (CURVATURES * out**2).sum() + 0.25


def _phi(f_max: float) -> float:
    f_x = separable_quadratic(THETA, THETA).item()
    return (f_max - f_x) / (1 + f_x) * 100


@pytest.mark.parametrize("epsilon", [1e-3, 5e-2])
def test_full_space_sharpness_of_a_separable_quadratic(epsilon: float, parameter_vector) -> None:
    # f is convex and separable: the maximum over the box is the corner y_i = sign(x_i) eps (|x_i| + 1).
    corner = THETA + THETA.sign() * epsilon * (THETA.abs() + 1)
    expected = _phi(separable_quadratic(corner, corner).item())
    model = parameter_vector(THETA)
    assert epsilon_sharpness(model, separable_quadratic, ONE_BATCH, epsilon=epsilon) == pytest.approx(
        expected
    )


def test_subspace_sharpness_of_a_separable_quadratic(parameter_vector) -> None:
    epsilon, p, seed = 1e-2, 3, 7
    # The documented random subspace, and the exact maximum over the 2^p corners of its box.
    basis = torch.randn(THETA.numel(), p, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    coords = torch.linalg.lstsq(basis, THETA).solution
    bound = epsilon * (coords.abs() + 1)
    corners = [
        THETA + basis @ (torch.tensor(signs, dtype=torch.float64) * bound)
        for signs in itertools.product([-1, 1], repeat=p)
    ]
    expected = _phi(max(separable_quadratic(c, c).item() for c in corners))
    model = parameter_vector(THETA)
    phi = epsilon_sharpness(model, separable_quadratic, ONE_BATCH, epsilon=epsilon, subspace_dim=p, seed=seed)
    assert phi == pytest.approx(expected)


def test_sharpness_is_nonnegative_on_an_mlp_and_grows_with_epsilon() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    generator = torch.Generator().manual_seed(1)
    batches = [
        (torch.randn(16, 4, generator=generator), torch.randint(0, 3, (16,), generator=generator))
        for _ in range(2)
    ]
    loss_fn = nn.functional.cross_entropy
    small, large = (epsilon_sharpness(model, loss_fn, batches, epsilon=eps) for eps in (1e-3, 1e-1))
    assert 0 < small < large
    assert np.isfinite(epsilon_sharpness(model, loss_fn, batches, subspace_dim=5))


def test_rejects_bad_arguments(parameter_vector) -> None:
    model = parameter_vector(THETA)
    with pytest.raises(ValueError, match="epsilon"):
        epsilon_sharpness(model, separable_quadratic, ONE_BATCH, epsilon=0)
    with pytest.raises(ValueError, match="subspace_dim"):
        epsilon_sharpness(model, separable_quadratic, ONE_BATCH, subspace_dim=THETA.numel() + 1)


def test_adaptive_sharpness_of_a_separable_quadratic(parameter_vector) -> None:
    # Adaptive box |y_i| <= eps |x_i| (no + 1): the maximum is the corner x_i (1 + eps sign(x_i) sign(x_i)).
    epsilon = 5e-2
    corner = THETA * (1 + epsilon)
    expected = _phi(separable_quadratic(corner, corner).item())
    model = parameter_vector(THETA)
    phi = epsilon_sharpness(model, separable_quadratic, ONE_BATCH, epsilon=epsilon, adaptive=True)
    assert phi == pytest.approx(expected)


def _two_layer_net(alpha: float) -> nn.Module:
    """A bias-free ReLU net whose first layer is scaled by alpha and second by 1/alpha: the same function
    for every alpha > 0 (Dinh et al. 2017's reparametrisation)."""
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(4, 6, bias=False), nn.ReLU(), nn.Linear(6, 3, bias=False)).double()
    with torch.no_grad():
        model[0].weight.mul_(alpha)
        model[2].weight.div_(alpha)
    return model


def test_adaptive_sharpness_is_invariant_to_layer_rescaling_and_keskars_is_not() -> None:
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(32, 4, generator=generator, dtype=torch.float64)
    batches = [(x, torch.randint(0, 3, (32,), generator=generator))]
    loss_fn = nn.functional.cross_entropy
    same, scaled = _two_layer_net(1.0), _two_layer_net(8.0)
    assert torch.allclose(same(x), scaled(x))
    adaptive = [epsilon_sharpness(m, loss_fn, batches, epsilon=1e-2, adaptive=True) for m in (same, scaled)]
    keskar = [epsilon_sharpness(m, loss_fn, batches, epsilon=1e-2) for m in (same, scaled)]
    assert adaptive[0] > 0
    assert adaptive[1] == pytest.approx(adaptive[0], rel=1e-6)
    assert abs(keskar[1] - keskar[0]) > 0.1 * keskar[0]
