"""Fréchet distance: scipy's sqrtm reference, closed forms, the sample estimate, edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from artforge.metrics.fd import fd_from_features, feature_stats, frechet_distance

scipy_linalg = pytest.importorskip("scipy.linalg")


def _gaussians(d: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(d, d)), rng.normal(size=(d, d))
    sigma1 = a @ a.T / d + 0.1 * np.eye(d)
    sigma2 = b @ b.T / d + 0.1 * np.eye(d)
    mu1 = rng.normal(size=d)
    return mu1, sigma1, mu1 + 0.5, sigma2


def _scipy_fd(mu1, sigma1, mu2, sigma2) -> float:
    covmean = scipy_linalg.sqrtm(sigma1 @ sigma2).real
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def test_matches_scipy_sqrtm_on_true_parameters():
    for seed in range(3):
        params = _gaussians(seed=seed)
        assert frechet_distance(*params) == pytest.approx(_scipy_fd(*params), rel=1e-9)


def test_closed_forms():
    # 1-D: FD(N(m1, s1^2), N(m2, s2^2)) = (m1 - m2)^2 + (s1 - s2)^2.
    fd_1d = frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([3.0]), np.array([[9.0]]))
    assert fd_1d == pytest.approx((1.0 - 3.0) ** 2 + (2.0 - 3.0) ** 2)
    # Diagonal covariances commute: sum of (sqrt(a_i) - sqrt(b_i))^2.
    a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.0])
    expected = np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(np.zeros(3), np.diag(a), np.zeros(3), np.diag(b)) == pytest.approx(expected)


def test_sample_estimate_approaches_true_value():
    mu1, sigma1, mu2, sigma2 = params = _gaussians()
    true_fd = frechet_distance(*params)
    rng = np.random.default_rng(1)
    x = rng.multivariate_normal(mu1, sigma1, size=20_000)
    y = rng.multivariate_normal(mu2, sigma2, size=20_000)
    assert fd_from_features(x, y) == pytest.approx(true_fd, rel=0.02)


def test_identical_and_symmetric():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(300, 8)), rng.normal(size=(400, 8)) * 1.5 + 0.2
    assert fd_from_features(x, x) == pytest.approx(0.0, abs=1e-9)
    assert fd_from_features(x, y) == pytest.approx(fd_from_features(y, x), rel=1e-9)
    assert fd_from_features(x, y) > 0.5


def test_singular_covariances_stay_finite_and_nonnegative():
    # Fewer samples than dimensions: rank-deficient covariances, where sqrtm(S1 S2) is fragile.
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(10, 32)), rng.normal(size=(10, 32))
    assert fd_from_features(x, x) == pytest.approx(0.0, abs=1e-9)
    fd = fd_from_features(x, y)
    assert np.isfinite(fd) and fd > 0


def test_feature_stats_are_mean_and_unbiased_covariance():
    x = np.random.default_rng(4).normal(size=(50, 3)).astype(np.float32)
    mu, sigma = feature_stats(x)
    assert mu.dtype == sigma.dtype == np.float64
    np.testing.assert_allclose(mu, x.mean(0), rtol=1e-6)
    np.testing.assert_allclose(sigma, np.cov(x.astype(np.float64).T, ddof=1), rtol=1e-12)
    assert feature_stats(x[:, :1])[1].shape == (1, 1)
    with pytest.raises(ValueError, match="N >= 2"):
        feature_stats(x[:1])
    with pytest.raises(ValueError, match="shapes"):
        frechet_distance(mu, sigma, mu[:2], sigma)
