"""Optimizers that follow the lecture's formulas where torch's differ."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor
from torch.optim import Optimizer


class LectureAdagrad(Optimizer):
    """Adagrad as in the lecture: ``theta_{t+1} = theta_t - lr / sigma_t * g_t`` with
    ``sigma_t = sqrt(mean_{i<=t} g_i^2)``, the root of the *mean* of all squared gradients so far.

    torch.optim.Adagrad divides by the root of their *sum* (``sqrt(sum_i g_i^2) + eps``), which only grows;
    the mean shrinks again once gradients become small, so the effective step ``lr / sigma_t`` grows back,
    which is what produces the lecture's sudden bursts near a minimum. ``eps`` is added to sigma_t.
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-2, eps: float = 1e-10) -> None:
        if lr <= 0 or eps < 0:
            raise ValueError(f"lr must be > 0 and eps >= 0, got {lr} and {eps}")
        super().__init__(params, {"lr": lr, "eps": eps})

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:
        """One update of every parameter with a gradient."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"], state["mean_square"] = 0, torch.zeros_like(p)
                state["step"] += 1
                state["mean_square"] += (p.grad**2 - state["mean_square"]) / state["step"]
                p -= group["lr"] * p.grad / (state["mean_square"].sqrt() + group["eps"])
        return loss
