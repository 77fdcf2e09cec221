"""Shared fixtures: a private cache, a tiny image folder, tiny CPU training settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from pictures import draw_art

# Two threads like CI's machine; results are deterministic for a fixed thread count.
torch.set_num_threads(2)


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Keep dataset caches (and the materialized built-in set) out of the user's home."""
    mp = pytest.MonkeyPatch()
    mp.setenv("ARTFORGE_CACHE_DIR", str(tmp_path_factory.mktemp("artforge-cache")))
    mp.delenv("ARTFORGE_RUNS", raising=False)
    yield
    mp.undo()


@pytest.fixture
def art():
    """draw_art(i, size=40): a deterministic little picture, for tests that build their own folders."""
    return draw_art


@pytest.fixture
def image_dir(tmp_path) -> Path:
    """A folder of 12 small PNG images."""
    folder = tmp_path / "art"
    folder.mkdir()
    for i in range(12):
        draw_art(i).save(folder / f"art{i:02d}.png")
    return folder


# Tiny settings for real training steps on CPU in well under a second each.
TINY = ["data.resolution=32", "model.preset=tiny", "train.batch_size=8", "train.log_every=1", "eval.kid_every=0",
        "train.sample_every=0", "train.checkpoint_minutes=60", "train.device=cpu"]


@pytest.fixture
def tiny_overrides() -> list[str]:
    return list(TINY)


def run_cli(*argv: str) -> int:
    from artforge.cli.main import main

    return main([str(a) for a in argv])


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def subprocess_env() -> dict:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["OMP_NUM_THREADS"] = "1"
    return env


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> Path:
    """A run trained for a few real steps at 32 px (shared by the pipeline and CLI tests)."""
    root = tmp_path_factory.mktemp("trained")
    folder = root / "art"
    folder.mkdir()
    for i in range(12):
        draw_art(i).save(folder / f"art{i:02d}.png")
    (folder / "dataset.toml").write_text('licence = "CC-BY-4.0"\nconsent = "my own work"\n')
    run = root / "run"
    # lr 2e-4: three steps at lite's 4e-4 default saturate this tiny G into one flat grey picture, and the
    # tests that use the run need pictures that differ from seed to seed.
    assert run_cli("train", "gan", folder, "--run", run, "--steps", 3, "--quiet", *TINY,
                   "gan.lr_g=0.0002", "gan.lr_d=0.0002") == 0
    return run


@pytest.fixture(scope="module")
def one_thread():
    """Torch on one thread for a module: tensors this small gain nothing from threads, and on a busy
    machine two threads wait on each other (a tiny forward pass took 100x longer)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def midi_dir(tmp_path_factory) -> Path:
    """A folder of 24 small MIDI files, each a 6-bar random-walk melody."""
    from artforge.io.midi import write_midi
    from melodies import random_walk_melody

    folder = tmp_path_factory.mktemp("midi")
    for i in range(24):
        write_midi([random_walk_melody(i)], folder / f"tune{i:02d}.mid", tempo_bpm=100)
    return folder


@pytest.fixture
def music_tiny() -> list[str]:
    from melodies import MUSIC_TINY
    return list(MUSIC_TINY)
