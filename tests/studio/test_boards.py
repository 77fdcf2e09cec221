"""Boards (routes/boards.py, store migration 6): each person's own folders of artworks: ownership (another
person's board is a 404, like a missing one), cascades (deleting an artwork takes it off its boards; deleting a
board keeps its artworks), names unique per owner, strict JSON types and the gallery's `board=` filter."""

from __future__ import annotations

import io
import sqlite3

import pytest
from PIL import Image

from artforge.studio.store import MIGRATIONS, Store, image_url


def upload(client, colour: int) -> dict:
    """A new artwork (an uploaded 8 px picture of one colour: its own sha256)."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (colour, 40, 90)).save(buf, format="PNG")
    r = client.post("/api/artworks/upload", files={"file": (f"c{colour}.png", buf.getvalue())})
    assert r.status_code == 201, r.text
    return r.json()


def board(client, name: str) -> dict:
    r = client.post("/api/boards", json={"name": name})
    assert r.status_code == 201, r.text
    return r.json()


def add(client, bid: int, ids: list[int]):
    return client.post(f"/api/boards/{bid}/artworks", json={"artworks": ids})


def test_a_new_board_is_empty_and_listed_with_its_count_and_cover(editor):
    made = board(editor, "  Dusk studies ")
    assert (made["name"], made["count"], made["cover_url"]) == ("Dusk studies", 0, None)
    assert editor.get("/api/boards").json() == [made]


def test_adding_pictures_counts_them_and_the_cover_is_the_newest(editor):
    a, b = upload(editor, 10), upload(editor, 20)
    bid = board(editor, "Keep")["id"]
    r = add(editor, bid, [a["id"], b["id"], a["id"]])
    assert r.status_code == 200, r.text
    assert r.json()["added"] == 2
    assert r.json()["board"]["count"] == 2 and r.json()["board"]["cover_url"] == image_url(b["id"], b["sha256"])
    assert add(editor, bid, [a["id"]]).json()["added"] == 0           # already there: nothing changes


def test_the_gallery_filter_shows_only_the_boards_pictures(editor):
    a, b, c = upload(editor, 1), upload(editor, 2), upload(editor, 3)
    bid = board(editor, "Two")["id"]
    add(editor, bid, [a["id"], c["id"]])
    out = editor.get(f"/api/artworks?board={bid}").json()
    assert out["total"] == 2 and [x["id"] for x in out["items"]] == [c["id"], a["id"]]
    assert editor.get(f"/api/artworks?board={bid}&seed=0").json()["total"] == 0     # with the other filters


def test_removing_takes_pictures_off_the_board_and_keeps_them_in_the_gallery(editor):
    a, b = upload(editor, 5), upload(editor, 6)
    bid = board(editor, "R")["id"]
    add(editor, bid, [a["id"], b["id"]])
    r = editor.post(f"/api/boards/{bid}/artworks/remove", json={"artworks": [b["id"], 999]})
    assert r.status_code == 200 and r.json()["removed"] == 1 and r.json()["board"]["count"] == 1
    assert [x["id"] for x in editor.get(f"/api/artworks?board={bid}").json()["items"]] == [a["id"]]
    assert editor.get(f"/api/artworks/{b['id']}").status_code == 200


def test_an_unknown_artwork_adds_nothing(editor):
    a = upload(editor, 7)
    bid = board(editor, "None of them")["id"]
    r = add(editor, bid, [a["id"], 4242])
    assert (r.status_code, r.json()["detail"]) == (404, f"no artwork 4242; nothing was added to board {bid}")
    assert editor.get(f"/api/boards/{bid}").json()["count"] == 0


def test_deleting_an_artwork_takes_it_off_its_boards(editor):
    a, b = upload(editor, 11), upload(editor, 12)
    bid = board(editor, "Cascade")["id"]
    add(editor, bid, [a["id"], b["id"]])
    assert editor.delete(f"/api/artworks/{b['id']}").status_code == 200
    got = editor.get(f"/api/boards/{bid}").json()
    assert got["count"] == 1 and got["cover_url"] == image_url(a["id"], a["sha256"])


def test_deleting_a_board_keeps_its_artworks(studio, editor):
    a = upload(editor, 13)
    bid = board(editor, "Gone")["id"]
    add(editor, bid, [a["id"]])
    assert editor.delete(f"/api/boards/{bid}").json() == {"ok": True, "id": bid}
    assert editor.get(f"/api/artworks/{a['id']}").status_code == 200
    assert editor.get(f"/api/boards/{bid}").status_code == 404
    with studio.app.state.studio.store.read() as c:
        assert c.execute("SELECT COUNT(*) FROM board_items").fetchone()[0] == 0


def test_a_board_may_hold_other_peoples_pictures(owner, editor):
    theirs = upload(owner, 14)
    bid = board(editor, "Inspiration")["id"]
    assert add(editor, bid, [theirs["id"]]).json()["added"] == 1


@pytest.mark.parametrize("call", [
    lambda c, bid: c.get(f"/api/boards/{bid}"),
    lambda c, bid: c.patch(f"/api/boards/{bid}", json={"name": "mine now"}),
    lambda c, bid: c.delete(f"/api/boards/{bid}"),
    lambda c, bid: c.post(f"/api/boards/{bid}/artworks", json={"artworks": [1]}),
    lambda c, bid: c.post(f"/api/boards/{bid}/artworks/remove", json={"artworks": [1]}),
    lambda c, bid: c.get(f"/api/artworks?board={bid}"),
], ids=["get", "rename", "delete", "add", "remove", "filter"])
@pytest.mark.parametrize("who", ["editor", "owner"])
def test_someone_elses_board_is_a_404_like_a_missing_one(studio, owner, editor, call, who):
    upload(editor, 15)
    bid = board(editor, "Private")["id"]
    other = studio.user(owner, "otto", "editor") if who == "editor" else owner     # the studio's owner too
    theirs, missing = call(other, bid), call(other, bid + 1000)
    assert (theirs.status_code, missing.status_code) == (404, 404)
    assert theirs.json()["detail"] == f"you have no board {bid}"
    assert editor.get(f"/api/boards/{bid}").json()["name"] == "Private"


def test_an_owner_does_not_see_an_editors_boards(owner, editor):
    board(editor, "Mine")
    assert owner.get("/api/boards").json() == []


def test_a_viewer_reads_their_own_boards_but_cannot_change_them(studio, owner):
    vera = studio.user(owner, "vera", "editor")
    bid = board(vera, "Old")["id"]
    users = {u["username"]: u["id"] for u in owner.get("/api/users").json()}
    assert owner.patch(f"/api/users/{users['vera']}", json={"role": "viewer"}).status_code == 200
    assert [b["id"] for b in vera.get("/api/boards").json()] == [bid]
    assert vera.get(f"/api/artworks?board={bid}").json()["total"] == 0
    r = vera.post("/api/boards", json={"name": "New"})
    assert (r.status_code, r.json()["detail"]) == (403, "vera is a viewer; this needs editor rights")
    assert vera.delete(f"/api/boards/{bid}").status_code == 403


def test_deleting_an_account_deletes_its_boards_and_keeps_the_pictures(studio, owner):
    otto = studio.user(owner, "otto", "editor")
    a = upload(owner, 16)
    bid = board(otto, "Leaving")["id"]
    add(otto, bid, [a["id"]])
    uid = next(u["id"] for u in owner.get("/api/users").json() if u["username"] == "otto")
    assert owner.delete(f"/api/users/{uid}").json() == {"ok": True}
    with studio.app.state.studio.store.read() as c:
        assert c.execute("SELECT COUNT(*) FROM boards").fetchone()[0] == 0
        assert c.execute("SELECT COUNT(*) FROM board_items").fetchone()[0] == 0
    assert owner.get(f"/api/artworks/{a['id']}").status_code == 200


def test_names_are_unique_per_owner_in_any_case(studio, owner, editor):
    board(editor, "Sketches")
    r = editor.post("/api/boards", json={"name": " sketches"})
    assert (r.status_code, r.json()["detail"]) == (
        422, "name: you already have a board called 'sketches'; pick another name")
    assert board(owner, "Sketches")["name"] == "Sketches"                  # another person's may share it


def test_renaming_onto_another_boards_name_is_refused(editor):
    board(editor, "A")
    bid = board(editor, "B")["id"]
    r = editor.patch(f"/api/boards/{bid}", json={"name": "a"})
    assert (r.status_code, r.json()["detail"]) == (422, "name: you already have a board called 'a'; pick another name")
    assert editor.patch(f"/api/boards/{bid}", json={"name": " Better "}).json()["name"] == "Better"


@pytest.mark.parametrize("name, detail", [
    ("   ", "name: give the board a name (1-60 characters)"),
    ("x" * 61, "name: at most 60 characters (this one has 61)"),
    ("two\nlines", "name: no control characters (tabs, line breaks...) in a board's name"),
], ids=["blank", "too-long", "control"])
def test_a_bad_name_is_a_clear_422(editor, name, detail):
    r = editor.post("/api/boards", json={"name": name})
    assert (r.status_code, r.json()["detail"]) == (422, detail)


@pytest.mark.parametrize("body, detail", [
    ({"name": 5}, "body.name: Input should be a valid string"),
    ({"name": "ok", "colour": "red"}, "body.colour: Extra inputs are not permitted"),
    ({}, "body.name: Field required"),
])
def test_a_board_name_takes_strict_json_types(editor, body, detail):
    r = editor.post("/api/boards", json=body)
    assert (r.status_code, r.json()["detail"]) == (422, detail)


@pytest.mark.parametrize("ids, detail", [
    (["1"], "body.artworks.0: Input should be a valid integer"),
    ([True], "body.artworks.0: Input should be a valid integer"),
    ([1.0], "body.artworks.0: Input should be a valid integer"),
    ([0], "body.artworks.0: Input should be greater than or equal to 1"),
    ([2**63], "body.artworks.0: Input should be less than or equal to 9223372036854775807"),
    ([], "body.artworks: List should have at least 1 item after validation, not 0"),
    ("1,2", "body.artworks: Input should be a valid list"),
])
def test_artwork_ids_take_strict_json_types(editor, ids, detail):
    bid = board(editor, "Strict")["id"]
    r = add(editor, bid, ids)
    assert (r.status_code, r.json()["detail"]) == (422, detail)


def test_at_most_500_artworks_a_call(editor):
    bid = board(editor, "Big")["id"]
    r = add(editor, bid, list(range(1, 502)))
    assert (r.status_code, r.json()["detail"]) == (422, "body.artworks: List should have at most 500 items after "
                                                        "validation, not 501")


def test_the_board_filter_takes_an_id(editor):
    r = editor.get("/api/artworks?board=first")
    assert (r.status_code, r.json()["detail"]) == (422, "query.board: Input should be a valid integer, unable to "
                                                        "parse string as an integer")


def test_the_schema_keeps_a_board_name_trimmed_and_per_owner_unique(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    assert store.version() == len(MIGRATIONS)
    with store.tx() as c:
        c.execute("INSERT INTO users (username, role, created) VALUES ('u', 'editor', 'now')")
        c.execute("INSERT INTO boards (owner, name, created) VALUES (1, 'Dusk', 'now')")
    for name in (" Dusk", "DUSK", ""):
        with pytest.raises(sqlite3.IntegrityError), store.tx() as c:
            c.execute("INSERT INTO boards (owner, name, created) VALUES (1, ?, 'now')", (name,))
