"""The studio's pages in a real headless Chromium at 1280x800 (the fixtures of test_browser.py: one uvicorn
server and one browser for the module): nothing wider than the window, the gallery's filters and the Train
form's data box inside their panels, piano-roll cards of one size and a legible whole-morph card, one notice
at a time."""

from __future__ import annotations

import io
import json
import math
import re
import socket
import threading
import time

import pytest
from conftest import PASSWORD
from test_browser import (LiveStudio, _zip_of_pictures, browser_context, generate, live, page, picture,  # noqa: F401
                          queued_pictures,
                          sync_api)
from test_music_routes import midi_bytes

from artforge.studio import create_app

expect = sync_api.expect
WIDE, HIGH = 1280, 800
PAGES = ["models", "create", "explore", "gallery", "lineage", "train", "jobs", "people", "music"]


@pytest.fixture
def ui(page):  # noqa: F811
    page.set_viewport_size({"width": WIDE, "height": HIGH})
    yield page
    page.context.set_offline(False)                 # a test that failed offline leaves the next one online


def box(locator) -> dict:
    b = locator.bounding_box()
    assert b is not None, f"{locator} is not shown"
    return b


def right(locator) -> float:
    b = box(locator)
    return b["x"] + b["width"]


def open_page(pg, name: str) -> None:
    pg.goto(pg.url.split("#")[0] + f"#/{name}")
    expect(pg.locator(f"#{name.split('/')[0]}-title")).to_be_visible()


@pytest.mark.parametrize("name", PAGES)
def test_no_page_is_wider_than_the_window(ui, name):
    open_page(ui, name)
    ui.wait_for_load_state("networkidle")
    assert ui.evaluate("document.documentElement.scrollWidth") <= WIDE


def test_every_gallery_filter_is_inside_the_window(ui):
    open_page(ui, "gallery")
    filters = ui.get_by_role("search", name="Search the gallery")
    for label in ["Search", "Model", "Seed", "Tag", "Author", "From", "To", "Favourites only"]:
        field = filters.get_by_label(label, exact=True)
        assert 0 <= box(field)["x"] and right(field) <= WIDE - 24, label       # main's padding is 24 px


def test_the_zip_box_stays_inside_the_train_form(ui):
    open_page(ui, "train")
    form = ui.get_by_role("form", name="Start training")
    form.get_by_label("A zip of images from this computer").check()
    data = form.get_by_role("group", name="Training data")
    edge = right(form) - 16                                   # the panel's padding
    assert right(data) <= edge and right(form.get_by_label("Zip of images", exact=True)) <= right(data)


def test_piano_roll_cards_are_one_size_and_the_whole_morph_is_not_a_thumbnail(ui):
    open_page(ui, "music")
    form = ui.get_by_role("form", name="Sample melodies")
    form.get_by_label("Count", exact=True).fill("2")
    form.get_by_label("Seed", exact=True).fill("21")
    with ui.expect_response(lambda r: r.url.endswith("/api/music/sample")) as resp:
        form.get_by_role("button", name="Sample melodies").click()
    a, b = (x["id"] for x in resp.value.json()["artworks"])
    long_name = "a-tune-with-a-rather-long-file-name-from-my-sequencer-export.mid"
    with ui.expect_response(lambda r: r.url.endswith("/api/music/upload")):
        ui.locator("#music-upload").set_input_files({"name": long_name, "mimeType": "audio/midi",
                                                     "buffer": midi_bytes()})
    ui.get_by_role("button", name="Clear").click()
    ui.get_by_role("button", name=f"Melody #{a}, seed 21").click()
    ui.get_by_role("button", name=f"Melody #{b}, seed 22").click()
    bar = ui.get_by_role("region", name="Morph or breed the picked melodies")
    bar.get_by_label("Steps").fill("3")
    with ui.expect_response(lambda r: r.url.endswith("/api/music/interpolate"), timeout=60_000) as resp:
        bar.get_by_role("button", name="Morph").click()
    morph = resp.value.json()["morph"]["id"]
    whole = ui.locator(f"figure.melody.morph[data-id='{morph}']")
    expect(whole.locator("img")).to_have_js_property("complete", True)
    cards = ui.locator("#music-results figure.melody:not(.morph)")
    expect(cards).to_have_count(6)                             # 2 sampled, 1 uploaded, 3 morph steps
    sizes = {(round(b["width"]), round(b["height"])) for b in (box(cards.nth(i)) for i in range(6))}
    assert len(sizes) == 1, sizes
    (card_w, _), = sizes
    # shown at its own width (or the card's, if narrower): a readable roll, wider than a step's card
    natural = whole.locator("img").evaluate("i => i.naturalWidth")
    assert round(box(whole.locator("img"))["width"]) >= min(natural, 0.6 * box(whole)["width"]) > card_w


