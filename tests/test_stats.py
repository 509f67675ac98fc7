"""Spread statistics and verdict tests on inputs whose answers are worked out by hand."""
import math

import pytest
from scipy import stats as scipy_stats

from common import stats
from common.stats import (NO_DIFFERENCE, compare, described, holm, mean_std, quartiles, ranking,
                          trend)


def test_quartiles_of_a_known_sample():
    # 1..9: median 5; linear interpolation puts the quartiles at positions 2 and 6 -> 3 and 7
    assert quartiles(range(1, 10)) == (3.0, 5.0, 7.0)
    assert quartiles([4.0]) == (4.0, 4.0, 4.0)


def test_mean_and_sample_std():
    mean, std = mean_std([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0])
    # sum of squared deviations from 5 is 32, n - 1 = 7
    assert mean == 5.0 and std == pytest.approx((32 / 7) ** 0.5)
    assert mean_std([3.0]) == (3.0, 0.0)
    # the per-seed record: squared deviations from 2 sum to 2, n - 1 = 2 -> std 1
    assert described([1.0, 2.0, 3.0]) == {"mean": 2.0, "std": 1.0, "values": [1.0, 2.0, 3.0]}
    assert described([0.5]) == {"mean": 0.5, "std": 0.0, "values": [0.5]}


def test_welch_on_separated_groups_by_hand():
    # a: mean 2, variance 1; b: mean 16/3, variance 7/3. se^2 = 1/3 + 7/9 = 10/9,
    # t = (10/3) / sqrt(10/9) = sqrt(10); Welch df = (10/9)^2 / ((1/3)^2/2 + (7/9)^2/2) = 3.4483
    r = compare([1, 2, 3], [4, 5, 7])
    t, df = math.sqrt(10), (10 / 9) ** 2 / ((1 / 3) ** 2 / 2 + (7 / 9) ** 2 / 2)
    assert r["effect"] == pytest.approx(10 / 3)
    assert r["p"] == pytest.approx(2 * scipy_stats.t.sf(t, df), rel=1e-9)
    half = scipy_stats.t.ppf(0.975, df) * math.sqrt(10 / 9)
    assert r["ci95"] == pytest.approx([10 / 3 - half, 10 / 3 + half], rel=1e-9)
    assert r["p"] < 0.05 and r["verdict"] == "higher" and r["n"] == [3, 3]
    assert compare([4, 5, 7], [1, 2, 3])["verdict"] == "lower"        # the order matters


def test_overlapping_groups_give_no_difference():
    # means 2 and 3, both variances 1: t = 1 / sqrt(2/3) = 1.2247 on 4 df, p = 0.29
    r = compare([1, 2, 3], [2, 3, 4])
    assert r["p"] == pytest.approx(2 * scipy_stats.t.sf(1 / math.sqrt(2 / 3), 4), rel=1e-9)
    assert r["verdict"] == NO_DIFFERENCE


def test_tied_and_single_seed_groups():
    same = compare([1, 1, 1], [1, 1, 1])
    assert same["p"] == 1.0 and same["verdict"] == NO_DIFFERENCE
    constant = compare([1, 1], [2, 2])
    assert constant["p"] == 0.0 and constant["verdict"] == "higher"
    single = compare([1.0], [2.0, 3.0])
    assert single["verdict"] == "not tested" and single["p"] is None


def test_paired_test_sees_what_the_unpaired_cannot():
    # differences 0.5, 0.6, 0.4: mean 0.5, sd 0.1, t = 0.5 / (0.1 / sqrt 3) = 8.66 on 2 df
    a, b = [1.0, 2.0, 3.0], [1.5, 2.6, 3.4]
    paired = compare(a, b, paired=True)
    assert paired["p"] == pytest.approx(2 * scipy_stats.t.sf(0.5 / (0.1 / math.sqrt(3)), 2),
                                        rel=1e-6)
    assert paired["verdict"] == "higher"
    assert compare(a, b)["verdict"] == NO_DIFFERENCE
    with pytest.raises(ValueError):
        compare([1, 2], [1, 2, 3], paired=True)


