"""Little melodies and tiny MusicVAE settings for the music tests (imported as `melodies`)."""

from __future__ import annotations

import numpy as np


def random_walk_melody(i: int, bars: int = 6) -> np.ndarray:
    """A deterministic little tune: eighth and quarter notes on a random walk around middle C."""
    from artforge.data.melody import Note, notes_to_events

    rng = np.random.default_rng(1000 + i)
    notes, t, pitch = [], 0, 60 + int(rng.integers(-5, 6))
    while t < bars * 16:
        dur = int(rng.choice([2, 2, 4, 4, 8]))
        notes.append(Note(pitch, t, min(t + dur, bars * 16)))
        t += dur
        pitch = int(np.clip(pitch + rng.choice([-2, -1, 1, 2, 3, -3, 5]), 48, 84))
    return notes_to_events(notes, bars * 16)


# Tiny MusicVAE settings: real training steps on CPU in a few milliseconds each.
MUSIC_TINY = ["model.embed_dim=8", "model.enc_hidden=16", "model.dec_hidden=16", "model.dec_layers=1",
              "model.z_dim=8", "model.conductor_hidden=16", "model.conductor_dim=8", "train.batch_size=8",
              "train.log_every=1", "train.checkpoint_minutes=60", "train.device=cpu", "eval.every=0",
              "data.val_percent=20"]
