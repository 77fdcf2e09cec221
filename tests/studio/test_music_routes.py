"""Music page routes: sample with attributes, morph, breed, MIDI upload, the MIDI/WAV of a melody artwork,
and the unhappy paths (bad model, out-of-range attribute, not-a-MIDI, no melody, viewer, pictures)."""

from __future__ import annotations

import io
import json
import shutil

import mido
import pytest

from artforge.data.midi import read_midi_bytes
from artforge.models.pretrained import music_starter_dir
from artforge.pipelines.replay import replay
from artforge.studio.objects import media_store

MODEL = "starter:melody-2bar"


def midi_bytes(pitches=(60, 62, 64, 65, 67, 69, 71, 72) * 2, channel: int = 0, step_ticks: int = 240) -> bytes:
    """A type-1 MIDI tune: the given pitches as eighth notes (8 to a bar)."""
    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    for p in pitches:
        track.append(mido.Message("note_on", note=p, velocity=80, channel=channel, time=0))
        track.append(mido.Message("note_off", note=p, velocity=0, channel=channel, time=step_ticks))
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


def sample(client, n=2, seed=3, model=MODEL, **kw) -> list[dict]:
    r = client.post("/api/music/sample", json={"model": model, "n": n, "seed": seed, **kw})
    assert r.status_code == 201, r.text
    return r.json()["artworks"]


def upload(client, data: bytes, name="tune.mid"):
    return client.post("/api/music/upload", files={"file": (name, data, "audio/midi")})


def test_models_list_the_starter_with_its_attribute_sliders(viewer):
    r = viewer.get("/api/music/models")
    assert r.status_code == 200, r.text
    starter = next(m for m in r.json() if m["name"] == MODEL)
    assert starter["ready"] and starter["bars"] == 2 and starter["steps"] == 32
    assert [a["name"] for a in starter["attributes"]] == ["density", "pitch", "range", "stepwise"]
    assert all(a["help"] for a in starter["attributes"])


def test_music_runs_in_the_data_dir_are_models_too(studio, editor):
    runs = studio.settings.runs_dir
    shutil.copytree(music_starter_dir(MODEL), runs / "my-tunes", ignore=shutil.ignore_patterns("attributes.*"))
    (runs / "pictures").mkdir()
    (runs / "pictures" / "config.json").write_text(json.dumps({"family": "gan", "model": {}}))
    listed = {m["name"]: m for m in editor.get("/api/music/models").json()}
    assert "pictures" not in listed and listed["my-tunes"]["attributes"] == [] and listed["my-tunes"]["bars"] == 2
    arts = sample(editor, n=1, seed=2, model="my-tunes")
    assert arts[0]["model"] == "my-tunes"
    r = editor.post("/api/music/sample", json={"model": "my-tunes", "attributes": {"density": 1}})
    assert r.status_code == 422 and "none (no attributes.safetensors" in r.json()["detail"]
    (runs / "training").mkdir()                   # a music run before its first checkpoint
    (runs / "training" / "config.json").write_text(json.dumps({"family": "music", "model": {"steps": 32}}))
    assert {m["name"]: m["ready"] for m in editor.get("/api/music/models").json()}["training"] is False
    for path, body in (("sample", {}), ("interpolate", {"a": arts[0]["id"], "b": arts[0]["id"]}),
                       ("breed", {"parents": [arts[0]["id"], 10**6]})):
        r = editor.post(f"/api/music/{path}", json={"model": "training", **body})
        assert r.status_code == 404 and "no trained weights yet" in r.json()["detail"], r.text
    r = editor.post("/api/music/sample", json={"model": "pictures"})
    assert r.status_code == 422 and "not a music model" in r.json()["detail"]


