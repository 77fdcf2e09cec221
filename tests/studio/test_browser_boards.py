"""Boards in a real headless Chromium at 1280x800 (the fixtures of test_browser.py: one uvicorn server and one
browser for the module): make a board, put two picked pictures on it, show only the board, take one off;
rename and delete a board (its pictures stay); the picker and the selection bar fit the window.
ARTFORGE_SHOTS=DIR leaves a screenshot of the board view there (docs/images/studio/boards.png)."""

from __future__ import annotations

import re

from test_browser import browser_context, live, page, sync_api  # noqa: F401
from test_browser_followups import api_json, open_page, shot, ui  # noqa: F401

expect = sync_api.expect
WIDE = 1280


def generate(pg, seed: int, count: int) -> list[int]:
    """New pictures from the starter through the API (the Create form has its own tests); their ids."""
    made = api_json(pg, "POST", "/api/generate", data={"n": count, "seed": seed})
    return [a["id"] for a in made["artworks"]]


def new_board(pg, name: str) -> dict:
    """Makes a board with the picker's New board… dialog; returns it as the API gives it."""
    pg.get_by_role("group", name="Boards").get_by_role("button", name="New board…").click()
    dialog = pg.get_by_role("dialog", name="New board")
    dialog.get_by_label("Board name").fill(name)
    with pg.expect_response(lambda r: r.url.endswith("/api/boards") and r.request.method == "POST") as resp:
        dialog.get_by_role("button", name="Save").click()
    assert resp.value.status == 201, resp.value.text()
    expect(dialog).to_be_hidden()
    return resp.value.json()


def chip(pg, name: str, count: int):
    return pg.get_by_role("group", name="Boards").get_by_role(
        "button", name=f"Board {name}, {count} picture{'' if count == 1 else 's'}", exact=True)


def pick(pg, ids: list[int]):
    """Select mode on, exactly the pictures `ids` picked; returns the selection bar."""
    select = pg.get_by_role("button", name="Select", exact=True)
    if select.get_attribute("aria-pressed") != "true":
        select.click()
    bar = pg.get_by_role("region", name="Selected pictures")
    bar.get_by_role("button", name="Select none").click()
    for aid in ids:
        pg.get_by_role("button", name=re.compile(rf"^Artwork #{aid},")).click()
    expect(bar.locator("#gallery-selcount")).to_have_text(f"{len(ids)} selected")
    return bar


def shown_ids(pg, count: int) -> list[int]:
    """The ids of the gallery's tiles, once there are `count` of them."""
    tiles = pg.locator("#gallery-grid figure.tile")
    expect(tiles).to_have_count(count)
    return [int(x) for x in tiles.evaluate_all("fs => fs.map(f => f.dataset.id)")]


def test_a_board_takes_two_picked_pictures_shows_them_and_lets_one_go(ui):
    ids = generate(ui, seed=6100, count=3)
    open_page(ui, "gallery")
    board = new_board(ui, "Dusk studies")
    expect(chip(ui, "Dusk studies", 0)).to_be_visible()
    bar = pick(ui, [ids[0], ids[2]])
    bar.get_by_label("Board", exact=True).select_option(label="Dusk studies")
    bar.get_by_role("button", name="Add to board").click()
    expect(ui.get_by_role("status").filter(has_text="Added 2 pictures to “Dusk studies”.")).to_be_visible()
    chip(ui, "Dusk studies", 2).click()
    expect(ui.locator("#gallery-count")).to_have_text("2 pictures on “Dusk studies”")
    assert ui.url.endswith(f"#/gallery?board={board['id']}")
    assert shown_ids(ui, 2) == [ids[2], ids[0]]
    bar.get_by_role("button", name="Select none").click()
    shot(ui, "boards")
    pick(ui, [ids[2]])
    bar.get_by_role("button", name="Remove from “Dusk studies”").click()
    expect(ui.get_by_role("status").filter(has_text="Removed 1 picture from “Dusk studies”")).to_be_visible()
    expect(chip(ui, "Dusk studies", 1)).to_have_attribute("aria-pressed", "true")
    assert shown_ids(ui, 1) == [ids[0]]
    on_board = api_json(ui, "GET", f"/api/artworks?board={board['id']}")
    assert [a["id"] for a in on_board["items"]] == [ids[0]]
    assert api_json(ui, "GET", f"/api/artworks/{ids[2]}")["id"] == ids[2]      # still in the gallery