def test_a_melody_says_its_png_download_is_the_piano_roll(ui, live):
    ids = _sample_melodies(ui, live, seed=31)
    ui.goto(ui.url.split("#")[0] + f"#/gallery/{ids[0]}")
    viewer = ui.get_by_role("dialog", name=f"Artwork #{ids[0]}")
    expect(viewer.get_by_role("button", name="Download the piano roll (PNG)")).to_be_visible()
    ids = generate(ui, seed=77, count=1)
    ui.goto(ui.url.split("#")[0] + f"#/gallery/{ids[0]}")
    image_viewer = ui.get_by_role("dialog", name=f"Artwork #{ids[0]}")
    expect(image_viewer.get_by_role("button", name="Download PNG")).to_be_visible()


def test_notices_do_not_pile_up(ui, tmp_path):
    open_page(ui, "gallery")
    for i in range(3):
        png = io.BytesIO()
        picture(300 + i).save(png, format="PNG")
        with ui.expect_response(lambda r: r.url.endswith("/api/artworks/upload")):
            ui.locator("#gallery-upload").set_input_files({"name": f"up{i}.png", "mimeType": "image/png",
                                                           "buffer": png.getvalue()})
        expect(ui.get_by_role("status").filter(has_text=f"Added up{i}.png")).to_be_visible()
    notices = ui.locator("#notices .notice")
    assert notices.count() == 1                               # at once: not after the older ones time out
    expect(notices).to_contain_text("Added up2.png")


def csrf(pg) -> dict:
    return {"X-CSRF-Token": next(c["value"] for c in pg.context.cookies() if c["name"] == "artforge_csrf")}


def _sample_melodies(pg, live, seed: int, n: int = 1) -> list[int]:  # noqa: F811
    r = pg.request.post(live.url + "/api/music/sample", data={"model": "starter:melody-2bar", "n": n, "seed": seed},
                        headers=csrf(pg))
    assert r.status == 201, r.text()
    return [a["id"] for a in r.json()["artworks"]]


# ---- remix, multi-select, breeding from the gallery ------------------------------------------------------


def notice(pg):
    """The text of the notice shown (one at a time)."""
    return pg.locator("#notices").get_by_role("status").locator("span")


def viewer_of(pg, aid: int):
    pg.goto(pg.url.split("#")[0] + f"#/gallery/{aid}")
    dialog = pg.get_by_role("dialog", name=f"Artwork #{aid}")
    expect(dialog).to_be_visible()
    return dialog


def test_use_these_settings_fills_create_and_remakes_the_picture(ui, live):  # noqa: F811
    form = ui.get_by_role("form", name="Create")
    form.get_by_label("Truncation").fill("0.7")
    ids = generate(ui, seed=5100, count=3)
    original = _artwork(ui, live, ids[1])                   # seed 5101, the second of three
    viewer_of(ui, ids[1]).get_by_role("link", name="Use these settings").click()
    expect(notice(ui)).to_have_text(f"Artwork #{ids[1]}'s settings are filled in: Generate makes it again, first.")
    expect(form.get_by_label("Seed", exact=True)).to_have_value("5101")
    expect(form.get_by_label("Count", exact=True)).to_have_value("3")
    expect(form.get_by_label("Truncation")).to_have_value("0.7")
    expect(form.get_by_label("No copies")).to_be_checked()
    expect(form.get_by_label("Model")).to_have_value("starter")
    with ui.expect_response(lambda r: r.url.endswith("/api/jobs") and r.request.method == "POST") as resp:
        form.get_by_role("button", name="Generate").click()
    again = [_artwork(ui, live, i) for i in queued_pictures(ui, resp.value.json()["id"], 3)]
    assert [a["recipe"]["params"]["image_seed"] for a in again] == [5101, 5102, 5103]
    assert again[0]["sha256"] == original["sha256"] and again[0]["id"] != original["id"]   # the same picture


