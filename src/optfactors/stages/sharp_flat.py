"""The sharp/flat-minima study (Keskar et al. 2017, Section 3; the lecture's flat basin vs narrow ravine):
the analysis stage of ``experiments/sharp_flat.yaml``.

One run analyses the small-batch (SB) and large-batch (LB) solutions of one network and seed, taken from
the source experiment (``keskar_gap``: reused from its kept checkpoints, trained where missing). Every
measurement uses fixed, class-balanced analysis samples of the source run's training split and of the test
set. BatchNorm: each solution's running statistics are first recomputed on the analysis training samples
(`recompute_bn_statistics`; the source runs evaluated with batch statistics), then everything runs in eval
mode; along the interpolation path they are recomputed at every alpha from the training samples.

The results are rows of one long table (the record's ``curve``, so ``curves.csv``), told apart by their
``table`` column: solution, sharpness, hessian, spectrum, interpolation, perturbation, plane.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch import nn

from optfactors.analysis import hessian, landscape, sharpness
from optfactors.data import BatchList, analysis_batches
from optfactors.device import default_device
from optfactors.run.config import ConfigError
from optfactors.run.launch import group_choices
from optfactors.run.lifecycle import Rows, Run, Stage, subtrees
from optfactors.stages.publish import publish
from optfactors.stages.solutions import Solution, solution, source_key

log = logging.getLogger("optfactors")


def _linspace(spec: DictConfig) -> np.ndarray:
    """``[start, stop, num]`` from the config as ``np.linspace``."""
    start, stop, num = spec
    return np.linspace(start, stop, int(num))


class Steps:
    """Runs the measurements one after another, logging each with its number, its duration and an ETA."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.start = total, 0, time.perf_counter()
        self.seconds: dict[str, float] = {}

    def run(self, label: str, fn: Callable[..., Rows], *args: Any) -> Rows:
        """``fn(*args)``, timed and logged under ``label``."""
        began = time.perf_counter()
        rows = fn(*args)
        self.done += 1
        self.seconds[label] = time.perf_counter() - began
        eta = (time.perf_counter() - self.start) / self.done * (self.total - self.done)
        log.info(
            "sharp_flat [%d/%d] %s: %.1f s (ETA %.0f s)",
            self.done,
            self.total,
            label,
            self.seconds[label],
            eta,
        )
        return rows


def _tagged(frame: pd.DataFrame, **tags: Any) -> Rows:
    """The rows of ``frame`` as dicts, each with the ``tags`` in front."""
    return [{**tags, **row} for row in frame.to_dict("records")]


def solution_rows(
    model: nn.Module, loss_fn: nn.Module, train: BatchList, test: BatchList, regime: str
) -> Rows:
    """Loss and accuracy of the solution on the analysis training and test samples."""
    return [
        {"table": "solution", "regime": regime, "split": split, "loss": loss, "accuracy": accuracy}
        for split, batches in (("train", train), ("test", test))
        for loss, accuracy in [landscape.evaluate(model, loss_fn, batches)]
    ]


def sharpness_rows(
    model: nn.Module,
    loss_fn: nn.Module,
    train: BatchList,
    regime: str,
    epsilon: float,
    space: str,
    dim: int | None,
    max_iter: int,
    seed: int,
) -> Rows:
    """ε-sharpness (percent) in ``space``: Keskar's in the full space (``dim`` None) or a random ``dim``-D
    subspace, or the adaptive (scale-invariant) one in the full space (``space`` "adaptive")."""
    adaptive = space == "adaptive"
    value = sharpness.epsilon_sharpness(model, loss_fn, train, epsilon, dim, max_iter, seed, adaptive)
    return [
        {
            "table": "sharpness",
            "regime": regime,
            "epsilon": epsilon,
            "space": space,
            "subspace_dim": dim,
            "sharpness": value,
        }
    ]


def hessian_rows(
    model: nn.Module, loss_fn: nn.Module, train: BatchList, regime: str, p: DictConfig, seed: int
) -> Rows:
    """The top Hessian eigenvalue (Lanczos) and the Hutchinson trace."""
    top = hessian.top_eigenvalues(model, loss_fn, train, 1, p.max_iter, p.tol, seed).values[0]
    return [
        {
            "table": "hessian",
            "regime": regime,
            "top_eigenvalue": top,
            "trace": hessian.trace(model, loss_fn, train, p.trace_samples, seed),
        }
    ]


