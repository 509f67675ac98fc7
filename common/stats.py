"""Statistics over seeds: spread (median and quartiles, mean and standard deviation) and the tests
behind every verdict the README states.

A verdict is a test at ALPHA = 5 %: two independent groups of seeds by Welch's t (unequal
variances), paired runs (the same seeds in both settings) by the paired t-test, a trend by
Spearman's rank correlation (ties handled by scipy), a family of pairwise comparisons corrected
with Holm's method. With the 3-5 seeds per setting the scripts can afford, the rank tests
(Mann-Whitney U, Wilcoxon) cannot reject at 5 % at all for 3 vs 3 seeds (their smallest two-sided
p is 0.1 and 0.25), so the t-tests are used, and each verdict says which test, n and p. Where
a script has many seeds (the function fits' 40), Mann-Whitney U checks a t-test's answer on
values that are far from normal (compare_ranks); where every seed runs every setting, Page's L
within seeds checks a pooled Spearman trend (blocked_trend).
"""
import math

import numpy as np
from scipy import stats

ALPHA = 0.05
NO_DIFFERENCE = "no difference detected"
NOT_DETECTED = "not detected away from zero"


def quartiles(values):
    """(25th percentile, median, 75th percentile) of `values`, numpy's linear interpolation."""
    q1, med, q3 = np.percentile(np.asarray(values, dtype=np.float64), [25, 50, 75])
    return float(q1), float(med), float(q3)


def mean_std(values):
    """(mean, sample standard deviation; 0 for a single value)."""
    v = np.asarray(values, dtype=np.float64)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


def described(values):
    """{"mean", "std" (sample; 0 for one value), "values"}: the per-seed record of a measure."""
    mean, std = mean_std(values)
    return {"mean": mean, "std": std, "values": values}


def _finite(x):
    return float(x) if np.isfinite(x) else None


def compare(a, b, paired=False, alpha=ALPHA):
    """Is mean(b) above or below mean(a)? Welch's t (paired: the paired t-test on b - a).

    Returns {"test", "n", "effect" (mean(b) - mean(a)), "ci95", "p", "verdict"}: verdict
    "higher" / "lower" when p < alpha, else NO_DIFFERENCE; "not tested" with fewer than two
    values in a group. Groups whose values are all equal within each group and equal between
    them give p = 1; constant groups with different values give p = 0.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if paired and len(a) != len(b):
        raise ValueError("paired comparison needs the same seeds in both groups")
    effect = float(b.mean() - a.mean())
    out = {"test": "paired t" if paired else "Welch's t", "n": [len(a), len(b)],
           "effect": effect, "ci95": None, "p": None}
    if min(len(a), len(b)) < 2:
        return {**out, "verdict": "not tested"}
    spread = np.ptp(b - a) if paired else max(np.ptp(a), np.ptp(b))
    if spread == 0:
        p, ci = (1.0 if effect == 0 else 0.0), [effect, effect]
    else:
        result = stats.ttest_rel(b, a) if paired else stats.ttest_ind(b, a, equal_var=False)
        interval = result.confidence_interval(0.95)
        p, ci = float(result.pvalue), [_finite(interval.low), _finite(interval.high)]
    return {**out, "ci95": ci, "p": p, "verdict": verdict_of(effect, p, alpha)}


def compare_ranks(a, b, alpha=ALPHA):
    """Do the values of b tend above or below those of a? Mann-Whitney U, two-sided (scipy:
    exact without ties for small groups, else the normal approximation with tie correction).

    Returns {"test", "n", "effect", "ci95" (None), "p", "verdict"}; effect is the rank-biserial
    correlation P(b > a) - P(b < a) over all pairs (from U of b, counting a tie as half):
    +1 when every b is above every a. "not tested" with fewer than two values in a group; all
    values equal gives p = 1."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    out = {"test": "Mann-Whitney U", "n": [len(a), len(b)], "effect": None, "ci95": None,
           "p": None}
    if min(len(a), len(b)) < 2:
        return {**out, "verdict": "not tested"}
    if np.ptp(np.concatenate([a, b])) == 0:
        return {**out, "effect": 0.0, "p": 1.0, "verdict": NO_DIFFERENCE}
    result = stats.mannwhitneyu(b, a, alternative="two-sided")
    effect = float(2 * result.statistic / (len(a) * len(b)) - 1)
    p = float(result.pvalue)
    return {**out, "effect": effect, "p": p, "verdict": verdict_of(effect, p, alpha)}