def test_use_these_settings_on_a_bred_picture_picks_its_parents(ui, live):  # noqa: F811
    a, b = generate(ui, seed=5200, count=2)
    csrf_h = csrf(ui)
    r = ui.request.post(live.url + "/api/breed", headers=csrf_h,
                        data={"parents": [a, b], "mode": "blend", "n": 2, "seed": 9, "mutation": 0.25})
    assert r.status == 201, r.text()
    child = r.json()["artworks"][0]
    viewer_of(ui, child["id"]).get_by_role("link", name="Use these settings").click()
    bar = ui.get_by_role("region", name="Breed the selected pictures")
    expect(notice(ui)).to_have_text(
        f"Artwork #{child['id']}'s parents are picked, with its breeding settings: Breed makes it again.")
    expect(bar.get_by_text("2 selected")).to_be_visible()
    expect(bar.get_by_label("Mode")).to_have_value("blend")
    expect(bar.get_by_label("Count")).to_have_value("2")
    expect(bar.get_by_label("Seed", exact=True)).to_have_value("9")
    expect(bar.locator("output")).to_have_text("0.25")
    with ui.expect_response(lambda r: r.url.endswith("/api/breed")) as resp:
        bar.get_by_role("button", name="Breed").click()
    assert resp.value.status == 201, resp.value.text()
    assert resp.value.json()["artworks"][0]["sha256"] == child["sha256"]        # the same child again


def test_use_these_settings_on_a_melody_fills_the_music_form_and_remakes_it(ui, live):  # noqa: F811
    r = ui.request.post(live.url + "/api/music/sample", headers=csrf(ui),
                        data={"model": "starter:melody-2bar", "n": 2, "seed": 41, "temperature": 0.8, "bpm": 90,
                              "attributes": {"density": 1.5}})
    assert r.status == 201, r.text()
    second = r.json()["artworks"][1]                          # seed 42
    viewer_of(ui, second["id"]).get_by_role("link", name="Use these settings").click()
    form = ui.get_by_role("form", name="Sample melodies")
    expect(notice(ui)).to_have_text(f"Melody #{second['id']}'s settings are filled in: Sample makes it again, first.")
    expect(form.get_by_label("Seed", exact=True)).to_have_value("42")
    expect(form.get_by_label("Count", exact=True)).to_have_value("2")
    expect(form.get_by_label("Tempo (bpm)")).to_have_value("90")
    expect(form.locator("output[for=music-temperature]")).to_have_text("0.80")
    expect(form.locator("output[for=music-attr-density]")).to_have_text("1.5")
    expect(form.locator("output[for=music-attr-pitch]")).to_have_text("0.0")
    with ui.expect_response(lambda r: r.url.endswith("/api/music/sample")) as resp:
        form.get_by_role("button", name="Sample melodies").click()
    again = resp.value.json()["artworks"][0]
    assert again["recipe"]["params"]["attribute"] == "density=1.5" and again["seed"] == 42
    notes = [_notes(ui.request.get(live.url + f"/api/artworks/{a['id']}/midi").body()) for a in (second, again)]
    assert again["sha256"] == second["sha256"] and notes[0] == notes[1] and notes[0]    # the same melody again


def _notes(midi: bytes) -> list[tuple]:
    """The note events of a MIDI file (its recipe text, with the time it was made, left out)."""
    import mido

    return [(m.type, m.note, m.time) for t in mido.MidiFile(file=io.BytesIO(midi)).tracks for m in t
            if m.type in ("note_on", "note_off")]


def select_in_gallery(pg, ids: list[int]):
    """Select mode on in the gallery, the pictures `ids` picked; returns the selection bar."""
    open_page(pg, "gallery")
    pg.get_by_role("button", name="Select", exact=True).click()
    for aid in ids:
        pg.get_by_role("button", name=re.compile(rf"^Artwork #{aid},")).click()
    bar = pg.get_by_role("region", name="Selected pictures")
    expect(bar.locator("#gallery-selcount")).to_have_text(f"{len(ids)} selected")
    return bar


