"""LARS: layer-wise adaptive rate scaling (You, Gitman & Ginsburg 2017)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.optim import Optimizer
from torch.optim.optimizer import ParamsT


class LARS(Optimizer):
    """SGD with momentum whose step for each parameter tensor is scaled by that tensor's trust ratio.

    For a tensor w with gradient g (η = ``trust_coefficient``, β = ``weight_decay``, μ = ``momentum``):
    local rate λ = η ‖w‖ / (‖g‖ + β ‖w‖) (1 where ‖w‖ or the denominator is 0), v ← μ v + λ (g + β w),
    w ← w − lr · v. The global ``lr`` multiplies outside the momentum buffer, as in ``torch.optim.SGD``
    (the paper puts it inside, which differs only while lr changes). With ``exclude_1d``, tensors with at
    most one dimension (biases, BatchNorm scales and shifts) get neither weight decay nor a trust ratio:
    v ← μ v + g.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        trust_coefficient: float = 0.001,
        exclude_1d: bool = True,
    ) -> None:
        if not (lr > 0 and 0 <= momentum < 1 and weight_decay >= 0 and trust_coefficient > 0):
            raise ValueError(
                "LARS needs lr > 0, 0 <= momentum < 1, weight_decay >= 0 and trust_coefficient > 0, got "
                f"{lr}, {momentum}, {weight_decay}, {trust_coefficient}"
            )
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "weight_decay": weight_decay,
            "trust_coefficient": trust_coefficient,
            "exclude_1d": exclude_1d,
        }
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            decay = group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                update = p.grad
                if p.ndim > 1 or not group["exclude_1d"]:
                    w_norm, g_norm = torch.linalg.vector_norm(p), torch.linalg.vector_norm(update)
                    denominator = g_norm + decay * w_norm
                    scaled = group["trust_coefficient"] * w_norm / denominator
                    update = (update + decay * p) * torch.where((w_norm > 0) & (denominator > 0), scaled, 1.0)
                if group["momentum"]:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = torch.zeros_like(p)
                    update = state["momentum_buffer"].mul_(group["momentum"]).add_(update)
                p.add_(update, alpha=-group["lr"])
        return loss