def test_holm_by_hand():
    # sorted 0.01, 0.03, 0.04 -> 3 x 0.01 = 0.03, 2 x 0.03 = 0.06, 1 x 0.04 = 0.04 -> max 0.06
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_spearman_handles_ties_whatever_the_row_order():
    # [1, 1, 2] against [1, 2, 3]: ranks 1.5, 1.5, 3 -> rho = 0.866 (= sqrt(3) / 2)
    assert trend([1, 1, 2], [1, 2, 3])["effect"] == pytest.approx(math.sqrt(3) / 2)
    assert trend([2, 1, 1], [3, 2, 1])["effect"] == pytest.approx(math.sqrt(3) / 2)


def test_trend_verdicts():
    x = [1, 2, 3, 4, 5, 6, 7, 8]
    rising = trend(x, [0.1, 0.3, 0.2, 0.5, 0.6, 0.8, 0.7, 0.9])
    assert rising["verdict"] == "rises" and rising["p"] < 0.05
    lo, hi = rising["ci95"]
    assert lo < rising["effect"] < hi <= 1
    assert trend(x, [-v for v in [0.1, 0.3, 0.2, 0.5, 0.6, 0.8, 0.7, 0.9]])["verdict"] == "falls"
    assert trend(x, [5, 1, 7, 2, 8, 3, 6, 4])["verdict"] == "no trend detected"
    assert trend([1, 2], [3, 4])["verdict"] == "not tested"


def test_ranking_names_every_pair_once():
    groups = {"C1": [88.7, 88.9, 88.8], "C2": [88.6, 89.0, 88.75], "C4": [86.8, 86.9, 86.7]}
    r = ranking(groups)
    assert r["order"] == ["C1", "C2", "C4"]
    # every pair named once; no chain of neighbours (C1 > C4 and C2 > C4, C1 and C2 not apart)
    assert r["text"] == "C1 > C4, C2 > C4; no difference detected: C1–C2"
    by_pair = {(q["a"], q["b"]): q for q in r["pairs"]}
    assert by_pair[("C1", "C4")]["verdict"] == "lower"
    assert by_pair[("C1", "C2")]["verdict"] == NO_DIFFERENCE
    # Holm: three tests, each adjusted p at least its raw p
    assert all(q["p_holm"] >= q["p"] for q in r["pairs"])
    loss = ranking({"A": [0.30, 0.31, 0.29], "B": [0.40, 0.41, 0.39]}, higher_is_better=False)
    assert loss["text"] == "A > B"


def test_one_sample_t_by_hand():
    # [1, 2, 3]: mean 2, s = 1, se = 1/sqrt(3), t = 2 sqrt(3) with 2 degrees of freedom, where the
    # two-sided p is 1 - |t| / sqrt(t^2 + 2) = 1 - sqrt(12/14); CI 2 -+ t_{0.975,2} se with
    # t_{0.975,2} = 4.302653
    r = stats.one_sample([1.0, 2.0, 3.0])
    assert r["effect"] == 2.0 and r["n"] == 3 and r["test"] == "one-sample t"
    assert r["p"] == pytest.approx(1 - math.sqrt(12 / 14), rel=1e-6)
    assert r["ci95"] == pytest.approx([2 - 4.302653 / math.sqrt(3), 2 + 4.302653 / math.sqrt(3)],
                                      rel=1e-6)
    assert r["verdict"] == stats.NOT_DETECTED             # p = 0.074
    assert stats.one_sample([1.0, 1.1, 1.2])["verdict"] == "above zero"   # t = 19, p = 0.003
    assert stats.one_sample([-1.0, -1.1, -1.2])["verdict"] == "below zero"
    assert stats.one_sample([0.0, 0.0])["p"] == 1.0 and stats.one_sample([0.5, 0.5])["p"] == 0.0
    assert stats.one_sample([0.3])["verdict"] == "not tested"


