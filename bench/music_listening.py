"""The listening example in docs/music/: a morph between two held-out folk tunes, and samples, from the
shipped 2-bar model, as MIDI (with recipes), WAV and piano rolls; then the same for 16 bars with the
shipped 16-bar model (long-*: the morph as MIDI and piano roll, the samples also as WAV).

    python bench/music_listening.py [--out docs/music]

The two end melodies are windows of tunes the model never trained on (the held-out 5% of builtin:folk,
public domain); they are written to a.mid and b.mid so the commands in docs/music.md can be re-run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from artforge.data.music import MusicDataConfig, load_melodies
from artforge.io.audio import render_wav
from artforge.io.midi import concat, write_midi
from artforge.io.pianoroll import piano_roll
from artforge.pipelines import MusicInterpolatePipeline, MusicSamplePipeline, load_model
from artforge.provenance.recipe import dumps
from artforge.provenance.write import save_midi

MODEL = "starter:melody-2bar"
LONG_MODEL = "starter:melody-16bar"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/music")
    ap.add_argument("--a", type=int, default=100, help="look for the first end from this held-out window on")
    ap.add_argument("--b", type=int, default=3000, help="look for the second end from this held-out window on")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    split = load_melodies(MusicDataConfig(path="builtin:folk", bars=2))
    busy = lambda start: next(w.numpy() for w in split.val[start:] if int((w >= 2).sum()) >= 10)  # noqa: E731
    a, b = busy(args.a), busy(args.b)
    write_midi([a], out / "a.mid")
    write_midi([b], out / "b.mid")
    model = load_model(MODEL)

    morph = MusicInterpolatePipeline(model)(a=str(out / "a.mid"), b=str(out / "b.mid"), steps=6)
    steps, whole = morph.melodies[:-1], morph.melodies[-1]
    save_midi([whole], out / "morph.mid", morph.recipes[-1], tempo_bpm=100)
    synth = render_wav(whole, out / "morph.wav", tempo_bpm=100, sample_rate=22050)
    piano_roll(steps, out / "morph.png", titles=["A, as the model plays it back", "1/5", "2/5", "3/5", "4/5", "B, as the model plays it back"],
               recipe_text=dumps(morph.recipes[-1]))

    samples = MusicSamplePipeline(model)(n=4, seed=7, temperature=0.5)
    save_midi([concat(samples.melodies)], out / "samples.mid", samples.recipes[0], tempo_bpm=100)
    render_wav(concat(samples.melodies), out / "samples.wav", tempo_bpm=100, sample_rate=22050)
    piano_roll(samples.melodies, out / "samples.png", titles=[f"seed {7 + i}, temperature 0.5" for i in range(4)])
    long_example(out)
    print(json.dumps({"out": str(out), "synth": synth, "files": sorted(p.name for p in out.iterdir())}))


def long_example(out: Path) -> None:
    split = load_melodies(MusicDataConfig(path="builtin:folk", bars=16))
    a, b = split.val[40].numpy(), split.val[300].numpy()
    write_midi([a], out / "long-a.mid")
    write_midi([b], out / "long-b.mid")
    model = load_model(LONG_MODEL)
    morph = MusicInterpolatePipeline(model)(a=str(out / "long-a.mid"), b=str(out / "long-b.mid"), steps=4)
    save_midi([morph.melodies[-1]], out / "long-morph.mid", morph.recipes[-1], tempo_bpm=100)
    piano_roll(morph.melodies[:-1], out / "long-morph.png",
               titles=["A, as the model plays it back", "1/3", "2/3", "B, as the model plays it back"],
               recipe_text=dumps(morph.recipes[-1]))
    samples = MusicSamplePipeline(model)(n=2, seed=3, temperature=0.5)
    save_midi([concat(samples.melodies)], out / "long-samples.mid", samples.recipes[0], tempo_bpm=100)
    render_wav(concat(samples.melodies), out / "long-samples.wav", tempo_bpm=100, sample_rate=16000)
    piano_roll(samples.melodies, out / "long-samples.png", titles=[f"seed {3 + i}, temperature 0.5" for i in range(2)])


if __name__ == "__main__":
    main()
