"""LAMB: layer-wise adaptive moments for large-batch training (You et al. 2020)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.optim import Optimizer
from torch.optim.optimizer import ParamsT


class LAMB(Optimizer):
    """Adam's bias-corrected step plus weight decay, rescaled for each parameter tensor by its trust ratio.

    For a tensor w with gradient g at step t (λ = ``weight_decay``): m ← β1 m + (1 − β1) g,
    v ← β2 v + (1 − β2) g², r = m̂ / (√v̂ + ε) with m̂ = m / (1 − β1^t), v̂ = v / (1 − β2^t), u = r + λ w and
    w ← w − lr · ‖w‖ / ‖u‖ · u (trust ratio 1 where either norm is 0), as in the paper's Algorithm 2 with
    φ the identity. With ``exclude_1d``, tensors with at most one dimension (biases, BatchNorm scales and
    shifts) take Adam's step w ← w − lr · r: no weight decay, no trust ratio.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 0.001,
        betas: Sequence[float] = (0.9, 0.999),
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        exclude_1d: bool = True,
    ) -> None:
        beta1, beta2 = (float(b) for b in betas)
        if not (lr > 0 and 0 <= beta1 < 1 and 0 <= beta2 < 1 and eps >= 0 and weight_decay >= 0):
            raise ValueError(
                "LAMB needs lr > 0, betas in [0, 1), eps >= 0 and weight_decay >= 0, got "
                f"{lr}, {tuple(betas)}, {eps}, {weight_decay}"
            )
        defaults = {
            "lr": lr,
            "betas": (beta1, beta2),
            "eps": eps,
            "weight_decay": weight_decay,
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
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                state["step"] += 1
                t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
                m.mul_(beta1).add_(p.grad, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                update = (m / (1 - beta1**t)) / ((v / (1 - beta2**t)).sqrt() + group["eps"])
                if p.ndim > 1 or not group["exclude_1d"]:
                    update.add_(p, alpha=group["weight_decay"])
                    w_norm, u_norm = torch.linalg.vector_norm(p), torch.linalg.vector_norm(update)
                    update.mul_(torch.where((w_norm > 0) & (u_norm > 0), w_norm / u_norm, 1.0))
                p.add_(update, alpha=-group["lr"])
        return loss