def one_sample(values, alpha=ALPHA, up="above zero", down="below zero"):
    """Is the mean of `values` (one per seed) away from zero? One-sample t-test.

    Returns {"test": "one-sample t", "n", "effect" (the mean), "ci95", "p", "verdict"}: `up` /
    `down` when p < alpha, else NOT_DETECTED; "not tested" for a single value. Values all equal
    give p = 1 at zero and p = 0 elsewhere."""
    v = np.asarray(values, dtype=np.float64)
    effect = float(v.mean())
    out = {"test": "one-sample t", "n": len(v), "effect": effect, "ci95": None, "p": None}
    if len(v) < 2:
        return {**out, "verdict": "not tested"}
    if np.ptp(v) == 0:
        p, ci = (1.0 if effect == 0 else 0.0), [effect, effect]
    else:
        result = stats.ttest_1samp(v, 0.0)
        interval = result.confidence_interval(0.95)
        p, ci = float(result.pvalue), [_finite(interval.low), _finite(interval.high)]
    return {**out, "ci95": ci, "p": p,
            "verdict": verdict_of(effect, p, alpha, up, down).replace(NO_DIFFERENCE, NOT_DETECTED)}


def verdict_of(effect, p, alpha=ALPHA, up="higher", down="lower"):
    """up / down by the sign of the effect when p < alpha, else NO_DIFFERENCE."""
    if p is None or not p < alpha:
        return NO_DIFFERENCE
    return up if effect > 0 else down


def holm(pvalues):
    """Holm-Bonferroni adjusted p-values, in the input order: the i-th smallest of m is
    multiplied by m - i (i from 0), then made non-decreasing in that order, capped at 1."""
    p = np.asarray(pvalues, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty_like(p)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[index]))
        adjusted[index] = running
    return adjusted.tolist()


