"""Run an optimizer on a two-parameter surface and keep its path; exponentially weighted averages."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from optfactors.toy.surfaces import Surface

OptimizerFactory = Callable[[list[torch.Tensor]], Optimizer]
ScheduleFactory = Callable[[Optimizer, int], LRScheduler]


def trajectory(
    surface: Surface,
    start: Sequence[float],
    optimizer: OptimizerFactory,
    steps: int,
    schedule: ScheduleFactory | None = None,
) -> pd.DataFrame:
    """The path of ``optimizer`` (a factory taking the parameter list) from ``start`` over ``steps`` updates.

    The two parameters are one float64 tensor. ``schedule(optimizer, steps)`` (the project's schedule
    signature) steps after every update. Returns step, x, y, loss, grad_norm and lr at every step; a
    non-finite loss ends the path there.
    """
    w = torch.tensor(list(start), dtype=torch.float64, requires_grad=True)
    opt = optimizer([w])
    scheduler = schedule(opt, steps) if schedule is not None else None
    rows = []
    for t in range(steps + 1):
        loss = surface(w)
        (gradient,) = torch.autograd.grad(loss, w)
        finite = bool(torch.isfinite(loss))
        x, y = w.detach().tolist()
        rows.append((t, x, y, loss.item(), gradient.norm().item(), opt.param_groups[0]["lr"]))
        if t == steps or not finite:
            break
        w.grad = gradient
        opt.step()
        if scheduler is not None:
            scheduler.step()
    return pd.DataFrame(rows, columns=["step", "x", "y", "loss", "grad_norm", "lr"])


def thin(path: pd.DataFrame, max_points: int) -> pd.DataFrame:
    """Every ``ceil(len(path) / max_points)``-th row of ``path`` and its last one (to store and draw)."""
    stride = max(1, math.ceil(len(path) / max_points))
    kept = path.iloc[::stride]
    return kept if kept.index[-1] == path.index[-1] else pd.concat([kept, path.iloc[[-1]]])


def weighted_averages(values: Sequence[float], beta: float) -> pd.DataFrame:
    """Exponentially weighted averages ``v_t = beta v_{t-1} + (1 - beta) g_t`` from ``v_0 = 0``, without and
    with Adam's bias correction ``v_t / (1 - beta^t)``, for t = 1 .. len(values)."""
    raw, v = [], 0.0
    for g in values:
        v = beta * v + (1 - beta) * g
        raw.append(v)
    t = np.arange(1, len(raw) + 1)
    return pd.DataFrame(
        {"step": t, "value": list(values), "average": raw, "corrected": np.array(raw) / (1 - beta**t)}
    )