def test_contrasts_against_a_reference_by_hand():
    # b vs ref: ref mean 2, variance 1; b mean 34/3, variance 7/3: se^2 = 10/9, t = (28/3) /
    # sqrt(10/9), Welch df as in test_welch_on_separated_groups_by_hand; c equal to ref (p = 1);
    # d a single seed (not tested). Holm over the two tested contrasts only: 2 p_b and 1
    groups = {"ref": [1, 2, 3], "b": [10, 11, 13], "c": [3, 2, 1], "d": [9]}
    out = stats.against(groups, "ref")
    assert list(out) == ["b", "c", "d"]
    df = (10 / 9) ** 2 / ((1 / 3) ** 2 / 2 + (7 / 9) ** 2 / 2)
    p_b = 2 * scipy_stats.t.sf(28 / 3 / math.sqrt(10 / 9), df)
    assert out["b"]["effect"] == pytest.approx(28 / 3) and out["b"]["p"] == pytest.approx(p_b)
    assert out["b"]["p_holm"] == pytest.approx(2 * p_b) and out["b"]["verdict"] == "higher"
    assert out["c"]["p_holm"] == pytest.approx(1.0) and out["c"]["verdict"] == NO_DIFFERENCE
    assert out["d"]["p_holm"] is None and out["d"]["verdict"] == "not tested"
    assert stats.against({"ref": [10, 11, 13], "b": [1, 2, 3]}, "ref")["b"]["verdict"] == "lower"
    # the Welch pair of test_welch_on_separated_groups_by_hand (p 0.042) fails once doubled
    assert stats.against({"ref": [1, 2, 3], "b": [4, 5, 7], "c": [1, 2, 3]},
                         "ref")["b"]["verdict"] == NO_DIFFERENCE


def exact_mann_whitney_p(a, b):
    """Two-sided exact p of U (pairs b > a) by enumerating every split of the pooled values."""
    import itertools
    pooled, n_b = list(a) + list(b), len(b)

    def u(bs, as_):
        return sum((x > y) + 0.5 * (x == y) for x in bs for y in as_)
    mean = len(a) * n_b / 2
    observed = abs(u(b, a) - mean)
    splits = list(itertools.combinations(range(len(pooled)), n_b))
    extreme = sum(abs(u([pooled[i] for i in s], [pooled[i] for i in range(len(pooled))
                                                   if i not in s]) - mean) >= observed - 1e-12
                  for s in splits)
    return extreme / len(splits)


def test_mann_whitney_by_hand():
    a = [1.0, 2.0, 3.0, 4.0]
    # every b above every a: U = 16 of 16, rank-biserial +1, exact p = 2 / C(8, 4) = 2 / 70
    r = stats.compare_ranks(a, [5.0, 6.0, 7.0, 8.0])
    assert r["effect"] == 1.0 and r["p"] == pytest.approx(2 / 70) and r["verdict"] == "higher"
    assert r["test"] == "Mann-Whitney U" and r["n"] == [4, 4]
    assert stats.compare_ranks([5.0, 6.0, 7.0, 8.0], a)["verdict"] == "lower"
    # interleaved: U = 1 + 2 + 3 + 4 = 10, effect 2 * 10 / 16 - 1 = 0.25, not significant
    c = [1.5, 2.5, 3.5, 4.5]
    r = stats.compare_ranks(a, c)
    assert r["effect"] == pytest.approx(0.25) and r["verdict"] == NO_DIFFERENCE
    assert r["p"] == pytest.approx(exact_mann_whitney_p(a, c))
    # ties: b = [2, 3, 3] against a = [1, 1, 2]: U = 0.5 + 2 + 3 + 3 = 8.5 of 9; normal
    # approximation with tie correction (ties of 2, 2, 2: var = 9/12 (7 - 18/30) = 4.8) and
    # continuity correction: z = (8.5 - 4.5 - 0.5) / sqrt(4.8)
    r = stats.compare_ranks([1.0, 1.0, 2.0], [2.0, 3.0, 3.0])
    assert r["effect"] == pytest.approx(2 * 8.5 / 9 - 1)
    assert r["p"] == pytest.approx(2 * scipy_stats.norm.sf(3.5 / math.sqrt(4.8)))
    assert stats.compare_ranks([2.0, 2.0], [2.0, 2.0])["p"] == 1.0
    assert stats.compare_ranks([1.0], [2.0, 3.0])["verdict"] == "not tested"