def test_gallery_multi_select_tags_every_picked_picture(ui, live):  # noqa: F811
    ids = generate(ui, seed=5300, count=3)
    bar = select_in_gallery(ui, ids[:2])
    expect(ui.get_by_role("dialog")).to_have_count(0)          # picking does not open the viewer
    bar.get_by_label("Tag", exact=True).fill("bulk-dusk")
    bar.get_by_role("button", name="Add tag").click()
    expect(ui.get_by_role("status").filter(has_text="Tagged “bulk-dusk”: 2 pictures.")).to_be_visible()
    assert [_artwork(ui, live, i)["tags"] for i in ids] == [["bulk-dusk"], ["bulk-dusk"], []]


def test_gallery_multi_select_favourites_every_picked_picture(ui, live):  # noqa: F811
    ids = generate(ui, seed=5400, count=3)
    bar = select_in_gallery(ui, [ids[0], ids[2]])
    bar.get_by_role("button", name="★ Favourite").click()
    expect(ui.get_by_role("status").filter(has_text="Favourited 2 pictures.")).to_be_visible()
    assert [_artwork(ui, live, i)["favourite"] for i in ids] == [True, False, True]
    expect(ui.locator(f"figure[data-id='{ids[0]}'] .fav")).to_be_visible()       # the tile shows its star


def test_gallery_multi_select_deletes_after_one_confirmation(ui, live):  # noqa: F811
    ids = generate(ui, seed=5500, count=3)
    bar = select_in_gallery(ui, ids[1:])
    bar.get_by_role("button", name="Delete…").click()
    confirm = ui.get_by_role("dialog", name="Delete the selected pictures?")
    expect(confirm).to_contain_text("Delete 2 pictures?")
    confirm.get_by_role("button", name="Delete").click()
    expect(ui.get_by_role("status").filter(has_text="Deleted 2 pictures.")).to_be_visible()
    assert [ui.request.get(live.url + f"/api/artworks/{i}").status for i in ids] == [200, 404, 404]
    expect(ui.get_by_role("button", name=re.compile(rf"^Artwork #{ids[1]},"))).to_have_count(0)
    expect(bar.locator("#gallery-selcount")).to_have_text("0 selected")


def test_gallery_multi_select_downloads_one_zip_with_every_recipe(ui, live, tmp_path):  # noqa: F811
    import zipfile

    from artforge.provenance import read_recipe

    ids = generate(ui, seed=5600, count=3)
    bar = select_in_gallery(ui, ids)
    with ui.expect_download() as dl:
        bar.get_by_role("button", name="Download (zip)").click()
    assert dl.value.suggested_filename == "artworks-3.zip"
    path = tmp_path / "picked.zip"
    dl.value.save_as(path)
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None                               # every CRC matches
        assert sorted(z.namelist()) == sorted(f"artwork-{i}.png" for i in ids)
        z.extractall(tmp_path)
    for i in ids:
        original = ui.request.get(live.url + f"/api/artworks/{i}/download?recipe=keep").body()
        assert (tmp_path / f"artwork-{i}.png").read_bytes() == original
        assert read_recipe(tmp_path / f"artwork-{i}.png")["params"]["image_seed"] == _artwork(ui, live, i)["seed"]


def test_gallery_pictures_picked_as_breeding_parents(ui, live):  # noqa: F811
    ids = generate(ui, seed=5700, count=3)
    bar = select_in_gallery(ui, [ids[0], ids[2]])
    bar.get_by_role("button", name="Breed in Create").click()
    expect(ui.get_by_role("heading", name="Create", level=1)).to_be_visible()
    breed = ui.get_by_role("region", name="Breed the selected pictures")
    expect(breed.get_by_text("2 selected")).to_be_visible()
    picked = ui.get_by_role("region", name=f"parents from the gallery: #{ids[0]}, #{ids[2]}")
    for aid in (ids[0], ids[2]):
        tile = picked.get_by_role("button", name=re.compile(rf"^Artwork #{aid},"))
        expect(tile).to_have_attribute("aria-pressed", "true")
    with ui.expect_response(lambda r: r.url.endswith("/api/breed")) as resp:
        breed.get_by_role("button", name="Breed").click()
    assert resp.value.status == 201, resp.value.text()
    kids = resp.value.json()["artworks"]
    assert [p["artwork"] for p in kids[0]["recipe"]["parents"]] == [ids[0], ids[2]]


