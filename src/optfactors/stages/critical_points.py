"""The analysis stage of ``experiments/critical_points.yaml``: the lecture's "minimum ratio vs training
loss" scatter. For each of many random initialisations of one small problem: train on the loss for a
random number of Adam updates (log-uniform, so the points spread over many loss levels), then minimise the
squared gradient norm to land on a critical point, take the exact Hessian there and count the signs of its
eigenvalues.

Rows of the record's long table (``curves.csv``), told apart by ``table``: ``point`` (one per
initialisation: losses, gradient norms, eigenvalue counts, minimum ratios) and ``spectrum`` (every
eigenvalue of the first ``spectra`` points).
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import numpy as np
import pandas as pd
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig

from optfactors.analysis.critical import eigenvalue_signs, find_critical_point, hessian, train
from optfactors.run.lifecycle import Rows, Run, Stage, subtrees
from optfactors.stages.critical_problems import Problem
from optfactors.stages.publish import publish

log = logging.getLogger("optfactors")


def init_seed(seed: int, init: int) -> int:
    """The seed of initialisation ``init`` of a run with ``seed``: runs with other seeds draw other ones."""
    return seed * 100_003 + init


def training_steps(rng: np.random.Generator, low: int, high: int) -> int:
    """A number of training updates drawn log-uniformly from [low, high]."""
    return int(round(math.exp(rng.uniform(math.log(low), math.log(high)))))


def point_rows(problem: Problem, seed: int, params: DictConfig, with_spectrum: bool) -> Rows:
    """Train from the network drawn with ``seed``, go to a critical point, classify it by its Hessian."""
    rng = np.random.default_rng(seed)
    steps = training_steps(rng, params.train.min_steps, params.train.max_steps)
    theta, loss_of = problem.objective(seed)
    trained = train(loss_of, theta, steps, params.train.lr)
    point = find_critical_point(loss_of, trained, params.grad_tol, params.max_iter)
    eigenvalues = torch.linalg.eigvalsh(hessian(loss_of, point.theta))
    signs = eigenvalue_signs(eigenvalues, params.zero_tol)
    row: dict[str, Any] = {
        "table": "point",
        "problem": problem.name,
        "init_seed": seed,
        "parameters": len(theta),
        "train_steps": steps,
        "trained_loss": float(loss_of(trained)),
        "loss": point.loss,
        "grad_norm": point.grad_norm,
        "critical_iterations": point.iterations,
        "converged": point.converged,
        "moved": float((point.theta - trained).norm()),
        "positive": signs.positive,
        "negative": signs.negative,
        "zero": signs.zero,
        "minimum_ratio": signs.minimum_ratio,
        "minimum_ratio_all": signs.minimum_ratio_all,
        "min_eigenvalue": float(eigenvalues[0]),
        "max_eigenvalue": float(eigenvalues[-1]),
    }
    for tolerance in params.other_zero_tols:
        row[f"minimum_ratio_tol_{tolerance:g}"] = eigenvalue_signs(eigenvalues, tolerance).minimum_ratio
    rows = [row]
    if with_spectrum:
        rows += [
            {
                "table": "spectrum",
                "problem": problem.name,
                "init_seed": seed,
                "loss": point.loss,
                "eigenvalue": v,
            }
            for v in eigenvalues.tolist()
        ]
    return rows


def summary_metrics(points: pd.DataFrame) -> dict[str, float]:
    """Counts, the share of converged points that are not minima, and the loss-ratio rank correlation."""
    converged = points[points["converged"]]
    metrics = {"points": float(len(points)), "converged": float(len(converged))}
    if len(converged):
        metrics["share_not_minimum"] = float((converged["minimum_ratio"] < 1).mean())
        metrics["median_minimum_ratio"] = float(converged["minimum_ratio"].median())
    if len(converged) > 2:
        metrics["spearman_loss_ratio"] = float(converged["loss"].corr(converged["minimum_ratio"], "spearman"))
    return metrics


def problem_name(cfg: DictConfig) -> str:
    """The name of the run's problem (its builder's), e.g. ``sinc``: the W&B tag of its runs."""
    return cfg.problem._target_.rsplit(".", 1)[-1]


def analyse(run: Run) -> None:
    """``critical.inits`` initialisations of the run's problem: their rows and the summary metrics."""
    cfg, params = run.cfg, run.cfg.critical
    problem = instantiate(cfg.problem)
    start = time.perf_counter()
    for init in range(params.inits):
        rows = point_rows(problem, init_seed(cfg.seed, init), params, init < params.spectra)
        run.curve += rows
        done, point = init + 1, rows[0]
        eta = (time.perf_counter() - start) / done * (params.inits - done)
        log.info(
            "critical_points %s [%d/%d]: loss %.4g, |grad| %.1e, minimum ratio %.3f (ETA %.0f s)",
            problem.name,
            done,
            params.inits,
            point["loss"],
            point["grad_norm"],
            point["minimum_ratio"],
            eta,
        )
    run.metrics = summary_metrics(pd.DataFrame([r for r in run.curve if r["table"] == "point"]))


#: The stage: one run is defined by its problem, ``critical`` and its seed (which draws the initialisations).
run = Stage(analyse, subtrees("problem", "critical", "seed"), tag=problem_name, finish=publish())
