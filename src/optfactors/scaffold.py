"""``optfactors new-study NAME`` (``make new-study NAME=...``): all a new study needs, in its own files.

Writes, under the repository root:

- ``experiments/NAME.yaml``: the manifest (``study:``) and what every run of the study shares;
- ``experiments/NAME/{quick,paper}.yaml``: each profile's sizes and sweep;
- ``src/optfactors/studies/NAME/``: its package, with a claim decided by the one decision rule
  (`optfactors.decision`) and a figure that draws every seed, both working on the example sweep;
- ``tests/test_study_NAME.py``: the claim decided ✓, ✗ and — on synthetic tables, and a miniature of the
  study through sweep -> collect -> figures -> report.

The example is a complete study (small vs large batch at equal epochs on MNIST) to edit into yours: change
the sweep in the profiles, the claim's quantity and threshold (before you look at the data), and the figure.
Nothing else in the repository needs to change: the manifest and the package are found by discovery.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from optfactors.manifest import manifests

NAME = re.compile(r"[a-z][a-z0-9_]*")

EXPERIMENT = """\
# @package _global_
# {name}: TODO what the study shows, and the lecture's or paper's sentence it checks. The example sweep
# trains the MLP on MNIST with plain SGD at a small and a large batch for the same number of epochs.
# Sizes per profile: experiments/{name}/{{quick,paper}}.yaml.
# What the study is (optfactors.manifest); never part of a run's settings or key.
study:
  kind: study
  title: TODO one line on what the study shows

defaults:
  # Body first, then this study's profile file: a key or sweep parameter the profile sets wins over the
  # body's (README, "Add a study").
  - _self_
  - {name}@_global_: ${{profile}}
  - override /data: mnist
  - override /model: mlp
  - override /optimizer: sgd
  - override /scheduler: constant
  - override /loss: cross_entropy

experiment_name: {name}
optimizer:
  lr: 0.1
# What the study varies; each profile adds its seeds (and sizes).
hydra:
  sweeper:
    params:
      data.batch_size: 32,1024
"""

QUICK = """\
# @package _global_
# CPU-sized: 4,000 MNIST images, 2 epochs, 3 seeds (about a minute on 2 cores).
data:
  subset: 4000
trainer:
  max_epochs: 2
hydra:
  sweeper:
    params:
      seed: 0,1,2
"""

PAPER = """\
# @package _global_
# The full protocol: all of MNIST's training split, 20 epochs, 5 seeds.
trainer:
  max_epochs: 20
hydra:
  sweeper:
    params:
      seed: 0,1,2,3,4
"""

INIT = '"""{name}: TODO what the study shows."""\n'

CLAIMS = '''\
"""{name}'s claims: functions of its tables, each decided by the one rule (optfactors.decision)."""

from __future__ import annotations

import pandas as pd

from optfactors.decision import decide_contrast
from optfactors.report.claims import ClaimResult, register_claim
from optfactors.studies.common import BATCH_SIZE, ok_runs


