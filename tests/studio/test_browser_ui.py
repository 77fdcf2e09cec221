"""The studio's pages in a real headless Chromium at 1280x800 (the fixtures of test_browser.py: one uvicorn
server and one browser for the module): nothing wider than the window, the gallery's filters and the Train
form's data box inside their panels, piano-roll cards of one size and a legible whole-morph card, one notice
at a time."""

from __future__ import annotations

import io
import re

import pytest
from test_browser import browser_context, generate, live, page, picture, sync_api  # noqa: F401 (fixtures)
from test_music_routes import midi_bytes

expect = sync_api.expect
WIDE, HIGH = 1280, 800
PAGES = ["models", "create", "explore", "gallery", "lineage", "train", "jobs", "people", "music"]


@pytest.fixture
def ui(page):  # noqa: F811
    page.set_viewport_size({"width": WIDE, "height": HIGH})
    return page


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
        ui.locator("#music-upload").set_input_files({"name": long_name, "mimeType": "audio/midi", "buffer": midi_bytes()})
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
    expect(ui.get_by_role("dialog", name=f"Artwork #{ids[0]}").get_by_role("button", name="Download PNG")).to_be_visible()


def test_notices_do_not_pile_up(ui, tmp_path):
    open_page(ui, "gallery")
    for i in range(3):
        png = io.BytesIO()
        picture(300 + i).save(png, format="PNG")
        with ui.expect_response(lambda r: r.url.endswith("/api/artworks/upload")):
            ui.locator("#gallery-upload").set_input_files({"name": f"up{i}.png", "mimeType": "image/png", "buffer": png.getvalue()})
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
