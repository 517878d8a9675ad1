"""Run an optimizer on a two-parameter surface and keep its path; exponentially weighted averages."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from optfactors.optim import OptimizerFactory, ScheduleFactory
from optfactors.stages.toy.surfaces import Surface


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


def thin(path: pd.DataFrame, max_points: int, columns: Sequence[str]) -> pd.DataFrame:
    """At most ``max_points`` rows of ``path`` to store and draw, without aliasing: every row when they fit;
    else, in consecutive windows of rows, the rows where each of ``columns`` is smallest and largest, and
    the first and last rows. An oscillation keeps its swing and a burst its peak (every k-th row would turn
    a sign flip at every update into a constant at stride 2)."""
    if len(path) <= max_points:
        return path
    windows = max(1, (max_points - 2) // (2 * len(columns)))
    window = np.arange(len(path)) // math.ceil(len(path) / windows)
    kept = {0, len(path) - 1}
    for column in columns:
        values = pd.Series(path[column].to_numpy()).dropna()
        grouped = values.groupby(window[values.index])
        kept.update(grouped.idxmin())
        kept.update(grouped.idxmax())
    return path.iloc[sorted(kept)]


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
