"""Manifold-based fidelity and diversity of samples: improved precision & recall, density & coverage.

Each real (or fake) sample i gets a ball B(i, NND_k(i)), whose radius is the distance to its k-th
nearest neighbour in its own set, itself excluded; the union of the balls estimates the manifold.

- Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for Assessing Generative Models":
  precision = share of fakes inside the real manifold; recall = share of reals inside the fake one.
- Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for Generative Models":
  density = (1 / kM) sum_j sum_i 1[fake_j in B(real_i)] (can exceed 1);
  coverage = (1 / N) sum_i 1[some fake_j in B(real_i)].

Boundaries follow the authors' code: "inside" is dist <= radius for precision/recall and
dist < radius for density/coverage. Distances are float64 Euclidean, in row chunks of a bounded size,
so 10k x 10k sets need ~256 MB at a time rather than the whole matrix.

>>> import numpy as np
>>> real = np.random.default_rng(0).normal(size=(300, 2))
>>> precision_recall(real, real + 100.0), density_coverage(real, real)[1]
((0.0, 0.0), 1.0)
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

_CHUNK_ELEMS = 2**25  # float64 distance entries per chunk: 256 MB


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) of (M, D) fakes against (N, D) reals."""
    x_real, x_fake = _as_points(real, fake, k)
    precision = _inside_any(x_fake, x_real, _knn_radii(x_real, k)).double().mean()
    recall = _inside_any(x_real, x_fake, _knn_radii(x_fake, k)).double().mean()
    return float(precision), float(recall)


def density_coverage(real: np.ndarray, fake: np.ndarray, k: int = 5) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020) of (M, D) fakes against (N, D) reals."""
    x_real, x_fake = _as_points(real, fake, k, need_fake_k=False)
    radii = _knn_radii(x_real, k)  # (N,)
    balls_hit = torch.zeros(len(x_fake), dtype=torch.float64)  # per fake: how many real balls hold it
    for rows, d in _distance_chunks(x_fake, x_real):
        balls_hit[rows] = (d < radii).sum(dim=1).double()
    covered = torch.empty(len(x_real), dtype=torch.bool)  # per real: does its ball hold any fake
    for rows, d in _distance_chunks(x_real, x_fake):
        covered[rows] = d.min(dim=1).values < radii[rows]
    density = balls_hit.sum() / (k * len(x_fake))
    return float(density), float(covered.double().mean())


def _knn_radii(x: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each row to its k-th nearest other row: (N, D) -> (N,)."""
    radii = torch.empty(len(x), dtype=x.dtype)
    for rows, d in _distance_chunks(x, x):
        # The row's distance to itself (0) is the smallest, so the k-th other neighbour is the
        # (k+1)-th smallest; a duplicate point (also at 0) then correctly counts as a neighbour.
        radii[rows] = d.kthvalue(k + 1, dim=1).values
    return radii


def _inside_any(query: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """Per query row: is it within (<=) the radius of at least one centre? -> (Q,) bool."""
    inside = torch.empty(len(query), dtype=torch.bool)
    for rows, d in _distance_chunks(query, centres):
        inside[rows] = (d <= radii).any(dim=1)
    return inside


def _distance_chunks(x: torch.Tensor, y: torch.Tensor) -> Iterator[tuple[slice, torch.Tensor]]:
    """Yield (rows, cdist(x[rows], y)) over row chunks of x whose matrices stay under _CHUNK_ELEMS."""
    step = max(1, _CHUNK_ELEMS // max(1, len(y)))
    for start in range(0, len(x), step):
        rows = slice(start, min(start + step, len(x)))
        yield rows, torch.cdist(x[rows], y)


def _as_points(
    real: np.ndarray, fake: np.ndarray, k: int, need_fake_k: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    x_real = torch.as_tensor(np.asarray(real, dtype=np.float64))
    x_fake = torch.as_tensor(np.asarray(fake, dtype=np.float64))
    if x_real.ndim != 2 or x_fake.ndim != 2 or x_real.shape[1] != x_fake.shape[1]:
        shapes = f"{tuple(x_real.shape)} and {tuple(x_fake.shape)}"
        raise ValueError(f"real and fake must be (N, D) and (M, D) features, got {shapes}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    # The k-th neighbour excludes the point itself, so a set that gets balls needs more than k points.
    for name, x in [("real", x_real), ("fake", x_fake)] if need_fake_k else [("real", x_real)]:
        if k >= len(x):
            raise ValueError(f"k={k} needs more than {k} {name} samples, got {len(x)}: lower k or add more")
    if len(x_fake) == 0:
        raise ValueError("fake has no samples")
    return x_real, x_fake