def _artwork(pg, live, aid: int) -> dict:  # noqa: F811
    r = pg.request.get(live.url + f"/api/artworks/{aid}")
    assert r.status == 200, r.text()
    return r.json()


# ---- the connection, and jobs of other people ------------------------------------------------------------
# One long training run (the smallest that trains for real) keeps the worker busy for the tests below, so the
# jobs they queue behind it stay queued; it is cancelled when the module ends.
LONG = {"resolution": 16, "batch_size": 4, "preset": "tiny", "kid_every": 0, "log_every": 1}


class Api:
    """An httpx client of the live server, signed in by a one-time link (owner) or a password."""

    def __init__(self, live, username: str | None = None):  # noqa: F811
        import httpx

        self.http = httpx.Client(base_url=live.url, timeout=120)
        if username is None:               # the link the page fixture uses too (a new one replaces the last)
            assert self.http.get(live.link()).status_code in (200, 303)
        else:
            assert self.http.post("/api/login", json={"username": username, "password": PASSWORD}).status_code == 200
        self.http.headers["X-CSRF-Token"] = self.http.cookies["artforge_csrf"]

    def __call__(self, method: str, path: str, **kw):
        r = self.http.request(method, path, **kw)
        assert r.status_code < 400, r.text
        return r.json() if r.content else None

    def wait(self, jid: int, done, timeout_s: float = 120) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            job = self("GET", f"/api/jobs/{jid}")
            if done(job):
                return job
            time.sleep(0.2)
            if job["state"] == "failed":
                break
        raise AssertionError(f"job {jid} stayed {job['state']} at step {job['step']}: {job['error']}")


def train_job(api: Api, name: str, steps: int, data: str = "art") -> dict:
    return api("POST", "/api/jobs", json={"kind": "train", "name": name, "data": data, "steps": steps, "params": LONG})


def upload(api: Api) -> str:
    """An upload id (editors train on their own uploads; the data dir's folders are the owner's)."""
    return api("POST", "/api/uploads", files={"file": ("pics.zip", _zip_of_pictures(8), "application/zip")})["upload"]


@pytest.fixture(scope="module")
def owner_api(live):  # noqa: F811
    api = Api(live)
    yield api
    api.http.close()


@pytest.fixture(scope="module")
def editor_api(live, owner_api):  # noqa: F811
    owner_api("POST", "/api/users", json={"username": "eddie", "password": PASSWORD, "role": "editor"})
    api = Api(live, "eddie")
    yield api
    api.http.close()


@pytest.fixture(scope="module")
def running_job(owner_api):
    job = train_job(owner_api, "ui-long", 1_000_000)
    job = owner_api.wait(job["id"], lambda j: j["state"] == "running" and j["eta_s"] is not None)
    yield job
    state = owner_api("GET", f"/api/jobs/{job['id']}")["state"]
    if state not in ("done", "failed", "cancelled"):
        owner_api("POST", f"/api/jobs/{job['id']}/cancel")
        owner_api.wait(job["id"], lambda j: j["state"] == "cancelled")


