"""Claim registry: each claim of the lecture or paper is a function of a study's tables.

A study's ``claims.py`` (``optfactors.studies.<study>.claims``, found by discovery) decorates
``fn(runs, curves) -> ClaimResult`` with :func:`register_claim`; ``optfactors.report.markdown`` checks every
registered claim and writes REPORT.md. Nothing here or in a claim module imports plotting code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from optfactors.decision import Decision
from optfactors.studies import discover, study_of


@dataclass(frozen=True)
class Effect:
    """One quantity a claim is decided on (one a network or setting when it asks each): its label, its
    decision under the one rule (`optfactors.decision`) and how its numbers read."""

    label: str
    decision: Decision
    unit: str = ""
    digits: int = 2
    signed: bool = True

    def cell(self) -> str:
        """``F1 (MNIST): +0.90 [+0.62, +1.18] points, n = 4 + 4``."""
        text = self.decision.text(self.unit, self.digits, signed=self.signed)
        return f"{self.label}: {text}" if self.label else text


@dataclass(frozen=True)
class ClaimResult:
    """What a claim measured, whether that reproduces the claim (None: not enough data), and how decided:
    ``effects`` are the decisions its verdict combines (empty only where no effect could be computed)."""

    measured: str
    reproduced: bool | None
    detail: str = ""
    effects: tuple[Effect, ...] = ()


ClaimFn = Callable[[pd.DataFrame, pd.DataFrame], ClaimResult]


def combined(effects: tuple[Effect, ...]) -> bool | None:
    """The verdict of a claim that holds for every effect it decides: `every_network` of their verdicts."""
    return every_network([e.decision.verdict for e in effects]) if effects else None


def every_network(verdicts: list[bool | None]) -> bool | None:
    """One verdict from each network's: ✗ if any contradicts the claim, — if any is undecided, else ✓."""
    if any(v is False for v in verdicts):
        return False
    return None if any(v is None for v in verdicts) else True


@dataclass(frozen=True)
class Claim:
    """A registered claim: its experiment, id, what the lecture/paper says, and the function checking it."""

    experiment: str
    claim_id: str
    lecture: str
    fn: ClaimFn
    trend: str | None = None


#: Every registered claim by id, in registration order.
CLAIMS: dict[str, Claim] = {}


def check_claims(
    experiment: str, runs: pd.DataFrame, curves: pd.DataFrame
) -> list[tuple[Claim, ClaimResult]]:
    """Every registered claim of ``experiment``, in registration order, checked against its tables."""
    return [(claim, claim.fn(runs, curves)) for claim in CLAIMS.values() if claim.experiment == experiment]


def register_claim(claim_id: str, lecture: str, trend: str | None = None) -> Callable[[ClaimFn], ClaimFn]:
    """Decorator registering ``fn(runs, curves) -> ClaimResult`` as claim ``claim_id`` of the study whose
    package defines it.

    ``trend``: the id of a budget study's claim deciding whether this claim's quantity moves toward the
    lecture's result as the training budget grows; REPORT.md shows its verdict beside a ✗ of this one.
    """

    def decorator(fn: ClaimFn) -> ClaimFn:
        if claim_id in CLAIMS:
            raise ValueError(f"claim {claim_id!r} is already registered")
        CLAIMS[claim_id] = Claim(study_of(fn.__module__), claim_id, lecture, fn, trend)
        return fn

    return decorator


discover("claims")  # every study's claims.py registers its claims