def test_the_board_in_the_address_is_shown_on_load(ui):
    ids = generate(ui, seed=6150, count=2)
    board = api_json(ui, "POST", "/api/boards", data={"name": "Linked"})
    api_json(ui, "POST", f"/api/boards/{board['id']}/artworks", data={"artworks": [ids[1]]})
    open_page(ui, f"gallery?board={board['id']}")
    expect(chip(ui, "Linked", 1)).to_have_attribute("aria-pressed", "true")
    expect(ui.locator("#gallery-count")).to_have_text("1 picture on “Linked”")
    assert shown_ids(ui, 1) == [ids[1]]


def test_renaming_a_board_in_use_says_so_in_the_dialog(ui):
    open_page(ui, "gallery")
    new_board(ui, "Taken")
    new_board(ui, "Sea")
    chip(ui, "Sea", 0).click()
    ui.get_by_role("button", name="Rename board…").click()
    dialog = ui.get_by_role("dialog", name="Rename “Sea”")
    dialog.get_by_label("Board name").fill("taken")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_have_text("name: you already have a board called 'taken'; pick another name")
    dialog.get_by_label("Board name").fill("Sea at night")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(chip(ui, "Sea at night", 0)).to_have_attribute("aria-pressed", "true")


def test_deleting_a_board_keeps_its_pictures_and_shows_all(ui):
    ids = generate(ui, seed=6200, count=1)
    board = api_json(ui, "POST", "/api/boards", data={"name": "Short-lived"})
    api_json(ui, "POST", f"/api/boards/{board['id']}/artworks", data={"artworks": ids})
    open_page(ui, f"gallery?board={board['id']}")
    ui.get_by_role("button", name="Delete board…").click()
    confirm = ui.get_by_role("dialog", name="Delete this board?")
    expect(confirm).to_contain_text("Its 1 picture stay in the gallery.")
    confirm.get_by_role("button", name="Delete board").click()
    expect(ui.get_by_role("status").filter(has_text="Deleted the board “Short-lived”.")).to_be_visible()
    expect(ui.get_by_role("button", name="All pictures")).to_have_attribute("aria-pressed", "true")
    expect(chip(ui, "Short-lived", 1)).to_have_count(0)
    assert ui.url.endswith("#/gallery")
    assert api_json(ui, "GET", f"/api/artworks/{ids[0]}")["id"] == ids[0]


def test_many_long_board_names_and_the_selection_bar_fit_1280_px(ui):
    for i in range(8):
        api_json(ui, "POST", "/api/boards", data={"name": f"{i} a board with a name as long as allowed, sixty ch"[:60]})
    generate(ui, seed=6300, count=1)
    open_page(ui, "gallery")
    ui.get_by_role("button", name="Select", exact=True).click()
    expect(ui.get_by_role("region", name="Selected pictures")).to_be_visible()
    ui.wait_for_load_state("networkidle")
    assert ui.evaluate("document.documentElement.scrollWidth") <= WIDE
    chips = ui.get_by_role("group", name="Boards").get_by_role("button")
    edges = chips.evaluate_all("bs => bs.map(b => b.getBoundingClientRect().right)")
    heights = chips.evaluate_all("bs => bs.map(b => b.getBoundingClientRect().height)")
    assert max(heights) <= 36                     # one line each (a cover of class 'empty' once got its 40 px padding)
    boards = len(api_json(ui, "GET", "/api/boards"))                     # these 8 and the other tests' boards
    assert len(edges) == boards + 2 and max(edges) <= WIDE - 24              # All and New board… too; main's padding
    shot(ui, "boards-many")
    bar = ui.get_by_role("region", name="Selected pictures").bounding_box()
    assert bar["x"] + bar["width"] <= WIDE - 24
