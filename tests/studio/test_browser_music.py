"""The Music page in a real headless Chromium (the fixtures of test_browser.py): sample two melodies with an
attribute slider moved, check the player's source serves a WAV the browser can play, morph between the two,
bring an uploaded .mid and the gallery's melodies, and see a melody in the gallery viewer with its player and
MIDI link."""

from __future__ import annotations

import re

from test_browser import browser_context, live, page, sync_api  # noqa: F401 (fixtures)
from test_music_routes import midi_bytes

expect = sync_api.expect


def test_music_sample_listen_and_morph(page, live):  # noqa: F811
    page.goto(page.url.split("#")[0] + "#/music")
    expect(page.get_by_role("heading", name="Music", level=1)).to_be_visible()
    form = page.get_by_role("form", name="Sample melodies")
    form.get_by_label("Count", exact=True).fill("2")
    form.get_by_label("Seed", exact=True).fill("7")
    density = form.get_by_label("Density")
    density.focus()
    for _ in range(10):
        density.press("ArrowRight")                        # the keyboard on the slider: 0 -> +1.0
    expect(form.locator("output[for=music-attr-density]")).to_have_text("1.0")
    with page.expect_response(lambda r: r.url.endswith("/api/music/sample")) as resp:
        form.get_by_role("button", name="Sample melodies").click()
    assert resp.value.status == 201, resp.value.text()
    arts = resp.value.json()["artworks"]
    assert arts[0]["recipe"]["params"]["attribute"] == "density=1.0"
    a, b = (x["id"] for x in arts)
    expect(page.get_by_role("heading", name=re.compile(r"seed 7 .* density \+1"))).to_be_visible()

    # The player's source is the melody's WAV, and Chromium can decode it (4.5 s: 2 bars at 120 bpm + the tail).
    first = page.get_by_role("button", name=f"Melody #{a}, seed 7")
    audio = page.get_by_role("figure").filter(has=first).locator("audio")
    src = audio.get_attribute("src")
    r = page.request.get(live.url + src)
    assert r.status == 200 and r.headers["content-type"] == "audio/wav" and r.body()[:4] == b"RIFF"
    duration = audio.evaluate("a => new Promise((ok, no) => { a.onloadedmetadata = () => ok(a.duration); "
                              "a.onerror = () => no(String(a.error && a.error.code)); a.preload = 'auto'; a.load(); })")
    assert 4.0 < duration < 5.0

    # Pick both, morph in 3 steps: the whole morph and its steps appear, each with a player.
    page.get_by_role("button", name=f"Melody #{a}, seed 7").click()
    page.get_by_role("button", name=f"Melody #{b}, seed 8").click()
    bar = page.get_by_role("region", name="Morph or breed the picked melodies")
    expect(bar.get_by_text(f"2 picked: #{a} → #{b}")).to_be_visible()
    bar.get_by_label("Steps").fill("3")
    with page.expect_response(lambda r: r.url.endswith("/api/music/interpolate")) as resp:
        bar.get_by_role("button", name="Morph").click()
    assert resp.value.status == 201, resp.value.text()
    morph = resp.value.json()["morph"]["id"]
    batch = page.get_by_role("region", name=f"morph #{a} → #{b} · 3 steps")
    expect(batch.get_by_role("button", name=f"Morph #{morph}")).to_be_visible()
    expect(batch.locator("audio")).to_have_count(4)
    expect(bar).to_be_hidden()

    # An uploaded tune is kept and picked at once; the gallery's melodies can be picked too.
    tune = {"name": "scale.mid", "mimeType": "audio/midi", "buffer": midi_bytes()}
    page.locator("#music-upload").set_input_files(tune)
    uploaded = page.get_by_role("region", name="uploaded · scale.mid")
    expect(uploaded.get_by_role("button", name=re.compile(r"^Melody #\d+$"))).to_have_attribute("aria-pressed", "true")
    expect(bar.get_by_text("1 picked")).to_be_visible()
    page.get_by_role("button", name="From the gallery").click()
    gallery = page.get_by_role("region", name="from the gallery")
    expect(gallery.get_by_role("button", name=f"Melody #{a}, seed 7")).to_be_visible()
    bar.get_by_role("button", name="Clear").click()

    # In the gallery the morph shows its piano roll, a player and its MIDI.
    page.goto(page.url.split("#")[0] + f"#/gallery/{morph}")
    viewer = page.get_by_role("dialog", name=f"Artwork #{morph}")
    expect(viewer.get_by_role("link", name="MIDI")).to_have_attribute("href", f"/api/artworks/{morph}/midi")
    expect(viewer.locator("audio")).to_have_attribute("src", f"/api/artworks/{morph}/wav")
    # The gallery's model filter offers the melody models too, and filters by them.
    viewer.press("Escape")
    model = page.locator("#gallery-model")
    expect(model.locator("option", has_text="starter:melody-2bar")).to_have_count(1)
