"""The loss landscape around solutions: paths between two models and random perturbations of one.

Interpolation follows Goodfellow et al. (2015) and Keskar et al. (2017, Figure 3 and its curved path);
the random directions are Li et al.'s (2018) filter-normalised ones. Losses and accuracies are means
over samples, in eval mode; the models passed in are never modified.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from typing import Literal

import pandas as pd
import torch
from torch import Tensor, nn
from torch.func import functional_call
from torch.linalg import vector_norm
from torch.nn.modules.batchnorm import _BatchNorm

from optfactors.analysis.hessian import Batches, LossFn, eval_mode, mean_over_batches

__all__ = [
    "evaluate",
    "filter_normalized_direction",
    "interpolate",
    "random_perturbation",
    "random_plane",
    "recompute_bn_statistics",
]

Normalization = Literal["filter", "layer"]


def evaluate(
    model: nn.Module, loss_fn: LossFn, batches: Batches, params: dict[str, Tensor] | None = None
) -> tuple[float, float]:
    """Mean loss and accuracy over ``batches`` (weighted by batch size), in eval mode and without grad.

    Accuracy is the fraction of samples with ``argmax(model(x), dim=1) == y``. ``params`` (name -> tensor)
    replaces those parameters for this evaluation only (``torch.func.functional_call``). BatchNorm uses
    its running statistics.
    """

    def batch(x: Tensor, y: Tensor) -> Tensor:
        out = model(x) if params is None else functional_call(model, params, (x,))
        return torch.stack([loss_fn(out, y).double(), (out.argmax(dim=1) == y).double().mean()])

    with torch.no_grad(), eval_mode(model):
        loss, accuracy = mean_over_batches(batch, batches).tolist()
    return loss, accuracy


def recompute_bn_statistics(model: nn.Module, batches: Batches) -> None:
    """Reset every BatchNorm layer's running statistics and recompute them from ``batches``, in place.

    Only the BatchNorm layers run in train mode (dropout stays off), with ``momentum=None``: running_mean
    and running_var become the equal-weight averages over the batches of each batch's mean and unbiased
    variance. Forward passes without grad; modes and momenta are restored, parameters are untouched.
    """
    layers = [m for m in model.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]
    momenta = [layer.momentum for layer in layers]
    try:
        with torch.no_grad(), eval_mode(model):
            for layer in layers:
                layer.reset_running_stats()
                layer.momentum = None
                layer.train()
            for x, _ in batches:
                model(x)
    finally:
        for layer, momentum in zip(layers, momenta, strict=True):
            layer.momentum = momentum


def _coefficients(alpha: float, path: str) -> tuple[float, float]:
    """Weights of (theta_a, theta_b) at ``alpha``: linear ``(1 - a, a)``, curved ``(cos, sin)(a pi / 2)``."""
    if path == "linear":
        return 1 - alpha, alpha
    return math.cos(alpha * math.pi / 2), math.sin(alpha * math.pi / 2)


def interpolate(
    model_a: nn.Module,
    model_b: nn.Module,
    loss_fn: LossFn,
    batches: Batches,
    alphas: Iterable[float],
    path: Literal["linear", "curved"] = "linear",
    bn: Literal["interpolate", "recompute"] = "interpolate",
    statistics_batches: Batches | None = None,
) -> pd.DataFrame:
    """Loss and accuracy along a path from ``model_a`` (alpha = 0) to ``model_b`` (alpha = 1).

    ``path="linear"``: ``alpha theta_b + (1 - alpha) theta_a`` (Goodfellow et al.; Keskar et al.'s
    Figure 3); ``path="curved"``: ``sin(alpha pi / 2) theta_b + cos(alpha pi / 2) theta_a`` (Keskar et
    al.). Alphas outside [0, 1] extrapolate. Floating-point buffers follow the same path as the parameters;
    integer buffers (BatchNorm's num_batches_tracked) are model_a's. BatchNorm statistics, by ``bn``:

    - ``"interpolate"``: running_mean and running_var follow the path like parameters; running_var is
      clamped at 0 where extrapolation makes it negative.
    - ``"recompute"``: at each alpha they are recomputed from ``statistics_batches`` (default: ``batches``;
      pass the training batches to evaluate test batches with training statistics) by
      `recompute_bn_statistics` (train-mode BatchNorm, ``momentum=None``, no grad) before evaluating.

    Works on a deep copy of model_a; returns a DataFrame with columns alpha, loss, accuracy (`evaluate`).
    """
    if path not in ("linear", "curved"):
        raise ValueError(f"path must be 'linear' or 'curved', got {path!r}")
    if bn not in ("interpolate", "recompute"):
        raise ValueError(f"bn must be 'interpolate' or 'recompute', got {bn!r}")
    state_a, state_b = model_a.state_dict(), model_b.state_dict()
    if [(k, v.shape) for k, v in state_a.items()] != [(k, v.shape) for k, v in state_b.items()]:
        raise ValueError("model_a and model_b must have the same parameters and buffers (names and shapes)")
    batches = list(batches)
    statistics_batches = batches if statistics_batches is None else list(statistics_batches)
    model = copy.deepcopy(model_a)
    variances = {
        f"{name}.running_var".lstrip(".")
        for name, m in model.named_modules()
        if isinstance(m, _BatchNorm) and m.track_running_stats
    }
    rows = []
    for alpha in alphas:
        weight_a, weight_b = _coefficients(alpha, path)
        state = {
            name: weight_a * a + weight_b * state_b[name] if a.is_floating_point() else a
            for name, a in state_a.items()
        }
        for name in variances:
            state[name] = state[name].clamp(min=0)
        model.load_state_dict(state)
        if bn == "recompute":
            recompute_bn_statistics(model, statistics_batches)
        rows.append((float(alpha), *evaluate(model, loss_fn, batches)))
    return pd.DataFrame(rows, columns=["alpha", "loss", "accuracy"])


def filter_normalized_direction(
    model: nn.Module, generator: torch.Generator, normalization: Normalization = "filter"
) -> dict[str, Tensor]:
    """A random direction for every parameter of ``model`` (name -> tensor), normalised as Li et al. (2018).

    Parameters with dim >= 2 get standard normal entries drawn on the CPU from ``generator``, rescaled by
    ``normalization``: ``"filter"`` rescales each filter (slice along dim 0: a conv output channel, a row
    of a linear layer) to the norm of the same filter of the parameter, ``"layer"`` the whole tensor to the
    parameter's norm. Parameters with dim <= 1 (biases, BatchNorm weights and biases) get zeros.
    """
    if normalization not in ("filter", "layer"):
        raise ValueError(f"normalization must be 'filter' or 'layer', got {normalization!r}")
    direction = {}
    for name, p in model.named_parameters():
        weight = p.detach()
        if weight.dim() <= 1:
            direction[name] = torch.zeros_like(weight)
            continue
        d = torch.randn(weight.shape, generator=generator, dtype=weight.dtype).to(weight.device)
        dims = tuple(range(1, weight.dim())) if normalization == "filter" else None
        direction[name] = (
            d * vector_norm(weight, dim=dims, keepdim=True) / vector_norm(d, dim=dims, keepdim=True)
        )
    return direction


def _shifted(model: nn.Module, steps: Iterable[tuple[float, dict[str, Tensor]]]) -> dict[str, Tensor]:
    """The model's parameters plus ``sum_i c_i d_i`` for the ``(c_i, d_i)`` in ``steps``."""
    params = {name: p.detach() for name, p in model.named_parameters()}
    for scale, direction in steps:
        params = {name: p + scale * direction[name] for name, p in params.items()}
    return params


def random_perturbation(
    model: nn.Module,
    loss_fn: LossFn,
    batches: Batches,
    radii: Iterable[float],
    n_directions: int = 10,
    normalization: Normalization = "filter",
    seed: int = 0,
) -> pd.DataFrame:
    """Loss and accuracy at ``theta + r d`` for random normalised directions ``d`` (Li et al. 2018).

    The ``n_directions`` directions come from `filter_normalized_direction` with one generator seeded
    with ``seed``. Eval mode: BatchNorm uses the model's (unperturbed) running statistics. Returns a
    DataFrame with one row per direction and radius: direction, radius, loss, accuracy.
    """
    batches, radii = list(batches), list(radii)
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for index in range(n_directions):
        direction = filter_normalized_direction(model, generator, normalization)
        for r in radii:
            params = _shifted(model, [(r, direction)])
            rows.append((index, float(r), *evaluate(model, loss_fn, batches, params)))
    return pd.DataFrame(rows, columns=["direction", "radius", "loss", "accuracy"])


def random_plane(
    model: nn.Module,
    loss_fn: LossFn,
    batches: Batches,
    radii: Iterable[float],
    normalization: Normalization = "filter",
    seed: int = 0,
) -> pd.DataFrame:
    """Loss and accuracy on the plane ``theta + a d1 + b d2`` for a, b in ``radii`` (Li et al.'s contours).

    ``d1`` and ``d2`` are drawn in turn by `filter_normalized_direction` from one generator seeded with
    ``seed``. Eval mode (BatchNorm running statistics). Returns a DataFrame with one row per grid point:
    a, b, loss, accuracy.
    """
    batches, radii = list(batches), list(radii)
    generator = torch.Generator().manual_seed(seed)
    first = filter_normalized_direction(model, generator, normalization)
    second = filter_normalized_direction(model, generator, normalization)
    rows = []
    for a in radii:
        for b in radii:
            params = _shifted(model, [(a, first), (b, second)])
            rows.append((float(a), float(b), *evaluate(model, loss_fn, batches, params)))
    return pd.DataFrame(rows, columns=["a", "b", "loss", "accuracy"])
