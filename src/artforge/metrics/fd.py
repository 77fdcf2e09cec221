"""Fréchet distance between Gaussians fitted to two feature sets (the "FID" when the features come
from an Inception network; here from whatever feature network the caller uses).

Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
Equilibrium": FD = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^{1/2}).

>>> import numpy as np
>>> x = np.random.default_rng(0).normal(size=(500, 4))
>>> round(fd_from_features(x, x), 6), fd_from_features(x, x + 1.0) > 3.9
(0.0, True)
"""

from __future__ import annotations

import numpy as np


def feature_stats(feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and unbiased covariance (D, D), both float64, of (N, D) features."""
    x = np.asarray(feats, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"features must be (N, D) with N >= 2, got shape {x.shape}")
    mu = x.mean(axis=0)
    sigma = np.atleast_2d(np.cov(x, rowvar=False))  # atleast_2d: np.cov returns a scalar when D == 1
    return mu, sigma


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^{1/2}), as a float >= 0.

    S1 S2 is not symmetric and scipy's sqrtm on it can return complex noise or fail when the
    covariances are singular (N < D, dead features). Instead, S1 S2 = S1^{1/2} (S1^{1/2} S2) has the
    same eigenvalues as M = S1^{1/2} S2 S1^{1/2}, which is symmetric PSD, so
    Tr((S1 S2)^{1/2}) = sum(sqrt(eig(M))), computed with eigh and tiny negative eigenvalues clipped.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, np.float64))
    d = mu1.shape[0]
    if mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            f"shapes do not match: mu1 {mu1.shape}, sigma1 {sigma1.shape}, "
            f"mu2 {mu2.shape}, sigma2 {sigma2.shape}"
        )
    sqrt_s1 = _psd_sqrt(sigma1)
    m = sqrt_s1 @ sigma2 @ sqrt_s1
    m = (m + m.T) / 2  # symmetric in exact arithmetic; remove the rounding asymmetry before eigh
    tr_covmean = np.sqrt(np.clip(np.linalg.eigvalsh(m), 0.0, None)).sum()
    diff = mu1 - mu2
    fd = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * tr_covmean
    return max(float(fd), 0.0)  # a squared distance: a negative value is rounding only


def fd_from_features(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to (N, D) and (M, D) features."""
    return frechet_distance(*feature_stats(a), *feature_stats(b))


def _psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix; negative rounding eigenvalues become 0."""
    w, v = np.linalg.eigh((sigma + sigma.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
