"""LARS and LAMB against hand computations of one and two steps on small tensors (gradients set by hand)."""

from __future__ import annotations

import math

import pytest
import torch
from hydra.utils import instantiate

from optfactors.optim import LAMB, LARS


def _param(values: list) -> torch.nn.Parameter:
    return torch.nn.Parameter(torch.tensor(values, dtype=torch.float64))


def _step(opt: torch.optim.Optimizer, grads: dict[torch.nn.Parameter, list]) -> None:
    for p, g in grads.items():
        p.grad = torch.tensor(g, dtype=torch.float64)
    opt.step()


def _expect(p: torch.Tensor, values: list) -> None:
    torch.testing.assert_close(p.detach(), torch.tensor(values, dtype=torch.float64), rtol=1e-12, atol=1e-12)


def test_lars_two_steps_with_momentum_weight_decay_and_trust_ratio():
    w, bias = _param([[3.0, 0.0], [0.0, 4.0]]), _param([1.0, -1.0])
    opt = LARS([w, bias], lr=0.5, momentum=0.9, weight_decay=0.1, trust_coefficient=0.02)
    # Step 1, weight: |w| = 5, |g| = 1, ratio = 0.02 * 5 / (1 + 0.1 * 5) = 1/15;
    # v = (g + 0.1 w) / 15 = [[0.9, 0], [0, 1.2]] / 15 = [[0.06, 0], [0, 0.08]]; w -= 0.5 v.
    # Bias (1-d, excluded): no decay, no ratio: v = g = (0.5, 0.5); b = (1, -1) - 0.5 v = (0.75, -1.25).
    _step(opt, {w: [[0.6, 0.0], [0.0, 0.8]], bias: [0.5, 0.5]})
    _expect(w, [[2.97, 0.0], [0.0, 3.96]])
    _expect(bias, [0.75, -1.25])
    # Step 2, weight: |w| = 0.99 * 5 = 4.95, |g| = 0.5, ratio = 0.02 * 4.95 / (0.5 + 0.495);
    # v = 0.9 v + ratio * (g + 0.1 w) with g + 0.1 w = [[0.3 + 0.297, 0], [0, -0.4 + 0.396]].
    # Bias: v = 0.9 (0.5, 0.5) + (-1, 0) = (-0.55, 0.45); b = (0.75, -1.25) - 0.5 v = (1.025, -1.475).
    ratio = 0.02 * 4.95 / 0.995
    v = (0.9 * 0.06 + ratio * 0.597, 0.9 * 0.08 + ratio * -0.004)
    _step(opt, {w: [[0.3, 0.0], [0.0, -0.4]], bias: [-1.0, 0.0]})
    _expect(w, [[2.97 - 0.5 * v[0], 0.0], [0.0, 3.96 - 0.5 * v[1]]])
    _expect(bias, [1.025, -1.475])


def test_lars_without_exclusion_scales_the_bias_and_a_zero_tensor_takes_the_plain_step():
    bias, zero = _param([1.0, -1.0]), _param([[0.0, 0.0]])
    opt = LARS([bias, zero], lr=0.5, momentum=0.0, weight_decay=0.1, trust_coefficient=0.02, exclude_1d=False)
    # Bias: |b| = sqrt 2, |g| = sqrt 0.5, ratio = 0.02 sqrt 2 / (sqrt 0.5 + 0.1 sqrt 2) = 0.02 / 0.6 = 1/30;
    # step = 0.5 / 30 * (g + 0.1 b) = (0.6, 0.4) / 60. Zero tensor: ratio 1, step = 0.5 g.
    _step(opt, {bias: [0.5, 0.5], zero: [[1.0, -2.0]]})
    _expect(bias, [1.0 - 0.6 / 60, -1.0 - 0.4 / 60])
    _expect(zero, [[-0.5, 1.0]])


def test_lamb_two_steps_with_bias_correction_weight_decay_and_trust_ratio():
    w, bias = _param([[3.0, 4.0]]), _param([2.0])
    opt = LAMB([w, bias], lr=0.1, betas=(0.9, 0.999), eps=0.0, weight_decay=0.1)
    # Step 1: bias-corrected m = g, v = g^2, so r = g / |g| = (1, -1); u = r + 0.1 w = (1.3, -0.6);
    # trust ratio |w| / |u| = 5 / sqrt(2.05); w -= 0.1 * ratio * u.
    # Bias (1-d, excluded): Adam's step r = 0.5 / 0.5 = 1, b = 2 - 0.1 = 1.9.
    _step(opt, {w: [[1.0, -2.0]], bias: [0.5]})
    ratio = 5 / math.sqrt(2.05)
    w1 = [3.0 - 0.1 * ratio * 1.3, 4.0 + 0.1 * ratio * 0.6]
    _expect(w, [w1])
    _expect(bias, [1.9])
    # Step 2 with g = (2, 1): m = 0.9 (0.1, -0.2) + 0.1 (2, 1) = (0.29, -0.08), corrected by 1 - 0.9^2 = 0.19;
    # v = 0.999 (0.001, 0.004) + 0.001 (4, 1) = (0.004999, 0.004996), corrected by 1 - 0.999^2 = 0.001999.
    r = [0.29 / 0.19 / math.sqrt(0.004999 / 0.001999), -0.08 / 0.19 / math.sqrt(0.004996 / 0.001999)]
    u = [r[0] + 0.1 * w1[0], r[1] + 0.1 * w1[1]]
    ratio = math.hypot(*w1) / math.hypot(*u)
    # Bias with g = -1: m = 0.9 * 0.05 - 0.1 = -0.055, v = 0.999 * 0.00025 + 0.001 = 0.00124975.
    r_bias = -0.055 / 0.19 / math.sqrt(0.00124975 / 0.001999)
    _step(opt, {w: [[2.0, 1.0]], bias: [-1.0]})
    _expect(w, [[w1[0] - 0.1 * ratio * u[0], w1[1] - 0.1 * ratio * u[1]]])
    _expect(bias, [1.9 - 0.1 * r_bias])


def test_lamb_without_exclusion_gives_the_bias_weight_decay_and_a_trust_ratio():
    bias = _param([2.0])
    opt = LAMB([bias], lr=0.1, eps=0.0, weight_decay=0.1, exclude_1d=False)
    # r = 1, u = 1 + 0.1 * 2 = 1.2, ratio = 2 / 1.2: b = 2 - 0.1 * (2 / 1.2) * 1.2 = 1.8.
    _step(opt, {bias: [0.5]})
    _expect(bias, [1.8])


@pytest.mark.parametrize(("choice", "cls"), [("lars", LARS), ("lamb", LAMB)])
def test_the_optimizer_configs_build_them(make_cfg, choice, cls):
    cfg = make_cfg(f"optimizer={choice}")
    opt = instantiate(cfg.optimizer)([torch.nn.Parameter(torch.ones(2, 2))])
    assert type(opt) is cls and opt.param_groups[0]["lr"] == cfg.optimizer.lr
    assert opt.param_groups[0]["exclude_1d"] is True
