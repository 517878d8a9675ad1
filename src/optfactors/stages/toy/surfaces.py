"""Two-parameter error surfaces of the lecture, as torch functions of a ``(..., 2)`` tensor.

Each is chosen so that the lecture's learning rates reproduce the lecture's behaviour; the docstrings say how.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Literal

import torch
from torch import Tensor


@dataclass(frozen=True)
class Surface:
    """A loss ``fn`` of two parameters, its global (or local) minimum, and the extent drawn in figures."""

    name: str
    fn: partial
    minimum: tuple[float, float]
    extent: tuple[float, float, float, float]  # x min, x max, y min, y max

    def __call__(self, w: Tensor) -> Tensor:
        return self.fn(w)


def _elongated(w: Tensor, flat: float, steep: float) -> Tensor:
    return 0.5 * (flat * w[..., 0] ** 2 + steep * w[..., 1] ** 2)


def elongated(flat: float = 1.0, steep: float = 200.0) -> Surface:
    """The lecture's convex valley ``L = (flat * w^2 + steep * b^2) / 2``, minimum at 0.

    ``steep = 200`` puts the lecture's learning rate 1e-2 exactly at the stability edge 2 / steep of the steep
    axis: plain GD's update of b is ``b <- (1 - 0.01 * 200) b = -b``, so it jumps from wall to wall with
    constant amplitude forever, and once w has settled the loss stops going down (150 -> 100, not 0).
    ``flat = 1`` makes lr 1e-7 crawl: after 100,000 updates w has moved by a factor
    ``(1 - 1e-7)^100000 = 0.99``, still far from the minimum.
    """
    return Surface(
        "elongated", partial(_elongated, flat=flat, steep=steep), (0.0, 0.0), (-12.0, 12.0, -2.0, 2.0)
    )


def _saddle_and_minimum(w: Tensor) -> Tensor:
    x, y = w[..., 0], w[..., 1]
    return x**4 + x**3 + y**2


def saddle_and_minimum() -> Surface:
    """``L = x^4 + x^3 + y^2``: a critical point at 0 that is no minimum (the gradient ``x^2 (4x + 3)`` and
    the curvature both vanish along x, L keeps falling for x < 0) and the minimum at (-3/4, 0), L = -27/256.
    GD from x > 0 slows down like 1/t as it nears 0 and never passes it; momentum carries it through."""
    return Surface("saddle_and_minimum", partial(_saddle_and_minimum), (-0.75, 0.0), (-1.2, 1.2, -0.8, 0.8))


def _three_class(w: Tensor, loss: str, other: float) -> Tensor:
    logits = torch.stack([w[..., 0], w[..., 1], torch.full_like(w[..., 0], other)], dim=-1)
    p = torch.softmax(logits, dim=-1)
    if loss == "cross_entropy":
        return -torch.log_softmax(logits, dim=-1)[..., 0]
    target = torch.zeros_like(p)
    target[..., 0] = 1.0
    return ((p - target) ** 2).sum(dim=-1)


def three_class(loss: Literal["cross_entropy", "mse"], other: float = -1000.0) -> Surface:
    """The lecture's classification example: logits (y1, y2, y3) with y3 fixed at -1000 and the target class
    1, as a function of (y1, y2) in [-10, 10]^2; ``cross_entropy`` or ``mse`` (squared error between
    softmax(y) and the one-hot target). In the high-loss corner (-10, 10) softmax is saturated: the MSE
    gradient is ~e^-20 while the cross-entropy gradient is ~1."""
    if loss not in ("cross_entropy", "mse"):
        raise ValueError(f"loss must be 'cross_entropy' or 'mse', got {loss!r}")
    return Surface(
        f"three_class_{loss}",
        partial(_three_class, loss=loss, other=other),
        (10.0, -10.0),
        (-10.0, 10.0, -10.0, 10.0),
    )
