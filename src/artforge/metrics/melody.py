"""Melody metrics: reconstruction accuracy (as MusicVAE reports it) and copying of training melodies.

Accuracy is the fraction of 16th-note steps whose token (hold, rest, or which note starts) is right,
over every step of every melody. Teacher-forced: the decoder reads the true previous tokens; sampled:
it reads its own argmax choices, which is what a user hears when a melody is encoded and played back.

>>> import torch
>>> accuracy(torch.tensor([[41, 0, 1, 43]]), torch.tensor([[41, 0, 0, 43]]))
0.75
>>> lcs_length([60, 62, 64, 65], [60, 64, 65])
3
"""

from __future__ import annotations

import numpy as np
import torch

from ..data.melody import events_to_notes

MAX_INTERVAL = 24


def accuracy(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Fraction of equal tokens between (B, T) predictions and targets."""
    if pred.shape != target.shape:
        raise ValueError(f"shapes differ: {tuple(pred.shape)} vs {tuple(target.shape)}")
    return float((pred == target).float().mean()) if target.numel() else float("nan")


@torch.no_grad()
def reconstruction(model, x: torch.Tensor, batch_size: int = 256) -> dict[str, float]:
    """Teacher-forced and sampled (argmax) reconstruction accuracy of (N, T) melodies, encoded to mu."""
    model.eval()
    tf, sampled = [], []
    for i in range(0, len(x), batch_size):
        xb = x[i:i + batch_size]
        mu, _ = model.encode(xb)
        tf.append(model.decode_logits(mu, model.shifted_inputs(xb)).argmax(-1))
        sampled.append(model.decode(mu))
    tf_t, s_t = torch.cat(tf), torch.cat(sampled)
    return {"acc_teacher_forced": accuracy(tf_t, x), "acc_sampled": accuracy(s_t, x), "melodies": len(x)}


def lcs_length(a, b) -> int:
    """Length of the longest common subsequence of two short sequences (dynamic programming)."""
    a, b = list(a), list(b)
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def note_sequence(events) -> list[tuple[int, int]]:
    """(interval from the previous note in semitones, duration in steps) of each note: a melody's shape
    whatever its key, so a transposed copy is still a copy. The first note's interval is 0."""
    notes = events_to_notes(events)
    return [(n.pitch - (notes[i - 1].pitch if i else n.pitch), n.end - n.start) for i, n in enumerate(notes)]


def _interval_histogram(seq: list[tuple[int, int]]) -> np.ndarray:
    h = np.zeros(2 * MAX_INTERVAL + 1, dtype=np.int16)
    for iv, _ in seq:
        h[min(max(int(iv), -MAX_INTERVAL), MAX_INTERVAL) + MAX_INTERVAL] += 1   # np.clip per note: 10x slower
    return h


class CopyIndex:
    """Training melodies (windows of the model's length) for the copy check. A sample copies one when
    LCS(notes) / max(notes in either) >= threshold; notes are (interval, duration) pairs. Windows whose
    interval histograms overlap the sample's too little to reach the threshold are ruled out first."""

    def __init__(self, train_windows, threshold: float = 0.8):
        self.threshold = threshold
        self.seqs = [note_sequence(w) for w in train_windows]
        self.hist = np.stack([_interval_histogram(s) for s in self.seqs]) if self.seqs else np.zeros((0, 49))
        self.lengths = np.array([len(s) for s in self.seqs])

    def check(self, events) -> dict:
        seq = note_sequence(events)
        if not seq or not len(self.seqs):
            return {"lcs_fraction": 0.0, "nearest": -1, "copied": False}
        longest = np.maximum(self.lengths, len(seq))
        overlap = np.minimum(self.hist, _interval_histogram(seq)[None]).sum(1)
        candidates = np.flatnonzero(overlap >= self.threshold * longest)
        best, best_i = 0.0, -1
        for i in candidates[np.argsort(-overlap[candidates])][:2000]:
            frac = lcs_length(seq, self.seqs[i]) / longest[i]
            if frac > best:
                best, best_i = frac, int(i)
        return {"lcs_fraction": round(float(best), 4), "nearest": best_i, "copied": bool(best >= self.threshold)}


def copies(samples, train_windows, threshold: float = 0.8) -> list[dict]:
    """The copy check of each sample against training windows (see CopyIndex)."""
    index = CopyIndex(train_windows, threshold)
    return [index.check(s) for s in samples]
