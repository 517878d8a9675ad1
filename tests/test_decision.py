"""The decision rule: every function gives ✓, ✗ and — on synthetic seeds; t-intervals and Welch's degrees of
freedom match a hand computation; the bootstrap is reproducible, covers the truth and gives — when more than
10 % of its resamples are undefined; rank tests with few points take an exact permutation p (hand-counted
orderings), more points the t approximation; the partial Spearman correlation removes a correlation made
only by two clusters; too few seeds give — with the reason; the cells print as REPORT.md shows them."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats

from optfactors import decision
from optfactors.decision import (
    decide_bootstrap,
    decide_contrast,
    decide_exact,
    decide_interval,
    decide_mean,
    decide_paired,
    decide_rank,
    decide_rank_within,
    decide_ratio,
    decide_share,
    decide_share_difference,
    decide_slope,
)

T975 = stats.t.ppf(0.975, 3)  # 4 seeds: 3 degrees of freedom


def _t(mean: float, sd: float, n: int, df: float) -> tuple[float, float]:
    half = stats.t.ppf(0.975, df) * sd / math.sqrt(n)
    return mean - half, mean + half


def _share(sb: np.ndarray, lb: np.ndarray, remedy: np.ndarray) -> float:
    """Share of the SB - LB gap a remedy closes."""
    return (remedy.mean() - lb.mean()) / (sb.mean() - lb.mean())


def test_the_core_is_three_way_on_each_side_and_for_a_band():
    assert decide_interval(1.0, 0.5, 1.5, 0.0, "above").verdict is True
    assert decide_interval(-1.0, -1.5, -0.5, 0.0, "above").verdict is False
    assert decide_interval(0.2, -0.1, 0.5, 0.0, "above").reason == "interval straddles 0"
    assert decide_interval(0.2, -0.1, 0.5, 0.25, "below").verdict is None
    assert decide_interval(0.1, 0.0, 0.2, 0.25, "below").reason == "interval below 0.25"
    assert decide_interval(0.1, 0.0, 0.2, 0.25, "below").verdict is True
    assert decide_interval(0.3, -0.5, 0.8, (-1.0, 1.0), "within").verdict is True
    assert decide_interval(1.5, 1.2, 1.8, (-1.0, 1.0), "within").reason == "interval outside [-1, 1]"
    assert decide_interval(1.5, 1.2, 1.8, (-1.0, 1.0), "within").verdict is False
    assert decide_interval(0.9, 0.5, 1.3, (-1.0, 1.0), "within").verdict is None
    missing = decide_interval(0.9, math.nan, math.nan, n=(1, 4))
    assert (missing.verdict, missing.reason, missing.n) == (None, "no interval", 5)
    with pytest.raises(ValueError, match="side"):
        decide_interval(1.0, 0.5, 1.5, 0.0, "greater")
    with pytest.raises(ValueError, match="band"):
        decide_interval(1.0, 0.5, 1.5, 1.0, "within")


def test_a_deterministic_computation_is_its_own_interval():
    d = decide_exact(0.4, 5.0, "below")
    assert (d.effect, d.low, d.high, d.ns, d.verdict) == (0.4, 0.4, 0.4, (1,), True)
    assert d.method == "exact: one deterministic computation, no seed noise"
    assert decide_exact(6.0, 5.0, "below").verdict is False
    assert decide_exact(5.0, 5.0, "below").verdict is None  # on the threshold: neither side
    assert decide_exact(1.02, (0.95, 1.05), "within").verdict is True


def test_a_mean_is_the_one_sample_t_interval():
    values = [1.0, 2.0, 4.0, 5.0]  # mean 3, sd sqrt(10/3)
    d = decide_mean(values)
    low, high = _t(3.0, math.sqrt(10 / 3), 4, 3)
    assert (d.effect, d.low, d.high) == (pytest.approx(3.0), pytest.approx(low), pytest.approx(high))
    assert d.low == pytest.approx(3.0 - T975 * math.sqrt(10 / 3) / 2)
    assert (d.verdict, d.reason, d.ns, d.method) == (True, "interval above 0", (4,), "t")
    assert decide_mean(values, threshold=6.0).verdict is False
    assert decide_mean(values, threshold=1.0).verdict is None
    assert decide_mean(values, threshold=1.0).reason == "interval straddles 1"


def test_one_seed_or_none_gives_no_interval_and_says_so():
    one = decide_mean([0.7])
    assert (one.effect, one.verdict, one.reason) == (0.7, None, "one seed: no interval")
    assert math.isnan(one.low) and math.isnan(one.high)
    assert decide_mean([]).reason == "no seed: no interval"
    short = decide_contrast({"SB": [91.0], "LB": [88.0, 89.0, 88.5, 89.5]})
    assert (short.effect, short.verdict, short.ns) == (pytest.approx(2.25), None, (1, 4))
    assert short.reason == "SB: one seed: no interval"
    assert decide_contrast([[1.0, 2.0], [3.0]]).reason == "group 2: one seed: no interval"
    assert decide_ratio([2.0, 3.0], [1.0]).reason == "denominator: one seed: no interval"
    assert decide_bootstrap(_share, {"SB": [92, 93], "LB": [88], "R": [90, 91]}).reason == (
        "LB: one seed: no interval"
    )
    assert decide_slope([1.0, 2.0], [1.0, 3.0]).effect == pytest.approx(2.0)
    assert decide_slope([1.0, 2.0], [1.0, 3.0]).reason == "2 points, 3 needed: no interval"


def test_paired_is_the_t_interval_of_per_seed_differences():
    a, b = np.array([3.0, 4.0, 6.0, 7.0]), np.array([2.0, 2.0, 2.0, 2.0])
    d = decide_paired(a, b)
    low, high = _t(3.0, math.sqrt(10 / 3), 4, 3)
    assert (d.effect, d.low, d.high, d.method) == (3.0, pytest.approx(low), pytest.approx(high), "paired t")
    assert d.verdict is True
    assert decide_paired(b, a).verdict is False
    assert decide_paired(a, b, threshold=4.0).verdict is None
    with pytest.raises(ValueError, match="one of each per seed"):
        decide_paired(a, b[:3])


def test_welch_interval_and_degrees_of_freedom_match_the_formula():
    sb, lb = np.array([90.0, 91.0, 92.0, 93.0, 94.0]), np.array([88.0, 88.5, 89.0])
    v_sb, v_lb = sb.var(ddof=1) / 5, lb.var(ddof=1) / 3
    df = (v_sb + v_lb) ** 2 / (v_sb**2 / 4 + v_lb**2 / 2)
    half = stats.t.ppf(0.975, df) * math.sqrt(v_sb + v_lb)
    d = decide_contrast({"SB": sb, "LB": lb})
    assert d.effect == pytest.approx(3.5)
    assert (d.low, d.high) == (pytest.approx(3.5 - half), pytest.approx(3.5 + half))
    assert 5 < df < 6  # Welch-Satterthwaite, not the pooled 6
    assert (d.verdict, d.ns, d.method) == (True, (5, 3), "Welch t")
    assert decide_contrast({"LB": lb, "SB": sb}).verdict is False
    assert decide_contrast({"SB": sb, "LB": lb}, threshold=3.0).verdict is None
    assert decide_contrast({"SB": sb, "LB": lb}, threshold=(-6.0, 6.0), side="within").verdict is True


def test_a_difference_of_differences_across_budgets():
    groups = {
        "sgd long": np.array([0.50, 0.52, 0.48, 0.51]),
        "adam long": np.array([0.20, 0.22, 0.19, 0.21]),
        "sgd short": np.array([0.90, 0.92, 0.88, 0.91]),
        "adam short": np.array([0.80, 0.83, 0.79, 0.80]),
    }
    weights = (1, -1, -1, 1)
    terms = [w**2 * g.var(ddof=1) / 4 for w, g in zip(weights, groups.values(), strict=True)]
    df = sum(terms) ** 2 / sum(t**2 / 3 for t in terms)
    effect = sum(w * g.mean() for w, g in zip(weights, groups.values(), strict=True))
    d = decide_contrast(groups, weights)
    half = stats.t.ppf(0.975, df) * math.sqrt(sum(terms))
    assert d.effect == pytest.approx(0.2)  # margin 0.2975 after the long budget, 0.0975 after the short
    assert (d.effect, d.low, d.high) == (
        pytest.approx(effect),
        pytest.approx(effect - half),
        pytest.approx(effect + half),
    )
    assert (d.verdict, d.ns) == (True, (4, 4, 4, 4))
    assert decide_contrast(groups, weights, threshold=0.5).verdict is False
    assert decide_contrast(groups, weights, threshold=0.2).verdict is None
    with pytest.raises(ValueError, match="3 weights for 4 groups"):
        decide_contrast(groups, (1, -1, 1))


def test_ratio_of_geometric_means_on_lognormal_numbers():
    noise_a, noise_b = np.array([-0.2, 0.0, 0.2, 0.1, -0.1]), np.array([-0.1, 0.1, 0.0, 0.05, -0.05])
    lb, sb = 300.0 * np.exp(noise_a), 100.0 * np.exp(noise_b)  # geometric means 300 and 100
    d = decide_ratio(lb, sb)
    v = noise_a.var(ddof=1) / 5 + noise_b.var(ddof=1) / 5
    df = v**2 / ((noise_a.var(ddof=1) / 5) ** 2 / 4 + (noise_b.var(ddof=1) / 5) ** 2 / 4)
    half = stats.t.ppf(0.975, df) * math.sqrt(v)
    assert d.effect == pytest.approx(3.0)
    assert (d.low, d.high) == (pytest.approx(3.0 * math.exp(-half)), pytest.approx(3.0 * math.exp(half)))
    assert (d.verdict, d.reason, d.method) == (True, "interval above 1", "Welch t on logs")
    assert decide_ratio(lb, sb, threshold=10.0).verdict is False
    assert decide_ratio(lb, sb, threshold=3.0).verdict is None
    assert decide_ratio(lb, sb, threshold=(0.25, 4.0), side="within").verdict is True
    paired = decide_ratio(lb, sb, paired=True)
    diffs = noise_a - noise_b
    low, high = _t(0.0, diffs.std(ddof=1), 5, 4)
    assert (paired.effect, paired.method) == (pytest.approx(3.0), "paired t on logs")
    assert (paired.low, paired.high) == (
        pytest.approx(3.0 * math.exp(low)),
        pytest.approx(3.0 * math.exp(high)),
    )
    with pytest.raises(ValueError, match="positive"):
        decide_ratio([1.0, 0.0], [1.0, 2.0])


def test_bootstrap_is_reproducible_and_covers_the_true_difference():
    rng = np.random.default_rng(7)
    a, b = rng.normal(1.0, 1.0, 20), rng.normal(0.0, 1.0, 20)  # true difference 1

    def difference(x: np.ndarray, y: np.ndarray) -> float:
        return x.mean() - y.mean()

    d = decide_bootstrap(difference, [a, b], n_resamples=4000)
    assert d == decide_bootstrap(difference, [a, b], n_resamples=4000)
    assert decide_bootstrap(difference, [a, b], n_resamples=4000, seed=1).low != d.low
    assert d.low < 1.0 < d.high
    assert d.effect == pytest.approx(a.mean() - b.mean())
    welch = decide_contrast([a, b])
    assert d.high - d.low == pytest.approx(welch.high - welch.low, rel=0.15)
    assert (d.verdict, d.method) == (True, "bootstrap (4,000 resamples over seeds)")


def test_bootstrap_decides_the_share_of_a_gap_closed():
    noise = np.array([-0.3, -0.1, 0.0, 0.1, 0.3])
    sb, lb = 92.0 + noise, 88.0 + noise[::-1]
    closes = decide_bootstrap(_share, {"SB": sb, "LB": lb, "R": 91.0 + noise}, threshold=0.5)
    assert closes.effect == pytest.approx(0.75)
    assert closes.low < 0.75 < closes.high
    assert (closes.verdict, closes.ns, closes.method) == (
        True,
        (5, 5, 5),
        "bootstrap (10,000 resamples over seeds)",
    )
    assert decide_bootstrap(_share, {"SB": sb, "LB": lb, "R": 88.5 + noise}, 0.5).verdict is False
    noisy = decide_bootstrap(_share, {"SB": sb, "LB": lb, "R": 90.0 + 10 * noise}, 0.5, n_resamples=2000)
    assert noisy.verdict is None and noisy.reason == "interval straddles 0.5"


def test_bootstrap_drops_and_counts_resamples_where_the_statistic_is_not_finite():
    values = np.array([0.0, 1.0, 2.0])  # all three resampled 0: 1 / 0 (probability 1/27)
    d = decide_bootstrap(lambda x: 1 / x.mean(), [values], threshold=0.1)
    dropped = int(d.method.split(", ")[1].split(" dropped")[0].replace(",", ""))
    assert 250 < dropped < 500
    assert d.method == f"bootstrap (10,000 resamples over seeds, {dropped:,} dropped: not finite)"
    assert math.isfinite(d.high) and d.verdict is True


def test_bootstrap_gives_no_verdict_when_more_than_a_tenth_of_resamples_are_undefined():
    values = np.array([0.0, 0.0, 1.0])  # a resample of only zeros: 1 / 0 (probability 8/27)
    d = decide_bootstrap(lambda x: 1 / x.mean(), [values], threshold=0.1)
    dropped = int(d.method.split(", ")[1].split(" dropped")[0].replace(",", ""))
    assert 2500 < dropped < 3400
    assert (d.effect, d.verdict) == (3.0, None)
    assert d.reason == f"{dropped:,} of 10,000 resamples undefined (> 10 %)"
    assert math.isnan(d.low) and math.isnan(d.high)
    assert d.text() == "+3.00 (no interval), n = 3"

    def undefined_in_resamples(k: int) -> Callable[[np.ndarray], float]:  # call 0 is the data
        calls = itertools.count()
        return lambda x: math.nan if 1 <= next(calls) <= k else x.mean()

    values = np.array([1.0, 2.0, 3.0])
    tenth = decide_bootstrap(undefined_in_resamples(10), [values], n_resamples=100)
    assert tenth.method == "bootstrap (100 resamples over seeds, 10 dropped: not finite)"
    assert tenth.verdict is True
    more = decide_bootstrap(undefined_in_resamples(11), [values], n_resamples=100)
    assert (more.verdict, more.reason) == (None, "11 of 100 resamples undefined (> 10 %)")
    with pytest.raises(ValueError, match="n_resamples"):
        decide_bootstrap(lambda x: x.mean(), [values], n_resamples=0)


def test_paired_bootstrap_resamples_the_same_seeds_in_every_group():
    b = np.array([1.0, 5.0, 2.0, 8.0])
    paired = decide_bootstrap(lambda x, y: (x - y).mean(), [b + 2.0, b], paired=True, n_resamples=1000)
    assert (paired.low, paired.high, paired.method) == (
        2.0,
        2.0,
        "paired bootstrap (1,000 resamples over seeds)",
    )
    unpaired = decide_bootstrap(lambda x, y: x.mean() - y.mean(), [b + 2.0, b], n_resamples=1000)
    assert unpaired.high - unpaired.low > 3.0 and unpaired.verdict is None
    with pytest.raises(ValueError, match="same seeds"):
        decide_bootstrap(lambda x, y: 0.0, [b, b[:3]], paired=True)


def test_a_share_has_the_wilson_score_interval():
    d = decide_share(8, 10)
    wilson = (pytest.approx(0.4902, abs=1e-4), pytest.approx(0.9433, abs=1e-4))  # the textbook's 8 of 10
    assert (d.effect, d.low, d.high) == (0.8, *wilson)
    assert (d.verdict, d.ns, d.method) == (None, (10,), "Wilson score")  # 0.49 reaches below 0.5
    assert decide_share(8, 10, 0.4).verdict is True
    all_of_them = decide_share(27, 27, 0.95)  # every point: the interval still reaches below 95 %
    assert (all_of_them.low, all_of_them.high) == (pytest.approx(0.8754, abs=1e-4), pytest.approx(1.0))
    assert all_of_them.verdict is None
    assert decide_share(73, 73, 0.95).verdict is True  # all of n: low = n / (n + z²) > 0.95 from n = 73
    assert decide_share(72, 72, 0.95).verdict is None
    assert decide_share(60, 100, 0.95).verdict is False
    one = decide_share(1, 1)
    assert (one.effect, one.verdict, one.reason) == (1.0, None, "1 unit: no interval")
    with pytest.raises(ValueError, match="0 <= count <= n"):
        decide_share(3, 2)


def test_a_difference_of_shares_has_the_agresti_caffo_interval():
    d = decide_share_difference({"unclipped": (4, 4), "clipped": (0, 4)})
    a, b = 5 / 6, 1 / 6  # one unit with and one without added to each group
    half = stats.norm.ppf(0.975) * math.sqrt(2 * a * (1 - a) / 6)
    assert (d.effect, d.low, d.high) == (1.0, pytest.approx(a - b - half), 1.0)
    assert (d.verdict, d.ns, d.method) == (True, (4, 4), "Agresti-Caffo")
    assert decide_share_difference({"a": (2, 2), "b": (0, 2)}).verdict is None  # 2 + 2 seeds never decide
    assert decide_share_difference({"a": (0, 5), "b": (5, 5)}).verdict is False
    short = decide_share_difference({"unclipped": (2, 2), "clipped": (0, 1)})
    assert (short.effect, short.verdict, short.reason) == (1.0, None, "clipped: one seed: no interval")


def test_slope_is_the_least_squares_t_interval():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    y = 2.0 * x + np.array([0.1, -0.2, 0.15, -0.05, 0.0])
    slope = ((x - x.mean()) @ (y - y.mean())) / ((x - x.mean()) @ (x - x.mean()))
    residuals = y - y.mean() - slope * (x - x.mean())
    se = math.sqrt(residuals @ residuals / 3 / ((x - x.mean()) @ (x - x.mean())))
    d = decide_slope(x, y)
    assert (d.effect, d.low, d.high) == (
        pytest.approx(slope),
        pytest.approx(slope - stats.t.ppf(0.975, 3) * se),
        pytest.approx(slope + stats.t.ppf(0.975, 3) * se),
    )
    assert (d.verdict, d.n) == (True, 5)
    assert decide_slope(x, -y).verdict is False
    assert decide_slope(x, y, threshold=2.0).verdict is None
    assert decide_slope([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]).reason == "x is constant: no interval"


def test_rank_is_scipys_spearman_with_a_fisher_z_interval():
    sharpness = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0])
    accuracy = np.array([9.0, 10.0, 8.0, 7.0, 5.0, 6.0, 4.0, 2.0, 3.0, 1.0])
    d = decide_rank(sharpness, accuracy)
    expected = stats.spearmanr(sharpness, accuracy)
    assert (d.effect, d.p) == (pytest.approx(expected.statistic), pytest.approx(expected.pvalue))
    z, half = math.atanh(d.effect), 1.959964 * math.sqrt(1.06 / 7)
    assert (d.low, d.high) == (pytest.approx(math.tanh(z - half)), pytest.approx(math.tanh(z + half)))
    assert (d.verdict, d.side, d.ns, d.method) == (True, "negative", (10,), "Spearman, t approximation")
    assert d.reason.startswith("significant with the claimed sign: p = ")
    assert decide_rank(sharpness, accuracy, side="positive").verdict is False
    weak = decide_rank(sharpness, np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0]))
    assert weak.verdict is None and weak.reason.startswith("not significant: p = ")
    assert decide_rank([1.0, 2.0], [2.0, 1.0]).reason == "2 points, 3 needed: no rank test"
    assert decide_rank([1.0, 2.0, 3.0], [2.0, 2.0, 2.0]).reason == "x or y constant: no ρ"
    with pytest.raises(ValueError, match="side"):
        decide_rank(sharpness, accuracy, side="above")


def test_rank_tests_with_up_to_8_points_take_an_exact_permutation_p():
    four = decide_rank([1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0], side="positive")
    # of the 24 orderings of y, only this one (ρ = 1) and its reverse (ρ = -1) reach |ρ| = 1
    assert (four.effect, four.p) == (pytest.approx(1.0), pytest.approx(2 / 24))
    assert (four.verdict, four.reason) == (None, "not significant: p = 0.083 >= 0.05")
    assert four.method == "Spearman, exact permutation p"
    five = decide_rank([1.0, 2.0, 3.0, 4.0, 5.0], [5.0, 4.0, 3.0, 2.0, 1.0])
    assert (five.p, five.verdict) == (pytest.approx(2 / 120), True)
    assert decide_rank([1.0, 2.0, 3.0, 4.0, 5.0], [5.0, 4.0, 3.0, 2.0, 1.0], side="positive").verdict is False
    # 8 points, reversed but for one adjacent swap (ρ = -(1 - 6 * 2 / 504)): |ρ| is reached by the reversal,
    # its 7 adjacent swaps and their 8 mirror images, 16 of 8! = 40,320 orderings
    eight = decide_rank(np.arange(8.0), [8.0, 6.0, 7.0, 5.0, 4.0, 3.0, 2.0, 1.0])
    assert (eight.effect, eight.p) == (pytest.approx(-(1 - 12 / 504)), pytest.approx(16 / 40_320))
    x, y = np.array([0.3, 1.2, -0.5, 2.0, 0.9, 1.1]), np.array([1.0, 3.0, 1.0, 2.0, 0.5, 4.0])  # y tied
    rho = stats.spearmanr(x, y).statistic
    rhos = [stats.spearmanr(x, y[list(o)]).statistic for o in itertools.permutations(range(6))]
    assert decide_rank(x, y).p == pytest.approx(np.mean(np.abs(rhos) >= abs(rho) - 1e-12))


def test_rank_tests_with_more_than_8_points_keep_the_t_approximation():
    rng = np.random.default_rng(11)
    for n in (9, 12):
        x = rng.normal(size=n)
        y = -x + rng.normal(size=n)
        d = decide_rank(x, y)
        assert (d.p, d.method) == (pytest.approx(stats.spearmanr(x, y).pvalue), "Spearman, t approximation")


def test_partial_spearman_permutes_y_within_the_levels_of_a_categorical_covariate():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    regime = np.repeat([0.0, 1.0], 4)
    within = np.array([2.0, 4.0, 1.0, 3.0])  # uncorrelated with x's order within each regime
    y = np.concatenate([within, within + 4])
    assert decide_rank(x, y).effect == pytest.approx(1 - 6 * 20 / 504)  # pooled: d = ±1, ±2
    clusters = decide_rank(x, y, side="positive", covariate=regime)
    # within regimes ρ = 0, which every one of the 4! * 4! = 576 orderings reaches
    assert (clusters.effect, clusters.p, clusters.verdict) == (pytest.approx(0.0), pytest.approx(1.0), None)
    assert clusters.method == "partial Spearman, exact permutation p within covariate levels"
    ordered = decide_rank(x, x, side="positive", covariate=regime)
    # ρ = 1: of the 576 orderings within regimes only this one and reversing both regimes reach |ρ| = 1
    assert (ordered.effect, ordered.p, ordered.verdict) == (pytest.approx(1.0), pytest.approx(2 / 576), True)
    assert decide_rank(x, x, side="positive").p == pytest.approx(2 / 40_320)


def _two_clusters(within: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """15 solutions per regime; x and y both shifted by 5 in regime 1, correlated ``within`` each regime."""
    rng = np.random.default_rng(3)
    regime = np.repeat([0.0, 1.0], 15)
    x = rng.normal(size=30)
    y = within * x + math.sqrt(1 - within**2) * rng.normal(size=30)
    return x + 5 * regime, y + 5 * regime, regime


def test_partial_spearman_removes_a_correlation_made_by_two_clusters():
    x, y, regime = _two_clusters(within=0.0)
    pooled = decide_rank(x, y, side="positive")
    assert pooled.effect > 0.6 and pooled.p < 1e-4 and pooled.verdict is True
    partial = decide_rank(x, y, side="positive", covariate=regime)
    ranks = [stats.rankdata(v) for v in (x, y)]
    residuals = [r - np.where(regime == 1, r[regime == 1].mean(), r[regime == 0].mean()) for r in ranks]
    rho = np.corrcoef(*residuals)[0, 1]
    assert partial.effect == pytest.approx(rho)
    # 15! * 15! orderings within regimes: 10,000 random ones, p = (1 + count) / (1 + 10,000)
    assert partial.method == (
        "partial Spearman, Monte Carlo permutation p within covariate levels (10,000 random orderings)"
    )
    assert partial.p * 10_001 == pytest.approx(round(partial.p * 10_001))
    assert partial == decide_rank(x, y, side="positive", covariate=regime)
    t_p = 2 * stats.t.sf(abs(rho) * math.sqrt(27 / (1 - rho**2)), 27)
    assert partial.p == pytest.approx(t_p, abs=0.03)
    assert abs(partial.effect) < 0.3 and partial.verdict is None
    assert partial.high - partial.low == pytest.approx(
        math.tanh(math.atanh(rho) + 1.959964 * math.sqrt(1.06 / 26))
        - math.tanh(math.atanh(rho) - 1.959964 * math.sqrt(1.06 / 26))
    )
    x, y, regime = _two_clusters(within=0.9)
    assert decide_rank(x, y, side="positive", covariate=regime).p == pytest.approx(1 / 10_001)
    assert decide_rank(x, y, side="positive", covariate=regime).verdict is True
    assert decide_rank(x, y, side="negative", covariate=regime).verdict is False


def test_partial_spearman_given_a_continuous_covariate_keeps_the_t_approximation():
    x, y, regime = _two_clusters(within=0.0)
    shifted = regime + np.linspace(0.0, 0.5, 30)  # 30 distinct values: not categorical
    d = decide_rank(x, y, side="positive", covariate=shifted)
    p = 2 * stats.t.sf(abs(d.effect) * math.sqrt(27 / (1 - d.effect**2)), 27)
    assert (d.p, d.method) == (pytest.approx(p), "partial Spearman, t approximation")


def test_rank_within_each_regime():
    x, y, regime = _two_clusters(within=0.0)
    labels = np.where(regime == 1, "lb", "sb")
    within = decide_rank_within(x, y, labels, side="positive")
    assert list(within) == ["sb", "lb"]
    assert within["lb"] == decide_rank(x[regime == 1], y[regime == 1], side="positive")
    assert [d.verdict for d in within.values()] == [None, None]
    assert [d.n for d in within.values()] == [15, 15]


def test_values_must_be_finite():
    with pytest.raises(ValueError, match="finite"):
        decide_mean([1.0, math.nan, 2.0])
    with pytest.raises(ValueError, match="finite"):
        decide_rank([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], covariate=[0.0, math.nan, 1.0])


def test_text_cells():
    d = decide_interval(0.9, 0.62, 1.18, n=(4, 4), method="Welch t")
    assert d.text("points") == "+0.90 [+0.62, +1.18] points, n = 4 + 4"
    assert decide_interval(-0.5, -0.9, -0.1, n=4).text() == "-0.50 [-0.90, -0.10], n = 4"
    assert (
        decide_interval(0.0123, 0.004, 0.0206, n=(5, 5)).text("%", 1, 100) == "+1.2 [+0.4, +2.1] %, n = 5 + 5"
    )
    ratio = decide_interval(3.0, 2.0, 4.5, 1.0, n=(4, 4))
    assert ratio.text("x", signed=False) == "3.00 [2.00, 4.50] x, n = 4 + 4"
    short = decide_contrast({"SB": [91.0], "LB": [88.0, 89.0, 88.5, 89.5]})
    assert short.text("points") == "+2.25 points (no interval), n = 1 + 4"
    assert decide_mean([]).text() == "— (no interval), n = 0"
    rank = decide_rank([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], [8.0, 6.0, 7.0, 5.0, 4.0, 3.0, 2.0, 1.0])
    assert rank.text() == "-0.98 [-1.00, -0.86], p = 0.0004, n = 8"  # exact: 16 of 40,320 orderings


def test_the_rule_for_the_report_header_is_the_module_docstring():
    assert decision.RULE in decision.__doc__
    phrases = ("Seeds are the unit", "before the data", "95 %", "α = 0.05", "✓", "✗", "—", "n < 2", "10 %")
    for phrase in (*phrases, "exact permutation p", "n! orderings", "40,320"):
        assert phrase in decision.RULE
