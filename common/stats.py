"""Spread statistics over seeds: median and interquartile range, mean and standard deviation,
and whether two groups are separated by more than their spread."""
import numpy as np


def quartiles(values):
    """(25th percentile, median, 75th percentile) of `values`, numpy's linear interpolation."""
    q1, med, q3 = np.percentile(np.asarray(values, dtype=np.float64), [25, 50, 75])
    return float(q1), float(med), float(q3)


def mean_std(values):
    """(mean, sample standard deviation; 0 for a single value)."""
    v = np.asarray(values, dtype=np.float64)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


def iqr_separated(a, b):
    """-1 if the interquartile range of a lies wholly below that of b, 1 if wholly above,
    0 if the two ranges overlap."""
    a1, _, a3 = quartiles(a)
    b1, _, b3 = quartiles(b)
    if a3 < b1:
        return -1
    if b3 < a1:
        return 1
    return 0


def std_separated(a, b):
    """-1 / 1 when mean(a) is below / above mean(b) by more than the larger of the two standard
    deviations, else 0."""
    (ma, sa), (mb, sb) = mean_std(a), mean_std(b)
    if abs(ma - mb) <= max(sa, sb):
        return 0
    return -1 if ma < mb else 1
