"""Learning-rate schedules with one signature: ``schedule(optimizer, total_steps, **options)``.

``total_steps`` is the number of times the schedule will be stepped over the whole run (updates for
``interval: step``, epochs for ``interval: epoch``); schedules that do not need it ignore it. A run that only
early stopping ends (trainer.max_epochs = max_steps = -1) has no length: it takes a schedule whose
``total_steps`` has a default (`constant`, torch's classes). Each returns
a ``torch.optim.lr_scheduler.LRScheduler`` whose factor multiplies the optimizer's configured ``lr``.
A scheduler config may as well name a ``torch.optim.lr_scheduler`` class itself (``_partial_: true``):
``total_steps`` is passed only to a schedule that has that parameter.
"""

from __future__ import annotations

import math

from torch.optim import Optimizer
from torch.optim.lr_scheduler import ExponentialLR, LambdaLR, LRScheduler, StepLR


def constant(optimizer: Optimizer, total_steps: int | None = None) -> LRScheduler:
    """Keep the learning rate fixed (any run length, none included)."""
    return LambdaLR(optimizer, lambda s: 1.0)


def step(optimizer: Optimizer, total_steps: int, step_size: int, gamma: float) -> LRScheduler:
    """Multiply the learning rate by ``gamma`` every ``step_size`` steps."""
    return StepLR(optimizer, step_size=step_size, gamma=gamma)


def exponential(optimizer: Optimizer, total_steps: int, gamma: float) -> LRScheduler:
    """Multiply the learning rate by ``gamma`` every step."""
    return ExponentialLR(optimizer, gamma=gamma)


def cosine_factor(progress: float, min_lr_ratio: float) -> float:
    """Cosine decay from 1 at ``progress = 0`` to ``min_lr_ratio`` at ``progress >= 1``."""
    progress = min(max(progress, 0.0), 1.0)
    return min_lr_ratio + (1.0 - min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def cosine(optimizer: Optimizer, total_steps: int, min_lr_ratio: float = 0.0) -> LRScheduler:
    """Cosine decay over the whole run."""
    return LambdaLR(optimizer, lambda s: cosine_factor(s / max(total_steps, 1), min_lr_ratio))


def warmup_cosine(
    optimizer: Optimizer, total_steps: int, warmup_steps: int, min_lr_ratio: float = 0.0
) -> LRScheduler:
    """Linear warm-up over ``warmup_steps`` steps, then cosine decay until ``total_steps``.

    The update with index s (0-based) uses ``lr * (s + 1) / warmup_steps`` while s < warmup_steps, so the
    first update already moves and the peak ``lr`` is reached at s = warmup_steps - 1.
    """

    def factor(s: int) -> float:
        if s < warmup_steps:
            return (s + 1) / warmup_steps
        return cosine_factor((s - warmup_steps) / max(total_steps - warmup_steps, 1), min_lr_ratio)

    return LambdaLR(optimizer, factor)


def warmup_constant(optimizer: Optimizer, total_steps: int, warmup_steps: int) -> LRScheduler:
    """Linear warm-up over ``warmup_steps`` steps (as in `warmup_cosine`), then the optimizer's ``lr``."""
    return LambdaLR(optimizer, lambda s: min((s + 1) / warmup_steps, 1.0))


def inverse_sqrt(optimizer: Optimizer, total_steps: int, warmup_steps: int) -> LRScheduler:
    """The Transformer's warm-up: ``lr * min(n / w, sqrt(w / n))`` at update number n = s + 1.

    Vaswani et al. use ``d_model**-0.5 * min(n**-0.5, n * w**-1.5)``; this is the same curve scaled so
    that its peak, at n = w, equals the optimizer's ``lr``.
    """
    return LambdaLR(optimizer, lambda s: min((s + 1) / warmup_steps, math.sqrt(warmup_steps / (s + 1))))
