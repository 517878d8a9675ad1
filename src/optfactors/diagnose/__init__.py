"""``optfactors diagnose``: what the lecture concludes about each run of a study, and the evidence.

Hung-yi Lee's recipe (ML 2021, "what to do when your network fails to train"), applied to run records or
results tables (`tables`): `rules` decides (thresholds LARGE_LOSS, GAP, CLEARLY_LOWER), `stall` tells a
stalled loss with a large gradient from a critical point (STALL, SMALL_GRADIENT), `networks` which network
can compute what another can, `labels` how runs are named.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from optfactors.diagnose.rules import ADVICE, Diagnosis, diagnose
from optfactors.diagnose.tables import TargetError, load

EPILOG = """verdicts (per run):
  diverged            the loss became non-finite: the update, the learning rate, what trained instead
  optimization issue  a network that can do at most what this one does (shallower, narrower, or the same
                      trained otherwise) reached a clearly lower training loss on the same data
  optimization issue: not a critical point
                      the training loss stalled while the gradient norm stayed large
  critical point      the training loss stalled with a vanishing gradient (saddle or local minimum)
  model bias          only a more flexible network reached a clearly lower training loss
  model bias or optimization issue
                      large training loss, and no run here tells which
  overfitting         small training loss, validation loss far above it
  fine                small training loss, small gap
examples:
  optfactors diagnose depth                        results/depth/runs.csv (+ curves.csv)
  optfactors diagnose results/stuck/runs           the run records of a local sweep
  optfactors diagnose normalization stuck --results results/paper
"""


def report(name: str, where: Path, diagnoses: list[Diagnosis]) -> list[str]:
    """The printed lines of one study: a header, then per run its verdict and evidence, then counts."""
    lines = [f"{name}: {len(diagnoses)} runs ({where})"]
    for d in diagnoses:
        lines.append(f"{d.run_key}  {d.label}  -> {d.verdict}: {ADVICE[d.verdict]}")
        lines += [f"    - {e}" for e in d.evidence]
    counts = Counter(d.verdict for d in diagnoses)
    lines.append(f"{name}: " + ", ".join(f"{n} {verdict}" for verdict, n in counts.most_common()))
    return lines


def main(argv: list[str] | None = None) -> int:
    """Print the diagnosis of every target; exit code 2 if a target names no training runs."""
    parser = argparse.ArgumentParser(
        prog="optfactors diagnose",
        description="Per run, what the lecture's recipe for a network that fails to train concludes "
        "(diverged, optimization issue, not a critical point, model bias, overfitting, fine) and the "
        "numbers behind it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "targets",
        nargs="+",
        metavar="TARGET",
        help="an experiment name (its tables in --results), a records folder, or a runs.csv",
    )
    parser.add_argument(
        "--results", type=Path, default=Path("results"), help="results folder (default: results)"
    )
    args = parser.parse_args(argv)
    status = 0
    for i, target in enumerate(args.targets):
        try:
            where, runs, curves = load(target, args.results)
        except TargetError as err:
            print(f"optfactors diagnose: {err}", file=sys.stderr)
            status = 2
            continue
        print(("\n" if i else "") + "\n".join(report(target, where, diagnose(runs, curves))))
    return status
