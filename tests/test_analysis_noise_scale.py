"""The simple noise scale on synthetic numbers and on a model with known gradient statistics."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from optfactors.analysis.noise_scale import mean_gradient_norm_sq, measure_noise_scale, simple_noise_scale


def test_recovers_a_known_noise_scale_from_expected_norms() -> None:
    grad_norm_sq, trace_sigma = 4.0, 100.0
    expected = {b: grad_norm_sq + trace_sigma / b for b in (10, 100)}  # E|G_B|^2 = |G|^2 + tr(Sigma) / B
    scale = simple_noise_scale(expected[10], expected[100], 10, 100)
    assert scale.grad_norm_sq == pytest.approx(grad_norm_sq)
    assert scale.trace_sigma == pytest.approx(trace_sigma)
    assert scale.b_simple == pytest.approx(25.0)
    with pytest.raises(ValueError, match="b_small < b_big"):
        simple_noise_scale(1.0, 1.0, 100, 10)


class Mean(nn.Module):
    """``loss = mean_i x_i . theta``: the per-sample gradient is ``x_i``, so G = E[x] and Sigma = Cov(x)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.theta = nn.Parameter(torch.zeros(dim))

    def forward(self, x: Tensor) -> Tensor:
        return x @ self.theta


def _mean_loss(out: Tensor, _: Tensor) -> Tensor:
    return out.mean()


def _samples(n_batches: int, size: int, generator: torch.Generator) -> list[tuple[Tensor, Tensor]]:
    mean, std = torch.tensor([1.0, -1.0, 0.5, 0.5, 0.0]), 2.0  # |G|^2 = 2.5, tr(Sigma) = 5 * 4 = 20
    return [
        (mean + std * torch.randn(size, 5, generator=generator), torch.zeros(size)) for _ in range(n_batches)
    ]


def test_mean_gradient_norm_sq_is_the_mean_of_batch_gradient_norms() -> None:
    batches = _samples(3, 8, torch.Generator().manual_seed(0))
    expected = sum(x.mean(dim=0).square().sum().item() for x, _ in batches) / 3
    assert mean_gradient_norm_sq(Mean(5), _mean_loss, batches) == pytest.approx(expected)


def test_measure_noise_scale_recovers_the_gradient_statistics() -> None:
    generator = torch.Generator().manual_seed(0)
    scale = measure_noise_scale(
        Mean(5), _mean_loss, _samples(4000, 4, generator), _samples(1000, 64, generator)
    )
    assert scale.grad_norm_sq == pytest.approx(2.5, rel=0.05)
    assert scale.trace_sigma == pytest.approx(20.0, rel=0.05)
    assert scale.b_simple == pytest.approx(8.0, rel=0.1)
    with pytest.raises(ValueError, match="one batch size"):
        measure_noise_scale(
            Mean(5),
            _mean_loss,
            _samples(2, 4, generator) + _samples(1, 3, generator),
            _samples(2, 8, generator),
        )
