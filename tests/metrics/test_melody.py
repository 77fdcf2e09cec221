"""Melody metrics: token accuracy, LCS against brute force, the key-free note sequence, the copy check,
and reconstruction accuracy of a tiny MusicVAE."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from artforge.data.melody import N_CLASSES, Note, notes_to_events, transpose
from artforge.metrics.melody import CopyIndex, accuracy, copies, lcs_length, note_sequence, reconstruction

# -- accuracy --------------------------------------------------------------------------------------------


def test_accuracy_by_hand():
    pred = torch.tensor([[41, 0, 1, 43], [0, 0, 0, 0]])
    target = torch.tensor([[41, 0, 0, 43], [0, 0, 0, 1]])
    assert accuracy(pred, target) == 6 / 8
    assert accuracy(target, target) == 1.0
    assert accuracy(target + 1, target) == 0.0
    assert accuracy(torch.tensor([[5]]), torch.tensor([[5]])) == 1.0
    assert accuracy(torch.tensor([[1, 2, 3]]), torch.tensor([[1, 9, 9]])) == pytest.approx(1 / 3)
    assert math.isnan(accuracy(torch.zeros(0, 32, dtype=torch.long), torch.zeros(0, 32, dtype=torch.long)))


def test_accuracy_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shapes differ"):
        accuracy(torch.zeros(2, 32, dtype=torch.long), torch.zeros(2, 31, dtype=torch.long))
    with pytest.raises(ValueError, match="shapes differ"):
        accuracy(torch.zeros(64, dtype=torch.long), torch.zeros(2, 32, dtype=torch.long))


# -- LCS ----------------------------------------------------------------------------------------------------


def brute_lcs(a, b) -> int:
    """The longest subsequence of `a` that is also a subsequence of `b`, by trying them all."""
    def is_subsequence(s, t):
        it = iter(t)
        return all(x in it for x in s)

    for k in range(len(a), 0, -1):
        if any(is_subsequence(s, b) for s in itertools.combinations(a, k)):
            return k
    return 0


def test_lcs_matches_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(300):
        a = rng.integers(0, 3, int(rng.integers(0, 8))).tolist()
        b = rng.integers(0, 3, int(rng.integers(0, 8))).tolist()
        assert lcs_length(a, b) == brute_lcs(a, b) == lcs_length(b, a), (a, b)


def test_lcs_by_hand_and_on_tuples():
    assert lcs_length([60, 62, 64, 65], [60, 64, 65]) == 3
    assert lcs_length("ABCBDAB", "BDCABA") == 4          # the textbook example
    assert lcs_length([], [1, 2]) == lcs_length([1, 2], []) == 0
    assert lcs_length([(0, 4), (2, 4), (2, 2)], [(0, 4), (2, 2)]) == 2


# -- note sequences ---------------------------------------------------------------------------------------


def random_melody(rng, n_notes: int = 10, steps: int = 32, low: int = 50, high: int = 80) -> np.ndarray:
    cuts = np.sort(rng.choice(np.arange(1, steps), n_notes - 1, replace=False))
    bounds = [0, *cuts.tolist(), steps]
    return notes_to_events([Note(int(rng.integers(low, high)), s, e) for s, e in zip(bounds, bounds[1:])], steps)


def test_note_sequence_by_hand():
    ev = notes_to_events([Note(60, 0, 4), Note(64, 4, 6), Note(62, 8, 16)], 16)     # a rest from 6 to 8
    assert note_sequence(ev) == [(0, 4), (4, 2), (-2, 8)]
    assert note_sequence(np.zeros(16, dtype=np.int64)) == []


def test_note_sequence_is_transposition_invariant():
    rng = np.random.default_rng(1)
    for _ in range(20):
        ev = random_melody(rng)
        for k in (-7, -1, 3, 12):
            moved = transpose(ev, k)
            assert moved is not None and not np.array_equal(moved, ev)
            assert note_sequence(moved) == note_sequence(ev)


# -- the copy check -------------------------------------------------------------------------------------------

DURS = [4, 2, 2, 4, 4, 2, 2, 4, 4, 4]        # ten notes, two bars


def ten_notes(pitches) -> np.ndarray:
    starts = np.cumsum([0] + DURS[:-1])
    return notes_to_events([Note(int(p), int(s), int(s + d)) for p, s, d in zip(pitches, starts, DURS)], 32)


MOTIF = [60, 62, 64, 65, 67, 65, 64, 62, 60, 67]


@pytest.fixture(scope="module")
def train_windows() -> list[np.ndarray]:
    rng = np.random.default_rng(2)
    others = [random_melody(rng, n_notes=int(rng.integers(6, 14))) for _ in range(30)]
    return others[:12] + [ten_notes(MOTIF)] + others[12:]       # the motif is window 12


def test_exact_and_transposed_copies_are_flagged(train_windows):
    index = CopyIndex(train_windows, threshold=0.8)
    for k in (0, 5, -3):
        r = index.check(ten_notes([p + k for p in MOTIF]))
        assert r == {"lcs_fraction": 1.0, "nearest": 12, "copied": True}


def test_one_note_changed_out_of_ten_is_still_a_copy(train_windows):
    changed = list(MOTIF)
    changed[4] = 71                                   # changes two intervals: into and out of note 5
    r = CopyIndex(train_windows, threshold=0.8).check(ten_notes(changed))
    assert r["nearest"] == 12 and r["copied"] and r["lcs_fraction"] == 0.8
    assert not CopyIndex(train_windows, threshold=0.9).check(ten_notes(changed))["copied"]


def test_unrelated_and_empty_melodies_are_not_copies(train_windows):
    index = CopyIndex(train_windows, threshold=0.8)
    unrelated = notes_to_events([Note(40 + 7 * i % 30, 3 * i, 3 * i + 3) for i in range(10)] + [Note(90, 30, 32)], 32)
    r = index.check(unrelated)
    assert not r["copied"] and r["lcs_fraction"] < 0.8
    assert index.check(np.zeros(32, dtype=np.int64)) == {"lcs_fraction": 0.0, "nearest": -1, "copied": False}
    assert CopyIndex([]).check(ten_notes(MOTIF)) == {"lcs_fraction": 0.0, "nearest": -1, "copied": False}


def test_copy_check_agrees_with_checking_every_window(train_windows):
    """The interval-histogram shortcut must never hide a window that reaches the threshold."""
    rng = np.random.default_rng(3)
    seqs = [note_sequence(w) for w in train_windows]
    samples = []
    for i in range(40):                                 # near copies with a few edits, and strangers
        base = train_windows[int(rng.integers(len(train_windows)))]
        ev = base.copy()
        onsets = np.flatnonzero(ev >= 2)
        for j in rng.choice(onsets, int(rng.integers(0, 4)), replace=False):
            ev[j] = np.clip(ev[j] + rng.integers(-3, 4), 2, N_CLASSES - 1)
        samples.append(ev if i % 4 else random_melody(rng))
    for threshold in (0.6, 0.8):
        results = copies(samples, train_windows, threshold)
        assert len(results) == len(samples)
        for ev, r in zip(samples, results):
            seq = note_sequence(ev)
            fracs = [lcs_length(seq, s) / max(len(seq), len(s)) for s in seqs]
            best = max(fracs)
            assert r["copied"] == (best >= threshold)
            if r["copied"]:
                assert r["lcs_fraction"] == round(best, 4) and fracs[r["nearest"]] == best


# -- reconstruction ----------------------------------------------------------------------------------------------


@pytest.fixture
def tiny_vae():
    from artforge.models.musicvae import MusicVAE, MusicVAEConfig

    # One thread: a tiny LSTM gains nothing from two, and on a busy two-core machine the second thread's
    # start-up wait made the first call take 10 s instead of 0.05 s.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield MusicVAE(MusicVAEConfig(steps=32, z_dim=8, enc_hidden=16, dec_hidden=16, embed_dim=8))
    torch.set_num_threads(threads)


@pytest.fixture
def melodies() -> torch.Tensor:
    rng = np.random.default_rng(4)
    return torch.from_numpy(np.stack([random_melody(rng) for _ in range(7)]))        # (7, 32)


def test_reconstruction_of_an_untrained_model_is_a_fraction(tiny_vae, melodies):
    tiny_vae.train()
    r = reconstruction(tiny_vae, melodies, batch_size=3)
    assert set(r) == {"acc_teacher_forced", "acc_sampled", "melodies"} and r["melodies"] == 7
    for k in ("acc_teacher_forced", "acc_sampled"):
        assert 0.0 <= r[k] <= 1.0
    assert r == reconstruction(tiny_vae, melodies, batch_size=256), "batching must not change the result"
    assert not tiny_vae.training, "measured with the model in eval mode"


def test_reconstruction_of_a_perfect_decoder_is_one(tiny_vae, melodies, monkeypatch):
    seen = []                                          # the batch being encoded, so the fakes can echo it
    real_encode = tiny_vae.encode

    def encode(x):
        seen.append(x)
        return real_encode(x)

    def decode_logits(mu, inputs):
        assert inputs.shape == seen[-1].shape and mu.shape == (len(seen[-1]), 8)
        return F.one_hot(seen[-1], N_CLASSES).float() * 10.0

    monkeypatch.setattr(tiny_vae, "encode", encode)
    monkeypatch.setattr(tiny_vae, "decode_logits", decode_logits)
    monkeypatch.setattr(tiny_vae, "decode", lambda mu: seen[-1].clone())
    r = reconstruction(tiny_vae, melodies, batch_size=3)
    assert r == {"acc_teacher_forced": 1.0, "acc_sampled": 1.0, "melodies": 7}
    assert [len(b) for b in seen] == [3, 3, 1]

    def one_wrong(mu):                                 # one wrong token per batch: 3 of 7 * 32
        out = seen[-1].clone()
        out[0, 5] = N_CLASSES - 1                      # a pitch the melodies never reach
        return out

    monkeypatch.setattr(tiny_vae, "decode", one_wrong)
    r = reconstruction(tiny_vae, melodies, batch_size=3)
    assert r["acc_teacher_forced"] == 1.0 and r["acc_sampled"] == pytest.approx(1 - 3 / (7 * 32))