@register_claim(
    "{name}_small_batch_better",
    lecture="With the same number of epochs, a small batch reaches a higher test accuracy than a large one.",
)
def small_batch_better(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Smallest minus largest batch: mean test accuracy over seeds (ok runs), with a Welch t-interval;
    ✓ when the interval lies above 0 points."""
    ok = ok_runs(runs).dropna(subset=["test_acc"])
    batches = sorted(ok[BATCH_SIZE].unique())
    if len(batches) < 2:
        return ClaimResult(f"{{len(batches)}} batch size(s) with ok runs", None, "Needs two batch sizes.")
    small, large = (100 * ok.loc[ok[BATCH_SIZE] == b, "test_acc"] for b in (batches[0], batches[-1]))
    decision = decide_contrast({{f"batch {{batches[0]}}": small, f"batch {{batches[-1]}}": large}})
    detail = f"{{decision.method}}: {{decision.reason}}."
    return ClaimResult(decision.text("points"), decision.verdict, detail)
'''

FIGURES = '''\
"""{name}'s figures: each a function of the study's tables, drawn in the shared style."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from optfactors.report.figures import register_figure
from optfactors.studies.common import BATCH_SIZE, ok_runs


@register_figure("{name}")
def test_accuracy_by_batch(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Test accuracy of every seed (points) and their mean (bar from zero) per batch size."""
    ok = ok_runs(runs).dropna(subset=["test_acc"])
    fig = Figure(figsize=(5, 3.5), layout="constrained")
    ax = fig.add_subplot()
    batches = sorted(ok[BATCH_SIZE].unique())
    for i, batch in enumerate(batches):
        acc = 100 * ok.loc[ok[BATCH_SIZE] == batch, "test_acc"]
        ax.bar(i, acc.mean(), color="#cccccc", label="mean over seeds" if i == 0 else None)
        ax.plot([i] * len(acc), acc, "o", color="#0072B2", label="one seed" if i == 0 else None)
    ax.set_xticks(range(len(batches)), [f"{{int(b):,}}" for b in batches])
    ax.set(xlabel="batch size", ylabel="test accuracy (%)", ylim=(0, 100))
    ax.set_title("A small batch generalizes better at equal epochs", loc="left")
    ax.legend(loc="lower right")
    return fig
'''

TEST = '''\
"""{name}: its claim decided ✓, ✗ and — on synthetic tables, and a miniature of the study through
sweep -> collect -> figures -> report with the real command line."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

from optfactors.report.claims import CLAIMS

CLAIM = "{name}_small_batch_better"


def runs(small: list[float], large: list[float]) -> pd.DataFrame:
    """A runs table: one ok run per seed's test accuracy at batch 32 and at batch 1,024."""
    batches = [32] * len(small) + [1024] * len(large)
    table = pd.DataFrame({{"data.batch_size": batches, "test_acc": small + large, "status": "ok"}})
    return table.assign(run_key=[f"r{{i}}" for i in range(len(table))])


@pytest.mark.parametrize(
    ("small", "large", "expected"),
    [
        ([0.97, 0.971, 0.969], [0.95, 0.951, 0.949], True),
        ([0.95, 0.951, 0.949], [0.97, 0.971, 0.969], False),
        ([0.96, 0.97, 0.95], [0.958, 0.968, 0.952], None),
        ([0.97], [0.95, 0.951], None),
    ],
    ids=["small-better", "large-better", "inside-the-noise", "one-seed"],
)
def test_the_claim_is_decided_three_ways(small, large, expected):
    result = CLAIMS[CLAIM].fn(runs(small, large), pd.DataFrame(columns=["run_key", "epoch"]))
    assert result.reproduced is expected, result.measured


def optfactors(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "optfactors", *args], check=True, env={{**os.environ}})


def test_a_miniature_runs_through_sweep_collect_figures_and_report(tmp_path):
    results = tmp_path / "results"
    sizes = ("data.subset=2048", "trainer.max_epochs=1", "seed=0,1")
    where = (f"paths.results={{results}}", f"hydra.sweep.dir={{tmp_path / 'multirun'}}", "logger=csv")
    optfactors("run", "-m", "experiment={name}", *sizes, *where)
    optfactors("collect", "{name}", "--results", str(results))
    optfactors("figures", "--results", str(results))
    optfactors("report", "--results", str(results))
    assert len(pd.read_csv(results / "{name}" / "runs.csv")) == 4
    assert (results / "figures" / "{name}.png").stat().st_size > 0
    assert f"`{{CLAIM}}`" in (results / "REPORT.md").read_text()
'''


def files(name: str) -> dict[str, str]:
    """Path (relative to the repository root) -> content of every file of a new study ``name``."""
    package = f"src/optfactors/studies/{name}"
    templates = {
        f"experiments/{name}.yaml": EXPERIMENT,
        f"experiments/{name}/quick.yaml": QUICK,
        f"experiments/{name}/paper.yaml": PAPER,
        f"{package}/__init__.py": INIT,
        f"{package}/claims.py": CLAIMS,
        f"{package}/figures.py": FIGURES,
        f"tests/test_study_{name}.py": TEST,
    }
    return {path: text.format(name=name) for path, text in templates.items()}


def new_study(name: str, root: Path) -> list[Path]:
    """Write a new study ``name`` under the repository ``root``; refuse a bad or taken name."""
    if not NAME.fullmatch(name):
        raise ValueError(f"{name!r}: a study name is lower case letters, digits and _, from a letter on")
    if not (root / "experiments").is_dir() or not (root / "src" / "optfactors").is_dir():
        raise ValueError(f"{root}: not the repository's root (no experiments/ or src/optfactors/)")
    if name in manifests(root / "experiments"):
        raise ValueError(f"{name!r}: a study of that name exists (experiments/{name}.yaml)")
    planned = {root / path: text for path, text in files(name).items()}
    taken = [str(p) for p in planned if p.exists()]
    if taken:
        raise ValueError(f"{name!r}: would overwrite {', '.join(taken)}")
    for path, text in planned.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return list(planned)


def main(argv: list[str] | None = None) -> int:
    """Write the study and say what to edit next."""
    parser = argparse.ArgumentParser(description="Write a new study: manifest, profiles, package and test.")
    parser.add_argument("name", help="the study's name (lower_case), also its experiment and package name")
    parser.add_argument("--root", type=Path, default=Path("."), help="the repository's root (default: .)")
    args = parser.parse_args(argv)
    try:
        written = new_study(args.name, args.root)
    except ValueError as err:
        print(f"optfactors new-study: {err}", file=sys.stderr)
        return 2
    print("\n".join(f"wrote {path}" for path in written))
    print(
        f"next: edit the TODOs in experiments/{args.name}.yaml, fix the claim's quantity and threshold in "
        f"src/optfactors/studies/{args.name}/claims.py before you look at data, then "
        f"`pytest tests/test_study_{args.name}.py` and `make sweep EXP={args.name}`"
    )
    return 0