def trend(x, y, alpha=ALPHA):
    """Monotone trend of y in x: Spearman's rho (ties get average ranks), its p-value, a 95 %
    interval by Fisher's z with the Bonett-Wright standard error sqrt((1 + rho^2 / 2) / (n - 3)),
    and the verdict "rises" / "falls" / "no trend detected"."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n = len(x)
    out = {"test": "Spearman", "n": n, "effect": None, "ci95": None, "p": None}
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {**out, "verdict": "not tested"}
    result = stats.spearmanr(x, y)
    rho, p = float(result.statistic), float(result.pvalue)
    ci = None
    if n > 3 and abs(rho) < 1:
        z, se = math.atanh(rho), math.sqrt((1 + rho ** 2 / 2) / (n - 3))
        ci = [math.tanh(z - 1.959964 * se), math.tanh(z + 1.959964 * se)]
    return {**out, "effect": rho, "ci95": ci, "p": p,
            "verdict": verdict_of(rho, p, alpha, "rises", "falls").replace(
                NO_DIFFERENCE, "no trend detected")}


def blocked_trend(rows, alpha=ALPHA, rising=True):
    """A monotone trend across the columns of `rows` (one row per block, e.g. a seed shared by
    every setting; columns in their predicted order), within blocks: Page's L test (scipy;
    one-sided: rising, or falling with rising=False). Needs at least 2 rows and 3 columns.

    Returns {"test", "n" ([rows, columns]), "effect" (L), "ci95" (None), "p", "verdict"}:
    "rises" / "falls" when p < alpha, else "no trend detected"; "not tested" when too small."""
    data = np.asarray(rows, dtype=np.float64)
    out = {"test": "Page's L", "n": list(data.shape), "effect": None, "ci95": None, "p": None}
    if data.ndim != 2 or data.shape[0] < 2 or data.shape[1] < 3:
        return {**out, "verdict": "not tested"}
    result = stats.page_trend_test(data if rising else -data)
    p = float(result.pvalue)
    word = "rises" if rising else "falls"
    return {**out, "effect": float(result.statistic), "p": p,
            "verdict": word if p < alpha else "no trend detected"}


def ranking(groups, higher_is_better=True, alpha=ALPHA):
    """All pairwise Welch comparisons of {name: values}, Holm-corrected; returns {"pairs":
    [{"a", "b", **compare(a, b), "p_holm", "verdict"}], "order": names by mean, best first,
    "text": every pair named once, e.g. 'C1 > C4, C2 > C4; no difference detected: C1–C2'}.
    "A > B" means A is better (higher mean, or lower with higher_is_better=False) at the
    corrected 5 % level; the text never chains neighbours, so it cannot be read as a comparison
    that was not made or not detected."""
    names = list(groups)
    pairs = holm_verdicts([{"a": a, "b": b, **compare(groups[a], groups[b])}
                           for i, a in enumerate(names) for b in names[i + 1:]], alpha)
    sign = 1 if higher_is_better else -1
    order = sorted(names, key=lambda n: -sign * float(np.mean(groups[n])))
    rank = {n: i for i, n in enumerate(order)}
    better, same, untested = [], [], []
    for q in sorted(pairs, key=lambda q: sorted((rank[q["a"]], rank[q["b"]]))):
        first, second = sorted((q["a"], q["b"]), key=rank.get)
        if q.get("p_holm") is None:
            untested.append(f"{first}–{second}")
        elif q["p_holm"] < alpha:
            better.append(f"{first} > {second}")
        else:
            same.append(f"{first}–{second}")
    parts = [", ".join(better)] if better else []
    parts += [f"no difference detected: {', '.join(same)}"] if same else []
    parts += [f"not tested (one seed): {', '.join(untested)}"] if untested else []
    return {"test": "Welch's t, Holm-corrected", "pairs": pairs, "order": order,
            "text": "; ".join(parts)}


def separated_from(ranking, name, direction):
    """Models of a ranking() whose mean lies `direction` ("higher" / "lower") of `name`'s at the
    corrected level, in the order of the pairs."""
    other = {"higher": "lower", "lower": "higher"}[direction]
    found = []
    for q in ranking["pairs"]:
        if q["a"] == name and q["verdict"] == direction:
            found.append(q["b"])
        elif q["b"] == name and q["verdict"] == other:
            found.append(q["a"])
    return found


def against(groups, reference, alpha=ALPHA, test=compare):
    """Every group of {name: values} against groups[reference]: Welch's t (test=compare_ranks:
    Mann-Whitney U), Holm-corrected over these len(groups) - 1 contrasts only (a family one
    smaller than all pairs, so more power for the question "is any of them below / above the
    reference?"). Returns {name: {**test(reference, name), "p_holm", "verdict"}} in the order of
    `groups`; "effect" is mean(name) - mean(reference) (the rank-biserial correlation for
    compare_ranks). Untested contrasts (one seed) keep "not tested" and p_holm None."""
    out = {n: test(groups[reference], v) for n, v in groups.items() if n != reference}
    for c in holm_verdicts(list(out.values()), alpha):
        c.setdefault("p_holm", None)
    return out


def holm_verdicts(comparisons, alpha=ALPHA):
    """A family of compare() results, corrected together: each tested one (p not None) gets
    "p_holm" and the verdict at that corrected p; untested ones are left as they are. Returns
    the list (changed in place)."""
    tested = [c for c in comparisons if c["p"] is not None]
    for c, p_adj in zip(tested, holm([c["p"] for c in tested])):
        c["p_holm"] = p_adj
        c["verdict"] = verdict_of(c["effect"], p_adj, alpha)
    return comparisons
