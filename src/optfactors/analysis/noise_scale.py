"""McCandlish et al.'s (2018) simple gradient noise scale ``B_simple = tr(Sigma) / |G|^2``."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn
from torch.func import grad

from optfactors.analysis.hessian import Batches, LossFn, eval_mode, flat_parameters, functional_loss

__all__ = ["NoiseScale", "mean_gradient_norm_sq", "measure_noise_scale", "simple_noise_scale"]


class NoiseScale(NamedTuple):
    """``b_simple = trace_sigma / grad_norm_sq`` and its two estimated parts."""

    b_simple: float
    trace_sigma: float
    grad_norm_sq: float


def simple_noise_scale(
    grad_norm_sq_small: float, grad_norm_sq_big: float, b_small: int, b_big: int
) -> NoiseScale:
    """``B_simple`` from squared norms of mini-batch gradients at two batch sizes (McCandlish et al., App. A).

    As ``E|G_B|^2 = |G|^2 + tr(Sigma) / B``, the unbiased estimates are
    ``|G|^2 = (B_big |G_big|^2 - B_small |G_small|^2) / (B_big - B_small)`` and
    ``tr(Sigma) = (|G_small|^2 - |G_big|^2) / (1 / B_small - 1 / B_big)``. Both are linear in the inputs,
    so averaging the inputs over many measurements first (the paper's advice, before taking the ratio)
    equals averaging the estimates. ``b_simple`` is nan when the ``|G|^2`` estimate is 0, and negative
    when noise makes that estimate negative.
    """
    if not 0 < b_small < b_big:
        raise ValueError(f"need 0 < b_small < b_big, got {b_small} and {b_big}")
    grad_norm_sq = (b_big * grad_norm_sq_big - b_small * grad_norm_sq_small) / (b_big - b_small)
    trace_sigma = (grad_norm_sq_small - grad_norm_sq_big) / (1 / b_small - 1 / b_big)
    b_simple = trace_sigma / grad_norm_sq if grad_norm_sq else math.nan
    return NoiseScale(float(b_simple), float(trace_sigma), float(grad_norm_sq))


def mean_gradient_norm_sq(model: nn.Module, loss_fn: LossFn, batches: Batches) -> float:
    """The mean over ``batches`` of ``|grad L_b|^2``, each batch's mean-loss gradient.

    Gradients are taken w.r.t. the parameters that require grad, in eval mode (BatchNorm running
    statistics, dropout off); the model is not modified.
    """
    with eval_mode(model):
        theta = flat_parameters(model)
        grad_f = grad(functional_loss(model, loss_fn))
        norms = [grad_f(theta, x, y).square().sum() for x, y in batches]
    if not norms:
        raise ValueError("batches is empty")
    return torch.stack(norms).mean().item()


def _batch_size(batches: Batches, name: str) -> int:
    sizes = {len(x) for x, _ in batches}
    if len(sizes) != 1:
        raise ValueError(f"{name} must be non-empty with one batch size, got sizes {sorted(sizes)}")
    return sizes.pop()


def measure_noise_scale(
    model: nn.Module, loss_fn: LossFn, batches_small: Batches, batches_big: Batches
) -> NoiseScale:
    """`simple_noise_scale` from `mean_gradient_norm_sq` on small and big batches (each of one size)."""
    batches_small, batches_big = list(batches_small), list(batches_big)
    return simple_noise_scale(
        mean_gradient_norm_sq(model, loss_fn, batches_small),
        mean_gradient_norm_sq(model, loss_fn, batches_big),
        _batch_size(batches_small, "batches_small"),
        _batch_size(batches_big, "batches_big"),
    )