def test_sample_keeps_melodies_with_piano_roll_midi_and_wav_and_replays(studio, editor, viewer, tmp_path):
    arts = sample(editor, n=2, seed=5, temperature=0.5, bpm=100, attributes={"density": 1.5, "pitch": 0})
    assert [a["pipeline"] for a in arts] == ["music.sample"] * 2 and [a["seed"] for a in arts] == [5, 6]
    assert arts[0]["model"] == MODEL and arts[0]["author"] == "eddie"
    assert arts[0]["recipe"]["params"]["attribute"] == "density=1.5"       # zero amounts are left out
    a = arts[0]["id"]
    image = viewer.get(f"/api/artworks/{a}/image")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    wav = viewer.get(f"/api/artworks/{a}/wav")
    assert wav.status_code == 200 and wav.headers["content-type"] == "audio/wav" and wav.content[:4] == b"RIFF"
    import io
    import wave
    with wave.open(io.BytesIO(wav.content)) as w:                # a preview: 22.05 kHz mono
        assert (w.getframerate(), w.getnchannels()) == (22050, 1)
    midi = viewer.get(f"/api/artworks/{a}/midi")
    assert midi.status_code == 200 and midi.headers["content-type"] == "audio/midi"
    assert "attachment" in midi.headers["content-disposition"] and read_midi_bytes(midi.content)
    # The downloaded MIDI carries its recipe: a replay makes the same notes.
    src = tmp_path / "a.mid"
    src.write_bytes(midi.content)
    out, same = replay(src, tmp_path / "again.mid")
    assert same is True and out.read_bytes() == midi.content          # the very same file, byte for byte
    # ... or with its recipe redacted or stripped, the notes unchanged
    from artforge.io.midi import read_recipe_text
    for mode, query in (("redact", {"fields": "model.path,created"}), ("strip", {})):
        r = viewer.get(f"/api/artworks/{a}/midi", params={"recipe": mode, **query})
        assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
        (tmp_path / f"{mode}.mid").write_bytes(r.content)
        assert [m.tolist() for m in read_midi_bytes(r.content)] == [m.tolist() for m in read_midi_bytes(midi.content)]
        text = read_recipe_text(tmp_path / f"{mode}.mid")
        if mode == "strip":
            assert text is None
        else:
            got = json.loads(text)
            assert "path" not in got["model"] and "created" not in got and got["pipeline"] == "music.sample"
    assert viewer.get(f"/api/artworks/{a}/midi", params={"recipe": "redact"}).status_code in (400, 422)
    # In the gallery like any artwork; the search finds melodies by pipeline.
    found = viewer.get("/api/artworks", params={"q": "music.sample"}).json()
    assert {x["id"] for x in found["items"]} == {x["id"] for x in arts}


def test_upload_morph_and_breed_record_their_parents(editor):
    s1, s2 = sample(editor, n=2, seed=11)
    r = upload(editor, midi_bytes())
    assert r.status_code == 201, r.text
    tune = r.json()
    assert tune["pipeline"] == "music.upload" and tune["recipe"]["params"]["filename"] == "tune.mid"
    assert editor.get(f"/api/artworks/{tune['id']}/wav").status_code == 200

    r = editor.post("/api/music/interpolate", json={"model": MODEL, "a": s1["id"], "b": tune["id"], "steps": 3})
    assert r.status_code == 201, r.text
    steps, morph = r.json()["artworks"], r.json()["morph"]
    assert len(steps) == 3 and morph["recipe"]["output"] == "morph"
    for art in steps + [morph]:
        assert editor.get(f"/api/artworks/{art['id']}/lineage").json()["parents"] == [s1["id"], tune["id"]]
        assert [p["artwork"] for p in art["recipe"]["parents"]] == [s1["id"], tune["id"]]
    # The morph plays all its steps: its MIDI lasts 3 times a step's.
    lengths = [mido.MidiFile(file=io.BytesIO(editor.get(f"/api/artworks/{x['id']}/midi").content)).length
               for x in (steps[0], morph)]
    assert lengths[1] == pytest.approx(3 * lengths[0])

    r = editor.post("/api/music/breed", json={"model": MODEL, "parents": [s1["id"], s2["id"]], "children": 2,
                                              "seed": 4})
    assert r.status_code == 201, r.text
    kids = r.json()["artworks"]
    assert [k["pipeline"] for k in kids] == ["music.breed"] * 2
    assert editor.get(f"/api/artworks/{kids[0]['id']}/lineage").json()["parents"] == [s1["id"], s2["id"]]


