"""GPU time of a run, estimated from FLOP counts (nobody here has a GPU to time it on).

torch's FlopCounterMode counts the matmuls and convolutions of one forward pass and of one training step
(forward and backward) of the run's network, built on the meta device (no memory, no arithmetic); the run's
config says how many samples go through each. Time = FLOPs / (peak x utilisation) + batches x a fixed cost
per batch, with the `Assumptions` stated beside the estimates (docs/paper_protocols.md). Left out: data
loading, elementwise layers (BatchNorm, ReLU, dropout), the optimizer step, and validation during training.
"""

from __future__ import annotations

import heapq
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from omegaconf import OmegaConf

from optfactors.bench.compute import counted_flops
from optfactors.data import DATASETS, num_batches
from optfactors.run.config import train_size


@dataclass(frozen=True)
class Assumptions:
    """What turns FLOPs into hours."""

    gpu: str  # the GPU the peak is that of
    peak_tflops: float  # its float32 peak
    utilisation: float  # the share of the peak a run reaches
    batch_overhead_ms: float  # fixed time per batch (kernel launches, Python, the optimizer step)
    unbounded_epochs: int  # epochs of a run that only its stopping rule ends
    hvp_gradients: float  # a Hessian-vector product in gradients (Pearlmutter 1994: about 2)


@dataclass(frozen=True)
class Cost:
    """The work of a run: FLOPs and batches processed."""

    flops: float
    batches: float

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.flops + other.flops, self.batches + other.batches)

    def hours(self, assume: Assumptions) -> float:
        """Its estimated GPU time."""
        seconds = self.flops / (assume.peak_tflops * 1e12 * assume.utilisation)
        return (seconds + self.batches * assume.batch_overhead_ms / 1e3) / 3600


@cache
def _network_flops(model: str, input_shape: tuple[int, ...]) -> tuple[float, float]:
    with torch.device("meta"):
        network = instantiate(OmegaConf.create(json.loads(model)))
        x, y = torch.zeros(2, *input_shape), torch.zeros(2, dtype=torch.long)
    forward = counted_flops(lambda: network.eval()(x))
    step = counted_flops(lambda: F.cross_entropy(network.train()(x), y).backward())
    return forward / 2, step / 2


def network_flops(config: dict[str, Any]) -> tuple[float, float]:
    """FLOPs per sample of a forward pass and of a training step of the network ``config`` builds."""
    return _network_flops(json.dumps(config["model"], sort_keys=True), tuple(config["data"]["input_shape"]))


def training_cost(config: dict[str, Any], assume: Assumptions) -> Cost:
    """A training run: its updates (to max_steps, max_epochs or, without either, `unbounded_epochs`), then
    the final evaluation on the test set and, with ``data.eval_train``, the training set."""
    data, trainer = config["data"], config["trainer"]
    forward, step = network_flops(config)
    n, batch = train_size(data), data["batch_size"]
    epochs = trainer["max_epochs"] if trainer["max_epochs"] > 0 else assume.unbounded_epochs
    updates = epochs * num_batches(n, batch, data["drop_last"])
    if trainer["max_steps"] > 0:
        updates = min(updates, trainer["max_steps"]) if trainer["max_epochs"] > 0 else trainer["max_steps"]
    evaluated = DATASETS[data["name"]][2] + (n if data["eval_train"] else 0)
    flops = updates * batch * step + evaluated * forward
    return Cost(flops, updates + evaluated / data["eval_batch_size"])


def analysis_cost(config: dict[str, Any], assume: Assumptions) -> Cost:
    """A sharp_flat run: every measurement of optfactors.stages.sharp_flat on its SB and LB solutions, in
    passes over the analysis samples (one loss-and-gradient evaluation per L-BFGS-B iteration plus the
    first; Hessian-vector products as `hvp_gradients` gradients)."""
    p = config["sharp_flat"]
    forward, step = network_flops(config)
    name, batch = config["data"]["name"], p["samples"]["batch_size"]
    n, m = (min(p["samples"][s], DATASETS[name][i]) for s, i in (("train", 1), ("test", 2)))
    sharp, hess = p["sharpness"], p["hessian"]
    problems = len(sharp["epsilons"]) * (3 if sharp["adaptive"] else 2)
    hvps = hess["max_iter"] + hess["trace_samples"] + hess["density_iter"] * hess["density_runs"]
    directions = int(p["perturbation"]["radii"][2]) * p["perturbation"]["directions"]
    gradients = n * (problems * (sharp["max_iter"] + 1) + assume.hvp_gradients * hvps)
    forwards = n + (n + m) + n * directions + n * int(p["plane"]["radii"][2]) ** 2
    path = int(p["interpolation"]["alphas"][2]) * (3 * n + m)  # per alpha and split: BN statistics, loss
    solutions = len(p["regimes"])
    flops = solutions * (gradients * step + forwards * forward) + path * forward
    return Cost(flops, (solutions * (gradients + forwards) + path) / batch)


def run_cost(config: dict[str, Any], assume: Assumptions) -> Cost:
    """The estimated work of one run: an analysis (sharp_flat) or training."""
    return analysis_cost(config, assume) if "sharp_flat" in config else training_cost(config, assume)


def makespan(hours: list[float], gpus: int) -> float:
    """Wall time of runs of ``hours`` on ``gpus`` GPUs, one run per GPU at a time, longest first."""
    loads = [0.0] * gpus
    for h in sorted(hours, reverse=True):
        heapq.heapreplace(loads, loads[0] + h)
    return max(loads) if hours else 0.0


def describe(hours: float) -> str:
    """``hours`` for a table: whole minutes below an hour, tenths of an hour below 10, else whole hours."""
    if hours < 1:
        return f"{max(1, round(hours * 60))} min"
    return f"{hours:.1f} h" if hours < 10 else f"{round(hours):,} h"
