"""Music pipelines on a tiny trained model: sample, interpolate, breed, attributes; recipes replay exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from artforge.errors import UserError
from artforge.io.midi import concat, write_midi
from artforge.pipelines import MusicBreedPipeline, MusicInterpolatePipeline, MusicSamplePipeline, load_model
from artforge.pipelines.music import melody_sha256, parse_attributes
from artforge.training.tasks.music import attribute_vectors


@pytest.fixture(scope="module")
def music_run(tmp_path_factory, midi_dir):
    from melodies import MUSIC_TINY
    from artforge.cli.main import main
    run_cli = lambda *argv: main([str(a) for a in argv])   # noqa: E731
    run = tmp_path_factory.mktemp("music") / "run"
    assert run_cli("train", "music", midi_dir, "--run", run, "--steps", 20, "--quiet", *MUSIC_TINY) == 0
    return run


@pytest.fixture(scope="module")
def model(music_run):
    return load_model(music_run)


def test_sample_is_per_seed_and_replays(model):
    pipe = MusicSamplePipeline(model)
    three = pipe(n=3, seed=10, temperature=1.0)
    assert [m.shape for m in three.melodies] == [(32,)] * 3
    alone = pipe(n=1, seed=11, temperature=1.0)           # melody 1 of the three, made on its own
    assert np.array_equal(alone.melodies[0], three.melodies[1])
    for melody, recipe in zip(three.melodies, three.recipes):
        assert recipe["pipeline"] == "music.sample" and recipe["output"] == "melody"
        assert np.array_equal(pipe.replay(recipe).melodies[0], melody)
    z = torch.randn(8)
    steered = pipe.steer(z, "density=+2,pitch=-1")
    vectors = pipe.attribute_vectors()
    assert torch.allclose(steered, z + 2 * vectors["density"] - vectors["pitch"])
    assert pipe(n=1, seed=10, attribute="density=+2").recipes[0]["params"]["attribute"] == "density=+2"


def test_attribute_parsing():
    assert parse_attributes("density=+1.5,pitch=-1") == {"density": 1.5, "pitch": -1.0}
    assert parse_attributes("") == {}
    for bad in ("loudness=1", "density", "density=lots", "density=9"):
        with pytest.raises(UserError):
            parse_attributes(bad)


def test_attribute_vectors_point_along_the_attribute():
    """Latents whose first coordinate tracks note density give a density vector along that axis."""
    from melodies import random_walk_melody
    from artforge.data.melody import attribute_values
    windows = torch.stack([torch.from_numpy(random_walk_melody(i)[:32]) for i in range(64)])
    density = torch.tensor([attribute_values(w.numpy())["density"] for w in windows], dtype=torch.float32)
    mu = torch.randn(64, 6, generator=torch.Generator().manual_seed(0)) * 0.1
    mu[:, 0] += density
    vectors, meta = attribute_vectors(mu, windows)
    v = vectors["density"]
    assert v[0] > 0 and v[0] > 5 * v[1:].abs().max()
    assert set(vectors) == {"density", "pitch", "range", "stepwise", "latent.mean", "latent.std"} and ".." in meta["density"]


def test_interpolate_ends_morph_file_and_replay(model, tmp_path):
    from melodies import random_walk_melody
    a, b = tmp_path / "a.mid", tmp_path / "b.mid"
    write_midi([random_walk_melody(1)], a)
    write_midi([random_walk_melody(2)], b)
    pipe = MusicInterpolatePipeline(model)
    out = pipe(a=str(a), b=str(b), steps=5)
    assert len(out.melodies) == 6 and out.recipes[-1]["output"] == "morph"
    assert np.array_equal(out.melodies[-1], concat(out.melodies[:5]))
    first = out.recipes[0]["params"]["a_tokens"]
    with torch.no_grad():
        mu, _ = model.module.encode(torch.tensor([first]))
        assert np.array_equal(out.melodies[0], model.module.decode(mu)[0].numpy())   # step 0 = A's reconstruction
    assert [p["melody_sha256"] for p in out.recipes[0]["parents"]] == [melody_sha256(first),
                                                                       melody_sha256(out.recipes[0]["params"]["b_tokens"])]
    for i in (0, 3, 5):
        assert np.array_equal(pipe.replay(out.recipes[i]).melodies[0], out.melodies[i])


def test_interpolate_with_a_file_without_melody(model, tmp_path):
    import mido
    drums = tmp_path / "drums.mid"
    mid = mido.MidiFile()
    t = mido.MidiTrack()
    mid.tracks.append(t)
    for _ in range(8):
        t += [mido.Message("note_on", channel=9, note=36, velocity=90, time=0),
              mido.Message("note_off", channel=9, note=36, time=240)]
    mid.save(drums)
    good = tmp_path / "good.mid"
    from melodies import random_walk_melody
    write_midi([random_walk_melody(3)], good)
    with pytest.raises(UserError, match="drums.mid: no melodic track"):
        MusicInterpolatePipeline(model)(a=str(good), b=str(drums))
    short = tmp_path / "short.mid"
    write_midi([random_walk_melody(3)[:12]], short)           # not even a bar
    with pytest.raises(UserError, match="has no melody of 2 bars"):
        MusicInterpolatePipeline(model)(a=str(good), b=str(short))


def test_breed_records_parents_and_replays(model, tmp_path):
    from melodies import random_walk_melody
    parents = []
    for i in range(3):
        parents.append(tmp_path / f"p{i}.mid")
        write_midi([random_walk_melody(10 + i)], parents[-1])
    pipe = MusicBreedPipeline(model)
    kids = pipe(parents=",".join(map(str, parents)), children=4, mutation=0.5, seed=3)
    assert len(kids.melodies) == 4
    lineage = kids.recipes[0]["parents"]
    assert len(lineage) == 3 and lineage[0]["name"] == "p0.mid" and len(lineage[0]["melody_sha256"]) == 64
    for melody, recipe in zip(kids.melodies, kids.recipes):
        assert recipe["params"]["melody_sha256"] == melody_sha256(melody)
        assert np.array_equal(pipe.replay(recipe).melodies[0], melody)
    same = pipe(parents=",".join(map(str, parents)), children=3, mutation=0.0, blend=1.0, seed=3)
    assert all(np.array_equal(same.melodies[0], m) for m in same.melodies)   # the average, with no mutation
    with pytest.raises(UserError, match="two or more"):
        pipe(parents=str(parents[0]))


def test_music_pipelines_refuse_an_image_model():
    with pytest.raises(UserError, match="not a music model"):
        MusicSamplePipeline(load_model("starter"))


def test_sampling_draws_where_the_training_latents_lie(model):
    pipe = MusicSamplePipeline(model)
    v = pipe.attribute_vectors()
    z = pipe.prior(list(range(512)))
    assert torch.allclose(z.mean(0), v["latent.mean"], atol=0.2 * float(v["latent.std"].max()) + 1e-3)
    assert torch.allclose(z.std(0), v["latent.std"], rtol=0.2)


def test_a_melody_ending_in_a_rest_comes_back_whole_from_its_midi_file(model, tmp_path):
    """A MIDI track ends at its last note-off: the rest that closed the last bar is lost in the file, and
    reading completes the bar again (off, then silence), so the window is found and identical."""
    from artforge.data.midi import read_midi
    from artforge.pipelines.music import to_bar_line
    bars = int(model.config["model"]["steps"]) // 16
    ev = np.zeros(bars * 16, dtype=np.int64)
    ev[::4] = 60 - 19                                  # quarter notes on middle C ...
    ev[-4:] = [1, 0, 0, 0]                             # ... and the last beat a rest
    write_midi([ev], tmp_path / "rest.mid")
    read = read_midi(tmp_path / "rest.mid")[0]
    assert len(read) == len(ev) - 4 and np.array_equal(to_bar_line(read), ev)
    assert np.array_equal(MusicSamplePipeline(model).melody_from_file(tmp_path / "rest.mid"), ev)
    assert np.array_equal(to_bar_line(np.array([41, 0, 1, 0] * 4)), [41, 0, 1, 0] * 4)   # whole bars as they are
