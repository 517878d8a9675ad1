"""The 2-D demonstrations: the lecture's Adagrad against a hand computation, the surfaces' gradients, the
path runner, and the whole toy experiment reproducing every claim of the lecture on its paths."""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import pytest
import torch

from optfactors.report.claims import CLAIMS
from optfactors.report.collect import collect
from optfactors.report.figures import FIGURES, draw_all
from optfactors.stages.toy import stage
from optfactors.stages.toy.optimizers import LectureAdagrad
from optfactors.stages.toy.surfaces import elongated, saddle_and_minimum, three_class
from optfactors.stages.toy.trajectory import thin, trajectory, weighted_averages


def test_lecture_adagrad_divides_by_the_root_mean_square_of_past_gradients():
    surface = elongated(flat=1.0, steep=4.0)  # gradient (w, 4 b)
    w = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    opt = LectureAdagrad([w], lr=0.5, eps=0.0)
    expected, squares = [1.0, -2.0], [[], []]
    for _ in range(3):
        gradient = [expected[0], 4 * expected[1]]
        for i in range(2):
            squares[i].append(gradient[i] ** 2)
            sigma = math.sqrt(sum(squares[i]) / len(squares[i]))
            expected[i] -= 0.5 * gradient[i] / sigma
        opt.zero_grad()
        surface(w).backward()
        opt.step()
        assert w.tolist() == pytest.approx(expected, rel=1e-12)
    # torch's Adagrad divides by the root of the *sum*: from the second update on, the steps differ.
    v = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    torch_opt = torch.optim.Adagrad([v], lr=0.5)
    for _ in range(3):
        torch_opt.zero_grad()
        surface(v).backward()
        torch_opt.step()
    assert v.tolist() != pytest.approx(expected, rel=1e-3)


def test_surface_gradients_are_what_the_lecture_needs():
    corner = torch.tensor([-10.0, 10.0], dtype=torch.float64, requires_grad=True)
    (mse_grad,) = torch.autograd.grad(three_class("mse")(corner), corner)
    (ce_grad,) = torch.autograd.grad(three_class("cross_entropy")(corner), corner)
    assert mse_grad.norm() < 1e-7 and ce_grad.norm() == pytest.approx(math.sqrt(2), rel=1e-6)
    surface = saddle_and_minimum()
    for point in ([0.0, 0.0], [-0.75, 0.0]):
        p = torch.tensor(point, dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad(surface(p), p)
        assert g.abs().max() < 1e-12
    hessian = torch.autograd.functional.hessian(surface, torch.zeros(2, dtype=torch.float64))
    assert hessian.tolist() == [
        [0.0, 0.0],
        [0.0, 2.0],
    ]  # no curvature along x: not a minimum, L falls for x < 0
    assert surface(torch.tensor([-0.1, 0.0])) < 0


def _sign_flips(values) -> int:
    return int((values[1:] * values[:-1] < 0).sum())


def test_a_thinned_oscillating_path_still_oscillates_and_keeps_its_extremes():
    """GD at lr 1e-2 on the valley flips b at every update; every 2nd point of it drew b as a flat 1.0."""
    full = trajectory(elongated(), (-10.0, 1.0), functools.partial(torch.optim.SGD, lr=1e-2), 1000)
    assert _sign_flips(full["y"].to_numpy()) == 1000
    assert thin(full, 1001, ("x", "y")).equals(full)  # a path that fits is kept whole
    path = thin(full, 300, ("x", "y"))  # windows of 14 updates, each keeps its extremes of x and y
    y = path["y"].to_numpy()
    assert len(path) <= 300 and path["step"].iloc[0] == 0 and path["step"].iloc[-1] == 1000
    assert y.max() == full["y"].max() == 1.0 and y.min() == full["y"].min() == -1.0
    assert _sign_flips(y) >= 2 * 71  # each of the 72 windows goes up and down (every 4th point: never)
    assert _sign_flips(full["y"].iloc[::4].to_numpy()) == 0


def test_thinning_keeps_burst_peaks_and_stops_at_divergence():
    steps = np.arange(10_001)
    burst = pd.DataFrame({"step": steps, "x": steps / 10_000, "y": np.where(steps == 4_321, 0.8, 0.0)})
    path = thin(burst, 100, ("x", "y"))
    assert len(path) <= 100 and path["y"].max() == 0.8 and 4_321 in path["step"].tolist()
    blown = trajectory(elongated(), (-10.0, 1.0), functools.partial(torch.optim.SGD, lr=1.0), 10_000)
    assert not math.isfinite(blown["loss"].iloc[-1]) and len(blown) < 10_001
    assert thin(blown, 10, ("x", "y"))["step"].iloc[-1] == blown["step"].iloc[-1]
    summary = stage.summarize(blown, elongated(), 1e-2, 0.1)
    assert summary["diverged"] and summary["steps"] == blown["step"].iloc[-1]


def test_weighted_averages_by_hand():
    frame = weighted_averages([2.0, 2.0, 2.0], beta=0.5)
    assert frame["average"].tolist() == [1.0, 1.5, 1.75]
    assert frame["corrected"].tolist() == pytest.approx([2.0, 2.0, 2.0])


#: The toy experiment's longest paths cut short: ~10 s instead of ~85 s (GD at lr 1e-7 alone makes 100,000
#: updates), and every claim still decides the same (Adagrad with decay first gets close at update ~1,940).
SHORTENED = tuple(
    f"toy.demos.elongated.paths.{path}.steps={steps}"
    for path, steps in (
        ("gd_lr_1e-7", 2000),
        ("adagrad_lecture", 3000),
        ("adagrad_lecture_decay", 3000),
        ("adagrad_lecture_warmup", 1000),
        ("adagrad_torch", 1000),
        ("rmsprop", 1000),
        ("adam", 1000),
    )
)


@pytest.mark.parametrize(
    "overrides",
    [pytest.param((), id="as_configured", marks=pytest.mark.slow), pytest.param(SHORTENED, id="shortened")],
)
def test_the_toy_experiment_reproduces_every_lecture_claim(make_cfg, overrides):
    cfg = make_cfg("experiment=toy", *overrides)
    record = stage.run(cfg)
    assert record["status"] == "ok"
    results = cfg.paths.results
    runs, curves = collect(results, "toy")
    assert "toy.grid_points" in runs and "data.batch_size" not in runs  # its row: only the settings it uses
    written = {p.name for p in draw_all(results)}
    assert {f"{name}.png" for name, spec in FIGURES.items() if spec.experiment == "toy"} <= written
    claims = [c for c in CLAIMS.values() if c.experiment == "toy"]
    assert len(claims) == 5
    for claim in claims:
        result = claim.fn(runs, curves)
        assert result.reproduced is True, (claim.claim_id, result.measured)
