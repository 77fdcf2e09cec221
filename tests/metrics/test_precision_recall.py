"""Precision/recall and density/coverage on point clouds whose answers are known or hand-counted."""

from __future__ import annotations

import numpy as np
import pytest

from artforge.metrics import precision_recall as pr_module
from artforge.metrics.precision_recall import density_coverage, precision_recall

# 1-D example counted by hand below.
REAL_1D = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 8.0, 9.0])[:, None]
FAKE_1D = np.array([0.5, 2.9, 5.5, 6.0])[:, None]


def _cloud(n: int = 400, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 2))


def test_identical_clouds():
    real = _cloud()
    assert precision_recall(real, real) == (1.0, 1.0)
    assert density_coverage(real, real)[1] == 1.0  # every real ball holds its own copy (dist 0 < radius)


def test_far_apart_clouds():
    real = _cloud()
    assert precision_recall(real, real + 50.0) == (0.0, 0.0)
    assert density_coverage(real, real + 50.0) == (0.0, 0.0)


def test_mode_collapse_keeps_precision_loses_recall():
    real, fake = _cloud(500), 0.05 * _cloud(500, seed=1)  # every fake sits near the real mode's centre
    precision, recall = precision_recall(real, fake)
    assert precision > 0.95 and recall < 0.1
    assert density_coverage(real, fake)[1] < 0.1  # the fakes fall in the few real balls at the centre


def test_hand_counted_precision_recall_1d():
    # k=1 real radii: all 1. Fakes 0.5, 2.9 lie within 1 of a real; 5.5 (1.5 from 4) and 6 (2 from 4 and 8)
    # do not: precision 2/4. Fake radii: 0.5 -> 2.4, 2.9 -> 2.4, 5.5 -> 0.5, 6 -> 0.5; reals 0..4 are
    # within 2.4 of 0.5 or 2.9, 8 and 9 are within no fake ball: recall 5/7.
    assert precision_recall(REAL_1D, FAKE_1D, k=1) == pytest.approx((2 / 4, 5 / 7))
    # k=2 widens the balls: real 8 -> 4 holds 5.5 and 6; fake 6 -> 3.1 holds 8 and 9.
    assert precision_recall(REAL_1D, FAKE_1D, k=2) == pytest.approx((1.0, 1.0))


def test_hand_counted_density_coverage_1d():
    fake = np.vstack([FAKE_1D, [[3.5]]])
    # k=1 real radii: all 1 (strictly inside counts). Balls holding each fake: 0.5 -> {0, 1}, 2.9 -> {2, 3},
    # 3.5 -> {3, 4}, 5.5 and 6 -> none: density = 6 / (1 * 5). Covered reals: 0, 1, 2, 3, 4: 5/7.
    assert density_coverage(REAL_1D, fake, k=1) == pytest.approx((6 / 5, 5 / 7))


def test_chunking_does_not_change_results(monkeypatch):
    real, fake = _cloud(60), _cloud(50, seed=2) + 0.3
    expected = precision_recall(real, fake), density_coverage(real, fake)
    monkeypatch.setattr(pr_module, "_CHUNK_ELEMS", 7)  # a row or so per chunk
    assert (precision_recall(real, fake), density_coverage(real, fake)) == expected


def test_bad_k_and_shapes_are_clear_errors():
    real = _cloud(5)
    with pytest.raises(ValueError, match="more than 5 real"):
        precision_recall(real, _cloud(10), k=5)
    with pytest.raises(ValueError, match="more than 3 fake"):
        precision_recall(_cloud(10), real[:3], k=3)
    with pytest.raises(ValueError, match="k must be >= 1"):
        density_coverage(real, real, k=0)
    with pytest.raises(ValueError, match=r"\(N, D\) and \(M, D\)"):
        density_coverage(real, np.zeros((5, 3)), k=2)
    # density/coverage only builds balls around reals, so few fakes are fine.
    assert density_coverage(_cloud(10), real[:2], k=5)[1] >= 0.0