def js_duration(seconds: float) -> str:
    """core.js's duration(): '12 s', '3 min 5 s', '1 h 6 min' (Math.round: halves up)."""
    s = max(0, math.floor(seconds + 0.5))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {(s % 3600) // 60} min"


def test_steps_on_train_show_the_time_a_run_will_take_at_the_measured_rate(ui, live, owner_api):  # noqa: F811
    job = train_job(owner_api, "ui-timed", 6)               # the newest timed run when this test runs
    owner_api.wait(job["id"], lambda j: j["state"] == "done")
    lines = (live.settings.runs_dir / "ui-timed" / "metrics.jsonl").read_text().splitlines()
    rates = [r["sec_per_step"] for r in map(json.loads, lines) if isinstance(r.get("sec_per_step"), (int, float))]
    last = rates[-10:]
    rate = sum(last) / len(last)                               # summed left to right, as the page does
    open_page(ui, "train")
    form = ui.get_by_role("form", name="Start training")
    form.get_by_label("Steps").fill("5000")
    settings = ", ".join(f"{k} {v}" for k, v in LONG.items())
    expect(form.locator("#train-estimate")).to_have_text(
        f"≈ {js_duration(5000 * rate)} at {rate:.2f} s a step, as measured on run ui-timed ({settings}); "
        "other settings train at other speeds.")


def offline(pg) -> None:
    """The network gone: every request, and the open event stream, get no answer."""
    pg.context.set_offline(True)


def online(pg) -> None:
    pg.context.set_offline(False)


def banner(pg):
    return pg.get_by_role("alert").filter(has_text="Lost the connection to the studio")


def test_a_lost_connection_shows_a_banner_until_the_studio_answers_again(ui):
    open_page(ui, "jobs")
    expect(banner(ui)).to_be_hidden()
    offline(ui)
    expect(banner(ui)).to_be_visible()
    assert ui.locator("#notices .notice").count() == 0         # the banner says it once, no error notices
    online(ui)
    expect(banner(ui)).to_be_hidden(timeout=10_000)


def stop(studio: LiveStudio) -> None:
    """Stops the studio, its open event streams too (they never end by themselves): connections refused."""
    studio.server.config.timeout_graceful_shutdown = 1
    studio.close()
    studio.thread.join(90)                       # its trainer checkpoints and exits first
    assert not studio.thread.is_alive(), "the studio did not stop"


def start_again(studio: LiveStudio, port: int) -> None:
    """A new app over the same data dir, on the same port (as `artforge studio` started again)."""
    import uvicorn

    studio.app = create_app(studio.settings)
    studio.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    studio.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    deadline = time.monotonic() + 20
    while True:
        try:
            studio.sock.bind(("127.0.0.1", port))
            break
        except OSError:                          # the old server's last connections are still closing
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    studio.server = uvicorn.Server(uvicorn.Config(studio.app, log_level="warning", lifespan="on"))
    studio.thread = threading.Thread(target=studio.server.run, kwargs={"sockets": [studio.sock]}, daemon=True)
    studio.thread.start()


def test_the_train_monitor_does_not_say_running_while_the_studio_is_stopped(ui, tmp_path):
    studio = LiveStudio(tmp_path / "data")                    # its own studio, stopped and started again
    try:
        ui.goto(studio.link())
        api = Api(studio)
        job = train_job(api, "ui-stopped", 1_000_000)
        api.http.close()
        ui.goto(studio.url + f"/#/train/{job['id']}")
        state = ui.locator("#train-state")
        expect(state).to_have_text("running")
        port = studio.sock.getsockname()[1]
        stop(studio)                                             # nothing answers now
        expect(banner(ui)).to_be_visible(timeout=20_000)
        expect(state).to_have_text("unknown")
        expect(ui.locator(".stat").filter(has_text="time left").locator("b")).to_have_text("–")
        start_again(studio, port)                                # back: the run's real state now
        expect(state).to_have_text(re.compile("^(interrupted|queued|running)$"), timeout=30_000)
        expect(banner(ui)).to_be_hidden()
    finally:
        ui.goto("about:blank")
        stop(studio)


def test_a_cancelled_job_does_not_keep_its_earlier_error(ui, live, owner_api, running_job):  # noqa: F811
    job = train_job(owner_api, "ui-interrupted", 10)              # queued behind the long run
    message = "the studio stopped before this run's first checkpoint; resume starts it again"
    live.app.state.studio.jobs._set(job["id"], "interrupted", error=message)    # as a restart leaves it
    open_page(ui, "jobs")
    row = ui.get_by_role("row").filter(has=ui.get_by_role("link", name="ui-interrupted"))
    expect(row.locator(".form-error")).to_have_text(message)
    row.get_by_role("button", name="Cancel job ui-interrupted").click()
    expect(row.get_by_text("cancelled")).to_be_visible()
    expect(row.locator(".form-error")).to_have_count(0)
    row.get_by_role("link", name="ui-interrupted").click()
    expect(ui.locator("#train-state")).to_have_text("cancelled")
    expect(ui.locator("#train-error")).to_have_text("")


def sign_in_as(pg, live, username: str) -> None:  # noqa: F811
    """Signed out, then in again with the sign-in form, on the Jobs page."""
    pg.context.clear_cookies()
    pg.goto(live.url + "/#/jobs")
    pg.get_by_label("Username").fill(username)
    pg.get_by_label("Password").fill(PASSWORD)
    pg.get_by_role("button", name="Sign in").click()
    expect(pg.get_by_text(f"{username} · editor")).to_be_visible()
    expect(pg.get_by_role("heading", name="Jobs", level=1)).to_be_visible()


def test_an_editor_can_steer_only_their_own_jobs(ui, live, editor_api, running_job):  # noqa: F811
    mine = train_job(editor_api, "ui-eddies", 10, upload(editor_api))      # queued behind the owner's long run
    sign_in_as(ui, live, "eddie")
    theirs = ui.get_by_role("row").filter(has=ui.get_by_role("link", name="ui-long"))
    expect(theirs.get_by_text("running")).to_be_visible()
    for verb in ("Pause", "Cancel"):
        expect(theirs.get_by_role("button", name=f"{verb} job ui-long")).to_be_disabled()
    own = ui.get_by_role("row").filter(has=ui.get_by_role("link", name="ui-eddies"))
    expect(own.get_by_role("button", name="Pause job ui-eddies")).to_be_enabled()
    own.get_by_role("button", name="Cancel job ui-eddies").click()
    expect(own.get_by_text("cancelled")).to_be_visible()
    expect(own.get_by_role("button", name="Remove job ui-eddies from the list")).to_be_enabled()
    theirs.get_by_role("link", name="ui-long").click()             # the monitor of someone else's run
    expect(ui.locator("#train-state")).to_have_text("running")
    expect(ui.get_by_role("button", name="Pause job ui-long")).to_be_disabled()
    assert editor_api.http.get(f"/api/jobs/{mine['id']}").json()["state"] == "cancelled"


def test_pausing_a_run_says_pausing_until_it_has_stopped(ui, running_job):
    open_page(ui, "jobs")
    row = ui.get_by_role("row").filter(has=ui.get_by_role("link", name="ui-long"))
    expect(row.get_by_text("running")).to_be_visible()
    # every text the state badge shows, from the click on (it may pass quickly)
    ui.evaluate("""() => { window.seen = []; new MutationObserver(() => {
        const b = document.querySelector(`tr[data-id="%d"] .badge`); if (b) window.seen.push(b.textContent);
      }).observe(document.querySelector('#main'), { subtree: true, childList: true, characterData: true });
    }""" % running_job["id"])
    row.get_by_role("button", name="Pause job ui-long").click()
    expect(row.get_by_text("paused", exact=True)).to_be_visible(timeout=60_000)
    seen = ui.evaluate("window.seen")
    assert "pausing…" in seen and seen.index("pausing…") < seen.index("paused"), seen


def test_the_loss_chart_keeps_its_last_step_label_inside(ui):
    """A run of 100,000 steps: its x labels read 0 ... 100k and the last is not cut off at the right edge."""
    labels = ui.evaluate("""async () => {
        const { drawChart } = await import('/static/chart.js');
        const canvas = document.createElement('canvas');
        canvas.style.cssText = 'width:600px;height:280px';
        document.body.append(canvas);
        const ctx = canvas.getContext('2d'), drawn = [], fill = ctx.fillText.bind(ctx);
        ctx.fillText = (text, x, y) => {
            drawn.push([text, x, ctx.measureText(text).width, ctx.textAlign]);
            fill(text, x, y);
        };
        drawChart(canvas, [{ step: 10, D: 1.2, G: 0.5 }, { step: 20, D: 1.1, G: 0.6 }], { xmax: 100000 });
        canvas.remove();
        return drawn.filter(([, , , align]) => align === 'center');
    }""")
    assert [t for t, *_ in labels] == ["0", "20k", "40k", "60k", "80k", "100k"]
    assert all(x + width / 2 <= 600 for _, x, width, _ in labels), labels