def spectrum_rows(
    model: nn.Module, loss_fn: nn.Module, train: BatchList, regime: str, p: DictConfig, seed: int
) -> Rows:
    """The stochastic-Lanczos-quadrature nodes and weights of the Hessian spectrum (figures smooth them)."""
    nodes, weights = hessian.spectral_quadrature(model, loss_fn, train, p.density_iter, p.density_runs, seed)
    return [
        {"table": "spectrum", "regime": regime, "node": n, "weight": w}
        for n, w in zip(nodes, weights, strict=True)
    ]


def perturbation_rows(
    model: nn.Module, loss_fn: nn.Module, train: BatchList, regime: str, p: DictConfig, seed: int
) -> Rows:
    """Loss and accuracy along filter-normalised random directions, per direction and radius."""
    frame = landscape.random_perturbation(
        model, loss_fn, train, _linspace(p.radii), p.directions, p.normalization, seed
    )
    return _tagged(frame, table="perturbation", regime=regime)


def plane_rows(
    model: nn.Module, loss_fn: nn.Module, train: BatchList, regime: str, p: DictConfig, seed: int
) -> Rows:
    """Loss and accuracy on the plane of two filter-normalised random directions (contour plots)."""
    frame = landscape.random_plane(model, loss_fn, train, _linspace(p.radii), p.normalization, seed)
    return _tagged(frame, table="plane", regime=regime)


def interpolation_rows(
    sb: nn.Module, lb: nn.Module, loss_fn: nn.Module, train: BatchList, test: BatchList, p: DictConfig
) -> Rows:
    """Keskar's Figure 3: loss and accuracy along the path from SB (alpha 0) to LB (alpha 1), train and test;
    BatchNorm statistics recomputed from the training samples at every alpha."""
    alphas = _linspace(p.alphas)
    return [
        row
        for split, batches in (("train", train), ("test", test))
        for row in _tagged(
            landscape.interpolate(sb, lb, loss_fn, batches, alphas, p.path, p.bn, train),
            table="interpolation",
            split=split,
        )
    ]


def measure(
    models: dict[str, nn.Module],
    loss_fn: nn.Module,
    train: BatchList,
    test: BatchList,
    params: DictConfig,
    seed: int,
) -> tuple[Rows, dict[str, float]]:
    """Every measurement of the study on the solutions ``models`` (regime -> model): rows and step timings."""
    for model in models.values():
        landscape.recompute_bn_statistics(model, train)
    sharp = params.sharpness
    spaces = {"full": None, "subspace": sharp.subspace_dim} | ({"adaptive": None} if sharp.adaptive else {})
    steps = Steps(len(models) * (5 + len(sharp.epsilons) * len(spaces)) + 1)
    rows: Rows = []
    for regime, model in models.items():
        rows += steps.run(f"{regime} loss and accuracy", solution_rows, model, loss_fn, train, test, regime)
        for epsilon in sharp.epsilons:
            for space, dim in spaces.items():
                rows += steps.run(
                    f"{regime} ε-sharpness ε={epsilon:g} {space}",
                    sharpness_rows,
                    model,
                    loss_fn,
                    train,
                    regime,
                    epsilon,
                    space,
                    dim,
                    sharp.max_iter,
                    seed,
                )
        for label, fn, p in (
            ("top eigenvalue and trace", hessian_rows, params.hessian),
            ("spectral density", spectrum_rows, params.hessian),
            ("random perturbations", perturbation_rows, params.perturbation),
            ("2-D plane", plane_rows, params.plane),
        ):
            rows += steps.run(f"{regime} {label}", fn, model, loss_fn, train, regime, p, seed)
    sb, lb = (models[r] for r in params.regimes)
    rows += steps.run(
        "interpolation SB -> LB", interpolation_rows, sb, lb, loss_fn, train, test, params.interpolation
    )
    return rows, steps.seconds


