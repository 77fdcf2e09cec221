"""Melody metrics: reconstruction accuracy (as MusicVAE reports it) and copying of training melodies.

Accuracy (`artforge.ops.melody`, which the training loop's evaluation uses too) is the fraction of
16th-note steps whose token (hold, rest, or which note starts) is right, over every step of every melody.

>>> import torch
>>> accuracy(torch.tensor([[41, 0, 1, 43]]), torch.tensor([[41, 0, 0, 43]]))
0.75
>>> lcs_length([60, 62, 64, 65], [60, 64, 65])
3
"""

from __future__ import annotations

import numpy as np

from ..data.melody import events_to_notes
from ..ops.melody import accuracy, reconstruction

__all__ = ["CopyIndex", "accuracy", "copies", "lcs_length", "note_sequence", "reconstruction"]

MAX_INTERVAL = 24


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
        h[min(max(int(iv), -MAX_INTERVAL), MAX_INTERVAL) + MAX_INTERVAL] += 1   # not np.clip: far slower per note
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