def test_rank_contrasts_against_a_reference_are_holm_corrected():
    # two contrasts: b separated (exact p 2/70), c interleaved; Holm doubles the smaller p
    groups = {"ref": [1.0, 2.0, 3.0, 4.0], "b": [5.0, 6.0, 7.0, 8.0], "c": [1.5, 2.5, 3.5, 4.5]}
    out = stats.against(groups, "ref", test=stats.compare_ranks)
    assert out["b"]["test"] == "Mann-Whitney U"
    assert out["b"]["p_holm"] == pytest.approx(4 / 70) and out["b"]["verdict"] == NO_DIFFERENCE
    p_c = exact_mann_whitney_p(groups["ref"], groups["c"])
    assert out["c"]["p_holm"] == pytest.approx(max(4 / 70, p_c))


def exact_page_p(rows):
    """One-sided exact p of Page's L (rising) by enumerating every within-row order of ranks
    (rows without ties): the share of rank tables whose L = sum_j j * R_j is at least the
    observed one."""
    import itertools
    m = len(rows[0])

    def ranks(row):
        order = sorted(range(m), key=lambda j: row[j])
        out = [0] * m
        for rank, j in enumerate(order, 1):
            out[j] = rank
        return out

    def page_l(table):
        return sum((j + 1) * sum(r[j] for r in table) for j in range(m))
    observed = page_l([ranks(r) for r in rows])
    perms = list(itertools.permutations(range(1, m + 1)))
    tables = list(itertools.product(perms, repeat=len(rows)))
    return sum(page_l(t) >= observed for t in tables) / len(tables), observed


def test_page_trend_within_blocks_by_hand():
    # three blocks (seeds) far apart, each rising across three settings: within-block ranks
    # (1, 2, 3) three times, L = 1 x 3 + 2 x 6 + 3 x 9 = 42, the largest: p = 1 / 6^3
    rows = [[0.00, 0.01, 0.02], [0.10, 0.11, 0.12], [0.20, 0.21, 0.22]]
    r = stats.blocked_trend(rows)
    assert r["effect"] == 42 and r["p"] == pytest.approx(1 / 216) and r["verdict"] == "rises"
    assert r["test"] == "Page's L" and r["n"] == [3, 3]
    falling = [row[::-1] for row in rows]
    assert stats.blocked_trend(falling, rising=False)["verdict"] == "falls"
    assert stats.blocked_trend(falling)["verdict"] == "no trend detected"   # the wrong side
    assert stats.blocked_trend(rows, rising=False)["p"] == pytest.approx(1.0)
    # mixed orders: the p by enumeration
    mixed = [[1.0, 2.0, 3.0], [1.0, 3.0, 2.0], [2.0, 1.0, 3.0]]
    p, l_obs = exact_page_p(mixed)
    r = stats.blocked_trend(mixed)
    assert r["effect"] == l_obs and r["p"] == pytest.approx(p) and r["verdict"] == "no trend detected"
    assert stats.blocked_trend([[1.0, 2.0], [1.0, 2.0]])["verdict"] == "not tested"
    assert stats.blocked_trend([[1.0, 2.0, 3.0]])["verdict"] == "not tested"
