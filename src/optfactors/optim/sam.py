"""Sharpness-aware minimization (Foret et al. 2021) as a wrapper around any ``torch.optim`` optimizer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.optim import Optimizer
from torch.optim.optimizer import ParamsT


class SAM(Optimizer):
    """SAM: the base optimizer's step taken with the gradient at the worst nearby point w + ρ g / ‖g‖.

    ``step(closure)`` calls ``closure`` (zero the gradients, forward, backward, return the loss) at w, moves
    every parameter to w + ρ g / ‖g‖ (‖g‖ the norm over all parameters together), calls ``closure`` again
    there, puts the parameters back to w exactly and lets ``base`` step with that second gradient. It
    returns the loss at w. ``base`` builds the base optimizer from parameter groups (e.g.
    ``partial(torch.optim.SGD)``) and ``base_options`` (lr, momentum, ...) are its options; both
    optimizers share one list of parameter groups, so schedules and ``param_groups[0]["lr"]`` work as
    usual, and ``state_dict`` is the base optimizer's. Under Lightning's automatic optimization the closure
    is the training step, so it runs twice per update; ``perturbed`` is True during the second call, so the
    step can leave metrics and BatchNorm running statistics to the first.
    """

    def __init__(
        self, params: ParamsT, base: Callable[..., Optimizer], rho: float = 0.05, **base_options: Any
    ) -> None:
        if not rho > 0:
            raise ValueError(f"rho must be positive, got {rho}")
        super().__init__(params, {"rho": rho})
        self.perturbed = False
        self.base = base(self.param_groups, **base_options)
        self.param_groups = self.base.param_groups

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        if closure is None:
            raise ValueError("SAM needs a closure that recomputes the loss and its gradient")
        with torch.enable_grad():
            loss = closure()
        grads = [p.grad for group in self.param_groups for p in group["params"] if p.grad is not None]
        norm = torch.nn.utils.get_total_norm(grads)
        saved: list[tuple[torch.Tensor, torch.Tensor]] = []
        for group in self.param_groups:
            scale = group["rho"] / (norm + 1e-12)
            for p in group["params"]:
                if p.grad is not None:
                    saved.append((p, p.detach().clone()))
                    p.add_(p.grad * scale)
        self.perturbed = True
        try:
            with torch.enable_grad():
                closure()
        finally:
            self.perturbed = False
        for p, w in saved:
            p.copy_(w)
        self.base.step()
        return loss

    def state_dict(self) -> dict[str, Any]:
        return self.base.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.base.load_state_dict(state_dict)
        self.param_groups = self.base.param_groups
