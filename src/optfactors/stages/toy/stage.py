"""The analysis stage of ``experiments/toy.yaml``: every 2-D demonstration of the lecture in one run.

Rows of the record's long table (``curves.csv``), told apart by ``table``: ``surface`` (the loss on a grid,
for contours), ``path`` (each optimizer path: every update, or for long ones the extremes of x and y in
each window of updates, `thin`), ``path_summary`` (numbers computed from every update of each path: where
it ended, how close it came, bursts) and ``ewa`` (weighted averages).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig

from optfactors.run.lifecycle import Rows, Run, Stage, subtrees
from optfactors.stages.publish import publish
from optfactors.stages.toy.surfaces import Surface
from optfactors.stages.toy.trajectory import thin, trajectory, weighted_averages

log = logging.getLogger("optfactors")


def surface_rows(surface: Surface, points: int) -> Rows:
    """The loss of ``surface`` on a ``points`` x ``points`` grid over its extent."""
    x0, x1, y0, y1 = surface.extent
    xs, ys = np.linspace(x0, x1, points), np.linspace(y0, y1, points)
    grid = torch.tensor(np.stack(np.meshgrid(xs, ys), axis=-1), dtype=torch.float64)
    with torch.no_grad():
        loss = surface(grid).numpy()
    return [
        {"table": "surface", "surface": surface.name, "x": x, "y": y, "loss": float(loss[j, i])}
        for j, y in enumerate(ys)
        for i, x in enumerate(xs)
    ]


def summarize(path: pd.DataFrame, surface: Surface, close: float, burst: float) -> dict[str, Any]:
    """Numbers of a full-resolution path: its end, its closest approach to the surface's minimum, the first
    update within ``close`` of it, and afterwards the bursts (the y coordinate leaving the minimum's by more
    than ``burst``, counted at their onsets) and how far x and y strayed."""
    mx, my = surface.minimum
    distance = np.hypot(path["x"] - mx, path["y"] - my)
    end = path.iloc[-1]
    closes = path.index[distance < close]
    summary: dict[str, Any] = {
        "steps": int(end["step"]),
        "start_loss": float(path["loss"].iloc[0]),
        "final_x": float(end["x"]),
        "final_y": float(end["y"]),
        "final_loss": float(end["loss"]),
        "final_grad_norm": float(end["grad_norm"]),
        "start_distance": float(distance.iloc[0]),
        "final_distance": float(distance.iloc[-1]),
        "min_distance": float(distance.min()),
        "min_x": float(path["x"].min()),
        "diverged": not bool(np.isfinite(end["loss"])),
        "first_close_step": None,
        "bursts": None,
        "max_dx_after_close": None,
        "max_dy_after_close": None,
    }
    tail = path.iloc[-100:]
    summary["y_sign_flips_last_100"] = int((np.sign(tail["y"] - my).diff().abs() == 2).sum())
    if len(closes):
        after = path.loc[closes[0] :]
        out = (after["y"] - my).abs() > burst
        summary.update(
            first_close_step=int(path.loc[closes[0], "step"]),
            bursts=int((out & ~out.shift(fill_value=False)).sum()),
            max_dx_after_close=float((after["x"] - mx).abs().max()),
            max_dy_after_close=float((after["y"] - my).abs().max()),
        )
    return summary


def demo_rows(name: str, demo: DictConfig, params: DictConfig) -> Rows:
    """Contour grids and paths of one demonstration, each path also summarised."""
    default_surface = instantiate(demo.surface)
    surfaces = {default_surface.name: default_surface}
    rows: Rows = []
    for label, spec in demo.paths.items():
        surface = instantiate(spec.surface) if "surface" in spec else default_surface
        surfaces.setdefault(surface.name, surface)
        schedule = instantiate(spec.schedule) if "schedule" in spec else None
        began = time.perf_counter()
        path = trajectory(surface, demo.start, instantiate(spec.optimizer), spec.steps, schedule)
        tags = {"demo": name, "path": label, "surface": surface.name}
        rows.append({"table": "path_summary", **tags, **summarize(path, surface, params.close, params.burst)})
        kept = thin(path, params.max_points, ("x", "y"))
        rows += [{"table": "path", **tags, **row} for row in kept.to_dict("records")]
        log.info("toy %s/%s: %d updates in %.1f s", name, label, spec.steps, time.perf_counter() - began)
    for surface in surfaces.values():
        rows += surface_rows(surface, params.grid_points)
    return rows


def ewa_rows(params: DictConfig) -> Rows:
    """Weighted averages of ``steps`` noisy values (Gaussian noise around ``mean``), without and with
    bias correction."""
    generator = np.random.default_rng(params.seed)
    values = params.mean + params.noise * generator.standard_normal(params.steps)
    frame = weighted_averages(values.tolist(), params.beta)
    frame["mean"] = params.mean
    return [{"table": "ewa", **row} for row in frame.to_dict("records")]


def analyse(run: Run) -> None:
    """Every demonstration of ``cfg.toy``, then the weighted averages, into the run's long table."""
    for name, demo in run.cfg.toy.demos.items():
        run.curve += demo_rows(name, demo, run.cfg.toy)
    run.curve += ewa_rows(run.cfg.toy.ewa)


#: The stage: one run is defined by ``toy`` alone; logged like the other analysis stages (CSV, W&B with the
#: toy figures).
run = Stage(analyse, subtrees("toy"), tag=lambda cfg: "toy", finish=publish())