def test_bad_requests_get_one_clear_4xx(studio, owner, editor):
    cases = [
        ({"model": "no-such-run"}, 404, "not found"),
        ({"model": "../etc"}, 400, "model"),
        ({"model": "starter"}, 422, "not a music model"),
        ({"attributes": {"density": 3.5}}, 422, "out of range"),
        ({"attributes": {"loudness": 1}}, 422, "no attribute 'loudness'"),
        ({"attributes": {"density": "a lot"}}, 422, "attributes"),
        ({"n": 17}, 422, "at most 16"),
        ({"temperature": 9}, 422, "temperature"),
        ({"bpm": 5000}, 422, "bpm"),
        ({"surprise": 1}, 422, "surprise"),
    ]
    for extra, status, words in cases:
        r = editor.post("/api/music/sample", json={"model": MODEL, "n": 1, **extra})
        assert r.status_code == status and words in r.json()["detail"], (extra, r.status_code, r.text)
    # Uploads: not MIDI, drums only, no notes to speak of, too big.
    for data, words in ((b"hello, not a midi file", "not a MIDI file"), (midi_bytes(channel=9), "drums only"),
                        (midi_bytes(pitches=(60,)), "no melodic track"),
                        (midi_bytes(pitches=(60, 62), step_ticks=4800), "no melody of 2 bars")):
        r = upload(editor, data)
        assert r.status_code == 400 and words in r.json()["detail"], (words, r.text)
    assert upload(editor, b"MThd" + b"\0" * (1 << 20)).status_code == 413
    # Melodies only: a picture cannot be morphed, and it has no MIDI or WAV.
    pic = owner.post("/api/generate", json={"n": 1, "seed": 1}).json()["artworks"][0]["id"]
    for kind in ("midi", "wav"):
        r = editor.get(f"/api/artworks/{pic}/{kind}")
        assert r.status_code == 404 and "picture" in r.json()["detail"]
    assert editor.get("/api/artworks/999999/wav").status_code == 404
    assert editor.get(f"/api/artworks/{10**30}/midi").status_code == 422
    assert editor.post("/api/music/interpolate", json={"a": 10**30, "b": 1}).status_code == 422
    r = editor.post("/api/music/interpolate", json={"model": MODEL, "a": pic, "b": pic})
    assert r.status_code == 422 and "picture, not a melody" in r.json()["detail"]
    assert editor.post("/api/music/interpolate", json={"model": MODEL, "a": pic, "b": 999999}).status_code == 404
    r = editor.post("/api/music/breed", json={"model": MODEL, "parents": [pic, pic]})
    assert r.status_code == 422 and "two or more different" in r.json()["detail"]


def test_a_viewer_cannot_create_and_delete_removes_the_files(studio, editor, viewer):
    for path, body in (("/api/music/sample", {"n": 1}), ("/api/music/interpolate", {"a": 1, "b": 2}),
                       ("/api/music/breed", {"parents": [1, 2]})):
        assert viewer.post(path, json=body).status_code == 403
    assert upload(viewer, midi_bytes()).status_code == 403
    art = upload(editor, midi_bytes()).json()
    media = studio.app.state.studio.store.media(art["id"])
    paths = [media_store(studio.settings.objects_dir, k).path(sha) for k, sha in media.items()]
    assert sorted(media) == ["midi", "wav"] and all(p.is_file() for p in paths)
    assert editor.delete(f"/api/artworks/{art['id']}").status_code == 200
    assert not any(p.exists() for p in paths)
    assert editor.get(f"/api/artworks/{art['id']}/midi").status_code == 404


def test_a_melodys_files_are_cached_forever_only_at_content_keyed_urls(studio, editor):
    a = sample(editor, n=1, seed=4)[0]["id"]
    files = studio.app.state.studio.store.media(a)
    for kind in ("wav", "midi"):
        plain = editor.get(f"/api/artworks/{a}/{kind}")
        assert plain.headers["cache-control"] == "private, no-cache", kind
        assert plain.headers["etag"] == f'"{files[kind]}"'
        keyed = editor.get(f"/api/artworks/{a}/{kind}", params={"v": files[kind]})
        assert keyed.content == plain.content and keyed.headers["cache-control"] == "private, max-age=31536000, immutable"
