"""KID: the unbiased MMD^2 against a double loop, the null and shifted cases, subset handling."""

from __future__ import annotations

import numpy as np
import pytest

from artforge.metrics.kid import kid, mmd2_unbiased


def _mmd2_loops(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]

    def k(a, b):
        return (float(np.dot(a, b)) / d + 1.0) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_mmd2_matches_double_loop():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 5)), rng.normal(size=(9, 5)) + 0.3
    assert mmd2_unbiased(x, y) == pytest.approx(_mmd2_loops(x, y), rel=1e-12)
    assert mmd2_unbiased(x, y) == pytest.approx(mmd2_unbiased(y, x), rel=1e-12)


def test_same_distribution_is_near_zero_and_shift_is_not():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(1000, 16)), rng.normal(size=(1000, 16))
    mean, std = kid(a, b, subsets=50, subset_size=200)
    assert std > 0
    assert abs(mean) < 3 * std
    mean_shift, std_shift = kid(a, b + 0.5, subsets=50, subset_size=200)
    assert mean_shift > 10 * std_shift > 0
    assert mean_shift > 10 * abs(mean)


def test_seeded_and_subset_size_clipped():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(30, 4)), rng.normal(size=(40, 4))
    assert kid(a, b, subsets=5, subset_size=10, seed=3) == kid(a, b, subsets=5, subset_size=10, seed=3)
    assert kid(a, b, subsets=5, subset_size=10, seed=3) != kid(a, b, subsets=5, subset_size=10, seed=4)
    # subset_size clipped to 30 takes all of `a` each time; with equal sizes every subset is the whole set,
    # so every estimate is the full-sample MMD^2 and the spread is only summation-order rounding.
    mean, std = kid(a, b[:30], subsets=4, subset_size=1000)
    assert mean == pytest.approx(mmd2_unbiased(a, b[:30]), rel=1e-10)
    assert std < 1e-12


def test_too_few_rows_is_a_clear_error():
    x = np.zeros((5, 3))
    with pytest.raises(ValueError, match="N >= 2"):
        kid(x[:1], x)
    with pytest.raises(ValueError, match="N >= 2"):
        mmd2_unbiased(x, x[:1])
    with pytest.raises(ValueError, match="feature sizes"):
        mmd2_unbiased(x, np.zeros((5, 4)))
