"""One decision rule for every claim: an effect, its 95 % interval over seeds, and a three-way verdict.

The rule was fixed before the data it judges were seen: each claim names the quantity its sentence is about
(the effect), a threshold and the side of it the claim puts the effect on, and neither the rule nor a
claim's threshold is tuned after looking at results.

Seeds are the unit. Runs of one configuration differ only in their seed, so the spread over seeds is the
noise a claim has to beat; batches, epochs or test samples within one run are not independent repetitions,
and counting them would make any difference look significant. Each seed gives one value per group, n counts
seeds (per group: n = 4 + 4), and a seed without a value (e.g. a diverged run) is left out and the claim
says so.

The interval is a two-sided 95 % confidence interval for the effect: a t-interval where a closed form
exists (the mean of per-seed values or of paired per-seed differences; Welch's t with Welch-Satterthwaite
degrees of freedom for a difference of group means or a difference of differences; a ratio as a t-interval
on log values, exponentiated, i.e. a ratio of geometric means; a least-squares slope), otherwise a
percentile bootstrap resampling seeds within each group (10,000 resamples, fixed random seed); resamples
where the statistic is undefined (e.g. a zero denominator) are dropped and counted, and if more than 10 % of
them are, there is no interval. A share of independent units with a property (seeds that diverged, critical
points of independent initialisations that are not minima) has a Wilson score interval, a difference of two
such shares the Agresti-Caffo interval (Wald after adding one unit with and one without the property to each
group). A deterministic computation (no seed: e.g. a path on a 2-D surface) is its own interval, one value
(method exact). Each result names its method.

✓ (reproduced): the whole interval lies on the claimed side of the threshold (for a claim of similarity:
inside the band). ✗ (contradicted): the whole interval lies on the other side (outside the band).
— (inconclusive): the interval contains the threshold, or there is none: too few seeds (a group with
n < 2) or more than 10 % of the bootstrap resamples undefined; the result says which. A ✓ or ✗ is thus a
one-sided test at the 2.5 % level.

Rank claims ("the sharper the solution, the lower its test accuracy") are decided by Spearman's ρ and its
two-sided p-value at α = 0.05: ✓ significant with the claimed sign, ✗ significant with the opposite sign,
— otherwise; ρ is shown with a 95 % interval (Fisher z, variance 1.06 / (n - 3)) and n, the number of
solutions. For n ≤ 8 the p-value is an exact permutation p, the share of all n! orderings of y whose |ρ|
reaches the observed one (4 solutions in perfect order: p = 2/24 = 0.083, so a ✓ or ✗ needs at least 5);
for n > 8 it is the t approximation (n - 2 degrees of freedom). A correlation that two clusters could create
on their own (e.g. SB and LB solutions) is decided within them: a partial Spearman correlation given the
cluster, its p from permuting y within clusters (exact over all such orderings when they number at most
8! = 40,320, else 10,000 random ones with a fixed seed, p = (1 + count) / (1 + 10,000)), or one decision per
cluster.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

#: The rule in plain words, for REPORT.md's header (the module docstring without its first line).
RULE = __doc__.split("\n\n", 1)[1].strip()

#: Confidence level of every interval.
LEVEL = 0.95
#: Significance level of rank tests.
ALPHA = 0.05
#: Bootstrap resamples.
N_RESAMPLES = 10_000
#: Up to this many points a rank test's p is exact, over all orderings within levels (at most 8! = 40,320).
EXACT_N = 8
MAX_ORDERINGS = math.factorial(EXACT_N)
#: Random orderings of a permutation p when there are more than MAX_ORDERINGS.
N_PERMUTATIONS = 10_000

#: A threshold, or a band (low, high) for side "within".
Threshold = float | tuple[float, float]
#: Values per seed, or groups of them (a mapping names each group in the reasons).
Groups = Sequence[ArrayLike] | Mapping[str, ArrayLike]

SIDES = ("above", "below", "within")
RANK_SIDES = ("negative", "positive")


@dataclass(frozen=True)
class Decision:
    """An effect, its 95 % interval (NaN: none), the units per group, how it was decided and the verdict
    (True ✓, False ✗, None —) with its reason; ``p`` for rank tests."""

    effect: float
    low: float
    high: float
    ns: tuple[int, ...]
    method: str
    threshold: Threshold
    side: str
    verdict: bool | None
    reason: str
    p: float | None = None

    @property
    def n(self) -> int:
        """Units (seeds, or solutions of a rank test) over all groups."""
        return sum(self.ns)

    def text(self, unit: str = "", digits: int = 2, scale: float = 1.0, signed: bool = True) -> str:
        """A table cell: ``+0.90 [+0.62, +1.18] points, n = 4 + 4`` (``signed=False`` for ratios)."""

        def number(value: float) -> str:
            return f"{scale * value:{'+' if signed else ''}.{digits}f}" if not math.isnan(value) else "—"

        has_interval = not (math.isnan(self.low) or math.isnan(self.high))
        interval = f" [{number(self.low)}, {number(self.high)}]" if has_interval else ""
        units = f" {unit}" if unit else ""
        missing = "" if has_interval else " (no interval)"
        p = f", p = {self.p:.2g}" if self.p is not None else ""
        return f"{number(self.effect)}{interval}{units}{missing}{p}, n = {' + '.join(map(str, self.ns))}"


def _verdict(low: float, high: float, threshold: Threshold, side: str) -> tuple[bool | None, str]:
    if math.isnan(low) or math.isnan(high):
        return None, "no interval"
    if side == "within":
        band = f"[{threshold[0]:g}, {threshold[1]:g}]"
        if threshold[0] < low and high < threshold[1]:
            return True, f"interval inside {band}"
        if high < threshold[0] or low > threshold[1]:
            return False, f"interval outside {band}"
        return None, f"interval crosses an edge of {band}"
    if low > threshold:
        return side == "above", f"interval above {threshold:g}"
    if high < threshold:
        return side == "below", f"interval below {threshold:g}"
    return None, f"interval straddles {threshold:g}"


def _check_side(threshold: Threshold, side: str) -> None:
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, not {side!r}")
    if (side == "within") != isinstance(threshold, tuple):
        raise ValueError("side 'within' takes a band (low, high) as threshold; 'above'/'below' a number")
    if side == "within" and not threshold[0] < threshold[1]:
        raise ValueError(f"band {threshold} must be (low, high) with low < high")


def decide_interval(
    effect: float,
    low: float,
    high: float,
    threshold: Threshold = 0.0,
    side: str = "above",
    n: int | Sequence[int] = (),
    method: str = "",
) -> Decision:
    """The three-way core: ✓ if [low, high] lies on ``side`` of ``threshold`` ("within": inside the band),
    ✗ if entirely on the other side (outside it), — if it straddles or is missing (NaN)."""
    _check_side(threshold, side)
    ns = (int(n),) if np.ndim(n) == 0 else tuple(int(k) for k in n)
    verdict, reason = _verdict(float(low), float(high), threshold, side)
    return Decision(float(effect), float(low), float(high), ns, method, threshold, side, verdict, reason)


#: The method of a deterministic computation's decision.
EXACT = "exact: one deterministic computation, no seed noise"


def decide_exact(value: float, threshold: Threshold = 0.0, side: str = "above") -> Decision:
    """A deterministic number (no seed noise: one computation) decided against ``threshold``: its interval
    is the number itself, n = 1."""
    return decide_interval(value, value, value, threshold, side, n=(1,), method=EXACT)


def _no_interval(
    effect: float, ns: Sequence[int], method: str, threshold: Threshold, side: str, reason: str
) -> Decision:
    return replace(decide_interval(effect, math.nan, math.nan, threshold, side, ns, method), reason=reason)


def _values(values: ArrayLike) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"expected one value per seed (1-D), got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("values must be finite: leave out seeds without a value before deciding")
    return array


def _groups(groups: Groups) -> tuple[list[str], list[np.ndarray]]:
    if isinstance(groups, Mapping):
        return [str(name) for name in groups], [_values(v) for v in groups.values()]
    return [f"group {i + 1}" for i in range(len(groups))], [_values(v) for v in groups]


def _seeds(n: int) -> str:
    return {0: "no seed", 1: "one seed"}.get(n, f"{n} seeds")


def _too_few(names: Sequence[str], ns: Sequence[int]) -> str | None:
    """Why no interval can be formed (a group with fewer than 2 seeds), None if it can."""
    short = [f"{name}: {_seeds(n)}" for name, n in zip(names, ns, strict=True) if n < 2]
    return f"{', '.join(short)}: no interval" if short else None


def _mean(values: Sequence[float] | np.ndarray) -> float:
    return float(np.mean(values)) if len(values) else math.nan


def _t_interval(effect: float, se: float, df: float) -> tuple[float, float]:
    half = 0.0 if se == 0 else float(stats.t.ppf(0.5 + LEVEL / 2, df)) * se
    return effect - half, effect + half


def _decide_mean(values: np.ndarray, threshold: Threshold, side: str, method: str) -> Decision:
    n = len(values)
    if n < 2:
        return _no_interval(_mean(values), (n,), method, threshold, side, f"{_seeds(n)}: no interval")
    effect = _mean(values)
    low, high = _t_interval(effect, float(np.std(values, ddof=1)) / math.sqrt(n), n - 1)
    return decide_interval(effect, low, high, threshold, side, n, method)


def decide_mean(values: ArrayLike, threshold: Threshold = 0.0, side: str = "above") -> Decision:
    """The mean of per-seed values with its t-interval (n - 1 degrees of freedom)."""
    return _decide_mean(_values(values), threshold, side, "t")


def decide_paired(a: ArrayLike, b: ArrayLike, threshold: Threshold = 0.0, side: str = "above") -> Decision:
    """The mean of per-seed differences a - b (a[i] and b[i] of the same seed) with its t-interval."""
    a, b = _values(a), _values(b)
    if len(a) != len(b):
        raise ValueError(f"paired values need one of each per seed: {len(a)} vs {len(b)}")
    return _decide_mean(a - b, threshold, side, "paired t")


def decide_contrast(
    groups: Groups,
    weights: Sequence[float] = (1.0, -1.0),
    threshold: Threshold = 0.0,
    side: str = "above",
) -> Decision:
    """The contrast sum_g w_g mean_g of independent groups of seeds with its Welch t-interval
    (Welch-Satterthwaite degrees of freedom): weights (1, -1) a difference of means (the default),
    (1, -1, -1, 1) a difference of differences."""
    names, arrays = _groups(groups)
    if len(weights) != len(arrays):
        raise ValueError(f"{len(weights)} weights for {len(arrays)} groups")
    ns = tuple(len(a) for a in arrays)
    effect = float(sum(w * _mean(a) for w, a in zip(weights, arrays, strict=True)))
    if (why := _too_few(names, ns)) is not None:
        return _no_interval(effect, ns, "Welch t", threshold, side, why)
    terms = [w**2 * float(np.var(a, ddof=1)) / len(a) for w, a in zip(weights, arrays, strict=True)]
    var = sum(terms)
    df = var**2 / sum(t**2 / (n - 1) for t, n in zip(terms, ns, strict=True)) if var > 0 else math.inf
    low, high = _t_interval(effect, math.sqrt(var), df)
    return decide_interval(effect, low, high, threshold, side, ns, "Welch t")


def _log(threshold: Threshold) -> Threshold:
    if isinstance(threshold, tuple):
        return (math.log(threshold[0]), math.log(threshold[1]))
    return math.log(threshold)


def decide_ratio(
    a: ArrayLike, b: ArrayLike, threshold: Threshold = 1.0, side: str = "above", paired: bool = False
) -> Decision:
    """The ratio of geometric means a / b ("LB is 3.0x sharper"): a t-interval on log values (Welch, or
    paired per seed), exponentiated. Values must be positive."""
    a, b = _values(a), _values(b)
    if (a <= 0).any() or (b <= 0).any():
        raise ValueError("a ratio of geometric means needs positive values")
    log_a, log_b, log_threshold = np.log(a), np.log(b), _log(threshold)
    if paired:
        logs = decide_paired(log_a, log_b, log_threshold, side)
    else:
        logs = decide_contrast({"numerator": log_a, "denominator": log_b}, (1, -1), log_threshold, side)
    effect, low, high = (math.exp(v) for v in (logs.effect, logs.low, logs.high))
    ratio = decide_interval(effect, low, high, threshold, side, logs.ns, f"{logs.method} on logs")
    return ratio if not math.isnan(logs.low) else replace(ratio, reason=logs.reason)


def _z() -> float:
    return float(stats.norm.ppf(0.5 + LEVEL / 2))


def _count(count: int, n: int) -> tuple[int, int]:
    if not 0 <= count <= n:
        raise ValueError(f"a share needs 0 <= count <= n, not {count} of {n}")
    return int(count), int(n)


def decide_share(count: int, n: int, threshold: Threshold = 0.5, side: str = "above") -> Decision:
    """The share count / n of n independent units with a property (e.g. critical points, each from its own
    random initialisation, with a negative Hessian eigenvalue) and its Wilson score interval."""
    count, n = _count(count, n)
    method = "Wilson score"
    if n < 2:
        share = count / n if n else math.nan
        return _no_interval(share, (n,), method, threshold, side, f"{n} unit{'s' * (n != 1)}: no interval")
    p, z2 = count / n, _z() ** 2
    center = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = math.sqrt(z2 * p * (1 - p) / n + z2**2 / (4 * n**2)) / (1 + z2 / n)
    return decide_interval(p, max(center - half, 0.0), min(center + half, 1.0), threshold, side, n, method)


def decide_share_difference(
    groups: Mapping[str, tuple[int, int]], threshold: Threshold = 0.0, side: str = "above"
) -> Decision:
    """The difference count_a / n_a - count_b / n_b of two independent groups of units, given as
    ``{name: (count, n)}`` (e.g. seeds that diverged without and with clipping), with the Agresti-Caffo
    interval: the Wald interval of the shares after adding one unit with and one without to each group."""
    if len(groups) != 2:
        raise ValueError(f"a difference of shares needs two groups, not {len(groups)}")
    names = list(groups)
    (count_a, n_a), (count_b, n_b) = (_count(*groups[name]) for name in names)
    ns, method = (n_a, n_b), "Agresti-Caffo"
    effect = count_a / n_a - count_b / n_b if n_a and n_b else math.nan
    if (why := _too_few(names, ns)) is not None:
        return _no_interval(effect, ns, method, threshold, side, why)
    a, b = (count_a + 1) / (n_a + 2), (count_b + 1) / (n_b + 2)
    half = _z() * math.sqrt(a * (1 - a) / (n_a + 2) + b * (1 - b) / (n_b + 2))
    low, high = max(a - b - half, -1.0), min(a - b + half, 1.0)
    return decide_interval(effect, low, high, threshold, side, ns, method)


def _bootstrap_method(paired: bool, n_resamples: int, dropped: int) -> str:
    counts = f"{n_resamples:,} resamples over seeds"
    if dropped:
        counts += f", {dropped:,} dropped: not finite"
    return f"{'paired ' if paired else ''}bootstrap ({counts})"


def decide_bootstrap(
    statistic: Callable[..., float],
    groups: Groups,
    threshold: Threshold = 0.0,
    side: str = "above",
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    paired: bool = False,
) -> Decision:
    """``statistic(*groups)`` with a percentile bootstrap interval: seeds resampled with replacement within
    each group, or the same seed indices in every group when ``paired``. Deterministic for a given ``seed``;
    resamples where the statistic is not finite are dropped and counted in the method, and if more than 10 %
    of them are, there is no interval (verdict —)."""
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, not {n_resamples}")
    names, arrays = _groups(groups)
    ns = tuple(len(a) for a in arrays)
    if paired and len(set(ns)) > 1:
        raise ValueError(f"paired groups need the same seeds: {ns}")
    method = _bootstrap_method(paired, n_resamples, dropped=0)
    with np.errstate(all="ignore"):
        effect = float(statistic(*arrays)) if min(ns) > 0 else math.nan
    if (why := _too_few(names, ns)) is not None:
        return _no_interval(effect, ns, method, threshold, side, why)
    if not math.isfinite(effect):
        return _no_interval(effect, ns, method, threshold, side, "statistic not finite on the data")
    rng = np.random.default_rng(seed)
    if paired:
        shared = rng.integers(0, ns[0], size=(n_resamples, ns[0]))
        indices = [shared] * len(arrays)
    else:
        indices = [rng.integers(0, n, size=(n_resamples, n)) for n in ns]
    with np.errstate(all="ignore"):
        values = np.array(
            [statistic(*(a[i[r]] for a, i in zip(arrays, indices, strict=True))) for r in range(n_resamples)],
            dtype=float,
        )
    finite = values[np.isfinite(values)]
    dropped = n_resamples - len(finite)
    method = _bootstrap_method(paired, n_resamples, dropped)
    if 10 * dropped > n_resamples:
        why = f"{dropped:,} of {n_resamples:,} resamples undefined (> 10 %)"
        return _no_interval(effect, ns, method, threshold, side, why)
    low, high = np.percentile(finite, [50 * (1 - LEVEL), 50 * (1 + LEVEL)])
    return decide_interval(effect, low, high, threshold, side, ns, method)


def decide_slope(x: ArrayLike, y: ArrayLike, threshold: Threshold = 0.0, side: str = "above") -> Decision:
    """The least-squares slope of y on x with its t-interval (n - 2 degrees of freedom), each point one
    independent run. For per-seed slopes over a shared x: the seeds' slopes to :func:`decide_mean`."""
    x, y = _values(x), _values(y)
    if len(x) != len(y):
        raise ValueError(f"{len(x)} x values for {len(y)} y values")
    method = "least-squares slope, t"
    if len(x) < 3 or np.ptp(x) == 0:
        why = f"{len(x)} points, 3 needed" if len(x) < 3 else "x is constant"
        slope = float(np.polyfit(x, y, 1)[0]) if len(x) == 2 and np.ptp(x) > 0 else math.nan
        return _no_interval(slope, (len(x),), method, threshold, side, f"{why}: no interval")
    fit = stats.linregress(x, y)
    low, high = _t_interval(float(fit.slope), float(fit.stderr), len(x) - 2)
    return decide_interval(float(fit.slope), low, high, threshold, side, len(x), method)


