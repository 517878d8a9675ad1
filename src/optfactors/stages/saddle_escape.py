"""The analysis stage of ``experiments/saddle_escape.yaml``: leaving a saddle point with the Hessian (the
lecture's Taylor argument), and gradient descent with and without tiny noise started at one.

At a critical point θ' with Hessian eigenvalue λ < 0 and unit eigenvector u, the second-order Taylor
expansion gives L(θ' + ηu) - L(θ') ≈ ½λη² < 0 for small η: stepping along u lowers the loss. Exact gradient
descent started at θ' barely moves (its gradient is ~0); with tiny noise in every update the component
along u grows by (1 + lr|λ|) per update and the path leaves.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch import Tensor

from optfactors.analysis.critical import (
    CriticalPoint,
    descent,
    escape_step,
    find_critical_point,
    hessian,
    taylor_table,
    train,
)
from optfactors.run.lifecycle import Run, Stage, subtrees
from optfactors.stages.critical_points import init_seed, problem_name
from optfactors.stages.critical_problems import Problem
from optfactors.stages.publish import publish
from optfactors.stages.toy.trajectory import thin

log = logging.getLogger("optfactors")


def find_saddle(problem: Problem, seed: int, params: DictConfig) -> tuple[int, CriticalPoint, Tensor, Tensor]:
    """The first critical point, over initialisations ``init_seed(seed, 0), ...``, whose smallest Hessian
    eigenvalue is below ``-params.negative_tol · max |λ|``: (its init seed, the point, eigenvalues,
    eigenvectors as columns)."""
    for init in range(params.max_inits):
        found = init_seed(seed, init)
        theta, loss_of = problem.objective(found)
        trained = train(loss_of, theta, params.train.steps, params.train.lr)
        point = find_critical_point(loss_of, trained, params.grad_tol, params.max_iter)
        if not point.converged:
            continue
        values, vectors = torch.linalg.eigh(hessian(loss_of, point.theta))
        if values[0] < -params.negative_tol * values.abs().max():
            return found, point, values, vectors
    raise RuntimeError(f"no saddle point among {params.max_inits} initialisations; raise saddle.max_inits")


def analyse(run: Run) -> None:
    """Find a saddle point of the run's problem, check the Taylor prediction along its most negative
    eigenvector, and run exact and noisy gradient descent from it."""
    cfg, params = run.cfg, run.cfg.saddle
    problem = instantiate(cfg.problem)
    found, point, values, vectors = find_saddle(problem, cfg.seed, params)
    _, loss_of = problem.objective(found)
    lam, u = float(values[0]), vectors[:, 0]
    lr = params.descent.lr_scale / float(values.abs().max())
    log.info(
        "saddle_escape: init %d, loss %.5g, |grad| %.1e, λ_min %.3g",
        found,
        point.loss,
        point.grad_norm,
        lam,
    )
    side = params.taylor.points_per_side
    etas = params.taylor.eta_max * torch.arange(-side, side + 1, dtype=torch.float64) / side  # 0 exactly
    taylor = taylor_table(loss_of, point.theta, lam, u, etas)
    run.curve += [{"table": "taylor", **r} for r in taylor.to_dict("records")]
    summary: dict[str, Any] = {
        "table": "saddle",
        "problem": problem.name,
        "init_seed": found,
        "loss": point.loss,
        "grad_norm": point.grad_norm,
        "min_eigenvalue": lam,
        "max_eigenvalue": float(values[-1]),
        "negative": int((values < -params.negative_tol * values.abs().max()).sum()),
        "parameters": len(values),
        "lr": lr,
        "steps": params.descent.steps,
    }
    for variant, noise in (("exact", 0.0), ("noisy", params.descent.noise)):
        path = descent(loss_of, point.theta, lr, params.descent.steps, noise, cfg.seed)
        summary[f"{variant}_escape_step"] = escape_step(path, params.descent.drop)
        summary[f"{variant}_final_loss"] = float(path["loss"].iloc[-1])
        summary[f"{variant}_max_distance"] = float(path["distance"].max())
        kept = thin(path, params.max_points, ("loss",))
        run.curve += [{"table": "descent", "variant": variant, **r} for r in kept.to_dict("records")]
        log.info("saddle_escape: %s GD escapes at %s", variant, summary[f"{variant}_escape_step"])
    run.curve.insert(0, summary)
    run.metrics = {
        k: float(v) for k, v in summary.items() if isinstance(v, int | float) and not isinstance(v, bool)
    }


#: The stage: one run is defined by its problem, ``saddle`` and its seed (initialisations and noise).
run = Stage(
    analyse,
    subtrees("problem", "saddle", "seed"),
    tag=problem_name,
    finish=publish({"taylor": ("taylor", "eta", "loss_change", None)}),
)
