"""Spread statistics on inputs whose answers are known by hand."""
import pytest

from common.stats import iqr_separated, mean_std, quartiles, std_separated


def test_quartiles_of_a_known_sample():
    # 1..9: median 5; linear interpolation puts the quartiles at positions 2 and 6 -> 3 and 7
    assert quartiles(range(1, 10)) == (3.0, 5.0, 7.0)
    assert quartiles([4.0]) == (4.0, 4.0, 4.0)


def test_mean_and_sample_std():
    mean, std = mean_std([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0])
    # sum of squared deviations from 5 is 32, n - 1 = 7
    assert mean == 5.0 and std == pytest.approx((32 / 7) ** 0.5)
    assert mean_std([3.0]) == (3.0, 0.0)


def test_separation_rules():
    low, high, wide = [1, 2, 3, 4, 5], [10, 11, 12, 13, 14], [0, 3, 10, 15, 20]  # IQRs 2-4, 11-13, 3-15
    assert iqr_separated(low, high) == -1 and iqr_separated(high, low) == 1
    assert iqr_separated(low, wide) == 0
    assert std_separated(low, high) == -1 and std_separated(low, wide) == 0
