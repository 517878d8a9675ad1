"""Every analysis function leaves the model's parameters, buffers and train/eval flags as it found them."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from optfactors.analysis import hessian, landscape, noise_scale, sharpness


def _model(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))
    with torch.no_grad():  # non-trivial running statistics
        model(torch.randn(16, 4) + seed)
    model.train()
    model[3].eval()  # mixed flags: each module's own flag must come back
    return model


def _batches() -> list[tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(1)
    return [
        (torch.randn(6, 4, generator=generator), torch.randint(0, 3, (6,), generator=generator))
        for _ in range(2)
    ]


MODEL_B = _model(1)
BATCHES = _batches()
LOSS = F.cross_entropy
ALL_IN_ONE = (torch.cat([x for x, _ in BATCHES]), torch.cat([y for _, y in BATCHES]))
N_PARAMS = sum(p.numel() for p in MODEL_B.parameters())

CALLS: dict[str, Callable[[nn.Module], object]] = {
    "hvp": lambda m: hessian.hvp(m, LOSS, BATCHES, torch.ones(N_PARAMS)),
    "exact_hessian": lambda m: hessian.exact_hessian(m, LOSS, BATCHES),
    "top_eigenvalues": lambda m: hessian.top_eigenvalues(m, LOSS, BATCHES, k=2, max_iter=10),
    "trace": lambda m: hessian.trace(m, LOSS, BATCHES, n_samples=3),
    "density": lambda m: hessian.density(m, LOSS, BATCHES, n_iter=5, n_runs=2),
    "epsilon_sharpness": lambda m: sharpness.epsilon_sharpness(m, LOSS, BATCHES, epsilon=1e-2),
    "epsilon_sharpness_subspace": lambda m: sharpness.epsilon_sharpness(m, LOSS, BATCHES, subspace_dim=4),
    "evaluate": lambda m: landscape.evaluate(m, LOSS, BATCHES),
    "interpolate_from": lambda m: landscape.interpolate(
        m, MODEL_B, LOSS, BATCHES, [-0.5, 0.5], bn="recompute"
    ),
    "interpolate_to": lambda m: landscape.interpolate(MODEL_B, m, LOSS, BATCHES, [0.5, 1.5], path="curved"),
    "random_perturbation": lambda m: landscape.random_perturbation(
        m, LOSS, BATCHES, [0.0, 0.1], n_directions=2
    ),
    "random_plane": lambda m: landscape.random_plane(m, LOSS, BATCHES, [0.0, 0.1]),
    "mean_gradient_norm_sq": lambda m: noise_scale.mean_gradient_norm_sq(m, LOSS, BATCHES),
    "measure_noise_scale": lambda m: noise_scale.measure_noise_scale(m, LOSS, BATCHES[:1], [ALL_IN_ONE]),
}


@pytest.mark.parametrize("name", CALLS)
def test_model_is_unchanged(name: str) -> None:
    model = _model(0)
    before = copy.deepcopy(model.state_dict())
    flags = [m.training for m in model.modules()]
    momenta = [m.momentum for m in model.modules() if isinstance(m, nn.BatchNorm1d)]
    b_before = copy.deepcopy(MODEL_B.state_dict())
    CALLS[name](model)
    after = model.state_dict()
    assert after.keys() == before.keys()
    for key, value in before.items():
        assert torch.equal(after[key], value), key
    for key, value in b_before.items():
        assert torch.equal(MODEL_B.state_dict()[key], value), key
    assert [m.training for m in model.modules()] == flags
    assert [m.momentum for m in model.modules() if isinstance(m, nn.BatchNorm1d)] == momenta
    assert all(p.requires_grad and p.grad is None for p in model.parameters())
