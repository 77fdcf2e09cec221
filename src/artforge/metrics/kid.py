"""Kernel Inception Distance: the unbiased squared MMD between two feature sets under a cubic
polynomial kernel, averaged over random subsets.

Bińkowski et al. 2018, "Demystifying MMD GANs": k(a, b) = (a·b / d + 1)^3. Unlike FD it has an
unbiased estimator, so it is comparable across sample sizes and is ~0 (possibly < 0) for two samples
of one distribution.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> a, b = rng.normal(size=(200, 8)), rng.normal(size=(200, 8)) + 1.0
>>> mean, std = kid(a, b, subsets=10, subset_size=100)
>>> mean > 10 * std > 0
True
"""

from __future__ import annotations

import numpy as np


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(x·y / d + 1)^3 for all pairs of rows: (M, D), (N, D) -> (M, N)."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 between (M, D) and (N, D) samples; the k(x_i, x_i) terms are left out.

    MMD^2 = sum_{i!=j} k(x_i, x_j) / (M(M-1)) + sum_{i!=j} k(y_i, y_j) / (N(N-1)) - 2 mean k(x_i, y_j)
    """
    x, y = _check(x, "x"), _check(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"feature sizes differ: {x.shape[1]} and {y.shape[1]}")
    m, n = len(x), len(y)
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    within_x = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    within_y = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(within_x + within_y - 2.0 * k_xy.mean())


def kid(
    feats_a: np.ndarray, feats_b: np.ndarray, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Mean and standard deviation (ddof=0, as in torch-fidelity) of mmd2_unbiased over random subsets.

    Each subset draws `subset_size` rows of each side without replacement (rows may repeat across
    subsets), with subset_size clipped to the smaller set; reproducible for a given `seed`.
    """
    a, b = _check(feats_a, "feats_a"), _check(feats_b, "feats_b")
    if subsets < 1:
        raise ValueError(f"subsets must be >= 1, got {subsets}")
    size = min(subset_size, len(a), len(b))
    if size < 2:
        raise ValueError(f"subset_size must be >= 2 for the unbiased estimator, got {subset_size}")
    rng = np.random.default_rng(seed)
    mmds = np.empty(subsets)
    for s in range(subsets):
        idx_a = rng.choice(len(a), size, replace=False)
        idx_b = rng.choice(len(b), size, replace=False)
        mmds[s] = mmd2_unbiased(a[idx_a], b[idx_b])
    return float(mmds.mean()), float(mmds.std())


def _check(feats: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(feats, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"{name} must be (N, D) features with N >= 2 rows (MMD needs pairs), got {x.shape}")
    return x