def summary_metrics(rows: Rows) -> dict[str, float]:
    """Per-regime headline numbers for runs.csv and the W&B summary (e.g. ``lb_sharpness_full_0.001``)."""
    metrics: dict[str, float] = {}
    for row in rows:
        r = row.get("regime")
        if row["table"] == "solution":
            metrics[f"{r}_{row['split']}_loss"], metrics[f"{r}_{row['split']}_acc"] = (
                row["loss"],
                row["accuracy"],
            )
        elif row["table"] == "sharpness":
            metrics[f"{r}_sharpness_{row['space']}_{row['epsilon']:g}"] = row["sharpness"]
        elif row["table"] == "hessian":
            metrics[f"{r}_top_eigenvalue"], metrics[f"{r}_trace"] = row["top_eigenvalue"], row["trace"]
    return metrics


def source_metrics(found: dict[str, Solution]) -> dict[str, float]:
    """Each solution's accuracies as its source run measured them on the whole test and training sets
    (``sb_source_test_acc``, ...), to set sharpness against generalization on the same models."""
    return {
        f"{regime}_source_{name}": s.record["metrics"][name]
        for regime, s in found.items()
        for name in ("test_acc", "train_eval_acc")
        if name in s.record["metrics"]
    }


def perturbation_mean(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The mean loss over random directions at each radius, per regime (for W&B's line plot)."""
    mean = tables["perturbation"].groupby(["regime", "radius"], as_index=False)["loss"].mean()
    return {"perturbation_mean": mean}


#: W&B line plots: name -> (table, x, y, series).
LINE_PLOTS = {
    "interpolation": ("interpolation", "alpha", "loss", "split"),
    "perturbation": ("perturbation_mean", "radius", "loss", "regime"),
}


def source_overrides(cfg: DictConfig, regime: str) -> list[str]:
    """The overrides that compose the source run of ``regime`` for this run: the source experiment, this
    run's choices of ``source.groups``, its seed, results folder and data root, ``source.overrides``."""
    source = cfg.sharp_flat.source
    choices = group_choices()
    missing = [group for group in source.groups if not choices.get(group)]
    if missing:
        raise ConfigError(
            missing[0],
            None,
            f"{cfg.experiment_name} passes the choice of {missing[0]} on to its source runs: choose one "
            f"(e.g. optfactors experiment={cfg.experiment_name} setting=mnist_f1)",
        )
    return [
        f"experiment={source.experiment}",
        *(f"{group}={choices[group]}" for group in source.groups),
        f"regime={regime}",
        f"seed={cfg.seed}",
        f"paths.results={cfg.paths.results}",
        f"paths.output={Path(cfg.paths.output) / 'sources' / regime}",
        f"data.root={cfg.data.root}",
        *source.overrides,
    ]


def _source_entry(found: Solution) -> dict[str, Any]:
    return {
        "run_key": found.record["run_key"],
        "experiment": found.record["experiment"],
        "batch_size": found.config.data.batch_size,
        "epochs": found.record["epochs"],
        "trained_now": found.trained_now,
    }


def settings(cfg: DictConfig) -> dict[str, Any]:
    """What defines a run: the network and seed analysed, ``sharp_flat``, and the run keys of its source runs
    (a changed source config makes a new analysis)."""
    config = subtrees("data", "model", "seed", "sharp_flat")(cfg)
    config["source_run_keys"] = {r: source_key(source_overrides(cfg, r)) for r in cfg.sharp_flat.regimes}
    return config


def analyse(run: Run) -> None:
    """The SB and LB solutions of the run's network and seed -> every measurement."""
    cfg, params = run.cfg, run.cfg.sharp_flat
    found = {regime: solution(source_overrides(cfg, regime)) for regime in params.regimes}
    run.fields["sources"] = {regime: _source_entry(s) for regime, s in found.items()}
    first = found[params.regimes[0]].config
    samples = params.samples
    device = run.device = default_device()
    train = analysis_batches(first.data, "train", samples.train, samples.batch_size, samples.seed, device)
    test = analysis_batches(first.data, "test", samples.test, samples.batch_size, samples.seed, device)
    models = {regime: s.model.to(device) for regime, s in found.items()}
    run.curve, run.fields["step_time_s"] = measure(
        models, instantiate(first.loss), train, test, params, cfg.seed
    )
    run.metrics = summary_metrics(run.curve) | source_metrics(found)


#: The stage; the W&B run gets tables, line plots and figures.
run = Stage(analyse, settings, tag=lambda cfg: cfg.data.name, finish=publish(LINE_PLOTS, perturbation_mean))