def _rank_residuals(values: np.ndarray, design: np.ndarray) -> np.ndarray:
    ranks = stats.rankdata(values)
    return ranks - design @ np.linalg.lstsq(design, ranks, rcond=None)[0]


def _levels(columns: np.ndarray) -> list[np.ndarray] | None:
    """Indices of each level of a categorical covariate (at most n / 2 distinct rows), None if it is not."""
    values, inverse = np.unique(columns, axis=0, return_inverse=True)
    if len(values) > len(columns) / 2:
        return None
    inverse = inverse.reshape(-1)
    return [np.flatnonzero(inverse == level) for level in range(len(values))]


def _enumerable(levels: Sequence[np.ndarray]) -> bool:
    """Whether the orderings within levels number at most MAX_ORDERINGS (a level of 9 is already too many)."""
    return math.prod(math.factorial(min(len(level), EXACT_N + 1)) for level in levels) <= MAX_ORDERINGS


@functools.cache
def _permutations(m: int) -> np.ndarray:
    """All m! orderings of range(m), one per row (read-only: cached)."""
    orderings = np.array(list(itertools.permutations(range(m))), dtype=np.intp)
    orderings.flags.writeable = False
    return orderings


def _orderings(levels: Sequence[np.ndarray], n: int) -> np.ndarray:
    """Orderings of n points that move each point only within its level, one per row: all of them if
    enumerable, else N_PERMUTATIONS random ones (fixed seed)."""
    if _enumerable(levels):
        rows = np.arange(n)[None, :]
        for level in levels:
            block = level[_permutations(len(level))]
            rows = np.repeat(rows, len(block), axis=0)
            rows[:, level] = np.tile(block, (len(rows) // len(block), 1))
        return rows
    rng = np.random.default_rng(0)
    rows = np.tile(np.arange(n), (N_PERMUTATIONS, 1))
    for level in levels:
        rows[:, level] = rng.permuted(np.tile(level, (N_PERMUTATIONS, 1)), axis=1)
    return rows


def _permutation_p(rx: np.ndarray, ry: np.ndarray, rho: float, levels: Sequence[np.ndarray]) -> float:
    """Two-sided permutation p of ρ between rank residuals: the share of orderings of y within levels with
    |ρ| at least the observed (exact), or (1 + count) / (1 + N_PERMUTATIONS) over random ones. Permuting
    within levels commutes with the regression on covariates constant within levels, so ry need not be
    refitted."""
    rows = _orderings(levels, len(ry))
    rhos = ry[rows] @ rx / math.sqrt((rx @ rx) * (ry @ ry))
    count = int(np.count_nonzero(np.abs(rhos) >= abs(rho) - 1e-9))
    return count / len(rows) if _enumerable(levels) else (1 + count) / (1 + len(rows))


def _rank_method(k: int, levels: Sequence[np.ndarray] | None) -> str:
    name = "partial Spearman" if k else "Spearman"
    if levels is None:
        return f"{name}, t approximation"
    within = " within covariate levels" if k else ""
    if _enumerable(levels):
        return f"{name}, exact permutation p{within}"
    return f"{name}, Monte Carlo permutation p{within} ({N_PERMUTATIONS:,} random orderings)"


def _rank_verdict(rho: float, p: float, side: str, alpha: float) -> tuple[bool | None, str]:
    if not p < alpha:
        return None, f"not significant: p = {p:.2g} >= {alpha:g}"
    if (rho < 0) == (side == "negative"):
        return True, f"significant with the claimed sign: p = {p:.2g} < {alpha:g}"
    return False, f"significant with the opposite sign: p = {p:.2g} < {alpha:g}"


def decide_rank(
    x: ArrayLike,
    y: ArrayLike,
    side: str = "negative",
    alpha: float = ALPHA,
    covariate: ArrayLike | None = None,
) -> Decision:
    """Spearman's ρ(x, y), its two-sided p against ``alpha`` and a Fisher-z interval (variance
    1.06 / (n - 3 - k)); p is exact over all n! orderings of y for n <= EXACT_N, else from t with n - 2 df
    (as scipy's spearmanr). With ``covariate`` (n values, or n x k): the partial Spearman correlation, the
    rank residuals of x and y after regressing each on the covariates' ranks; p from permuting y within the
    covariate's levels if it is categorical (at most n / 2 distinct values; exact up to MAX_ORDERINGS
    orderings, else N_PERMUTATIONS random ones), else from t with n - 2 - k df."""
    if side not in RANK_SIDES:
        raise ValueError(f"side must be one of {RANK_SIDES}, not {side!r}")
    x, y = _values(x), _values(y)
    n = len(x)
    if len(y) != n:
        raise ValueError(f"{n} x values for {len(y)} y values")
    columns = np.empty((n, 0)) if covariate is None else np.asarray(covariate, dtype=float).reshape(n, -1)
    if not np.isfinite(columns).all():
        raise ValueError("covariate values must be finite")
    design = np.column_stack([np.ones(n), *(stats.rankdata(c) for c in columns.T)])
    k = columns.shape[1]
    all_of_y = [np.arange(n)] if n <= EXACT_N else None
    levels = _levels(columns) if k else all_of_y
    method = _rank_method(k, levels)
    df = n - 2 - k
    undecided = Decision(math.nan, math.nan, math.nan, (n,), method, 0.0, side, None, "")
    if df < 1:
        return replace(undecided, reason=f"{n} points, {3 + k} needed: no rank test")
    rx, ry = _rank_residuals(x, design), _rank_residuals(y, design)
    if min(np.abs(rx).max(), np.abs(ry).max()) < 1e-9 * n:
        return replace(undecided, reason="x or y constant" + (" given the covariate" if k else "") + ": no ρ")
    rho = float(np.clip(rx @ ry / math.sqrt((rx @ rx) * (ry @ ry)), -1.0, 1.0))
    if levels is None:
        with np.errstate(divide="ignore"):
            t = rho * np.sqrt(np.divide(df, max(1.0 - rho**2, 0.0)))
        p = float(2 * stats.t.sf(abs(t), df))
    else:
        p = _permutation_p(rx, ry, rho, levels)
    low, high = math.nan, math.nan
    if df > 1:
        with np.errstate(divide="ignore"):
            z, half = np.arctanh(rho), stats.norm.ppf(0.5 + LEVEL / 2) * math.sqrt(1.06 / (df - 1))
        low, high = float(np.tanh(z - half)), float(np.tanh(z + half))
    verdict, reason = _rank_verdict(rho, p, side, alpha)
    return Decision(rho, low, high, (n,), method, 0.0, side, verdict, reason, p)


def decide_rank_within(
    x: ArrayLike, y: ArrayLike, groups: ArrayLike, side: str = "negative", alpha: float = ALPHA
) -> dict[Hashable, Decision]:
    """:func:`decide_rank` within each group (e.g. batch-size regime), in order of first appearance."""
    x, y, labels = _values(x), _values(y), np.asarray(groups)
    if not len(x) == len(y) == len(labels):
        raise ValueError(f"{len(x)} x, {len(y)} y and {len(labels)} group values")
    order = dict.fromkeys(labels.tolist())
    return {g: decide_rank(x[labels == g], y[labels == g], side, alpha) for g in order}
