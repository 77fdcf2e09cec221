"""The front end's use of the server's newer fields, in a real headless Chromium at 1280x800 against a real
studio on 127.0.0.1 (the module-wide server and browser of test_browser.py): content-keyed image addresses,
the copy check a model cannot do, what a zip upload skipped, an uploaded file's claimed recipe, token expiry
and keeping tokens over a new password, and a slow sign-in that says it is checking."""

from __future__ import annotations

import io
import os
import re
import shutil
import zipfile

import pytest
from conftest import PASSWORD
from test_browser import browser_context, generate, live, page, picture, sync_api  # noqa: F401

expect = sync_api.expect
WIDE, HIGH = 1280, 800
SHOTS = os.environ.get("ARTFORGE_SHOTS")          # a folder: each test leaves a screenshot of its view there


@pytest.fixture
def ui(page):  # noqa: F811
    page.set_viewport_size({"width": WIDE, "height": HIGH})
    return page


def shot(pg, name: str) -> None:
    if SHOTS:
        pg.screenshot(path=os.path.join(SHOTS, f"{name}.png"))


def open_page(pg, name: str) -> None:
    pg.goto(pg.url.split("#")[0] + f"#/{name}")
    expect(pg.locator(f"#{name.split('/')[0].split('?')[0]}-title")).to_be_visible()


def api_json(pg, method: str, path: str, **kw):
    """A call to the studio's API as the signed-in page (its cookie and CSRF header)."""
    csrf = next(c["value"] for c in pg.context.cookies() if c["name"] == "artforge_csrf")
    r = pg.request.fetch(pg.url.split("#")[0].rstrip("/") + path, method=method, headers={"X-CSRF-Token": csrf}, **kw)
    assert r.ok, r.text()
    return r.json()


def test_gallery_images_use_the_content_keyed_address(ui):
    ids = generate(ui, seed=5150, count=2)
    open_page(ui, "gallery")
    for aid in ids:
        art = api_json(ui, "GET", f"/api/artworks/{aid}")
        img = ui.locator(f"#gallery-grid figure[data-id='{aid}'] img")
        expect(img).to_have_attribute("src", f"/api/artworks/{aid}/image?v={art['sha256']}")
    ui.goto(ui.url.split("#")[0] + f"#/gallery/{ids[0]}")
    viewer = ui.get_by_role("dialog", name=f"Artwork #{ids[0]}")
    sha = api_json(ui, "GET", f"/api/artworks/{ids[0]}")["sha256"]
    expect(viewer.get_by_role("img", name=f"Artwork #{ids[0]}")).to_have_attribute("src", f"/api/artworks/{ids[0]}/image?v={sha}")
    shot(ui, "1-gallery-viewer")


@pytest.fixture
def no_index_run(live):  # noqa: F811
    """A run folder that has weights but no copy-check index (the starter's files, less train_index)."""
    from artforge.models.pretrained import starter_dir

    run = live.settings.runs_dir / "no-index"
    if not run.exists():
        run.mkdir(parents=True)
        for f in ("model.safetensors", "config.json"):
            shutil.copy(starter_dir() / f, run / f)
    return run.name


def create_form(pg):
    pg.reload()                                   # the model list is read once a visit
    open_page(pg, "create")
    return pg.get_by_role("form", name="Create")


def test_no_copies_is_off_with_the_reason_for_a_model_without_an_index(ui, no_index_run):
    form = create_form(ui)
    form.get_by_label("Model", exact=True).select_option(no_index_run)
    box = form.get_by_label("No copies", exact=True)
    expect(box).not_to_be_checked()
    expect(box).to_be_disabled()
    note = (f"model '{no_index_run}' has no copy-check index (its run was trained without one): its images cannot "
            "be compared with its training images, so 'No copies' is not available for it")
    expect(form.locator("#create-no_copies-note")).to_have_text(note)
    expect(box).to_have_accessible_description(re.compile(re.escape(note)))
    shot(ui, "2-create-no-index")
    with ui.expect_response(lambda r: r.url.endswith("/api/jobs") and r.request.method == "POST") as resp:
        form.get_by_role("button", name="Generate").click()
    assert resp.value.status == 201 and resp.value.request.post_data_json["params"]["no_copies"] is False


def test_no_copies_stays_ticked_for_a_model_with_an_index(ui, no_index_run):
    form = create_form(ui)
    form.get_by_label("Model", exact=True).select_option(no_index_run)
    form.get_by_label("Model", exact=True).select_option("starter")
    box = form.get_by_label("No copies", exact=True)
    expect(box).to_be_checked()
    expect(box).to_be_enabled()
    expect(form.locator("#create-no_copies-note")).to_have_count(0)


def _zip_with_junk() -> bytes:
    """Three good pictures, a hidden one and a text file."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(3):
            png = io.BytesIO()
            picture(i).save(png, format="PNG")
            z.writestr(f"art/p{i}.png", png.getvalue())
        hidden = io.BytesIO()
        picture(9).save(hidden, format="PNG")
        z.writestr("art/.hidden.png", hidden.getvalue())
        z.writestr("art/notes.txt", "not a picture")
    return buf.getvalue()


def test_a_zip_upload_says_what_it_skipped_and_why(ui, tmp_path):
    open_page(ui, "train")
    form = ui.get_by_role("form", name="Start training")
    form.get_by_label("Run name").fill("zip-report")
    form.get_by_label("A zip of images from this computer").check()
    zip_path = tmp_path / "pics.zip"
    zip_path.write_bytes(_zip_with_junk())
    form.get_by_label("Zip of images", exact=True).set_input_files(str(zip_path))
    form.get_by_text("More settings").click()
    form.get_by_label("Training settings").fill("no_such_setting = 1")    # the job is refused: nothing trains
    with ui.expect_response(lambda r: r.url.endswith("/api/uploads")) as resp:
        form.get_by_role("button", name="Start training").click()
    up = resp.value.json()
    assert (up["images"], up["skipped_count"]) == (3, 2), up
    report = form.locator("#train-zip-report")
    expect(report.get_by_text("3 images found, 2 files skipped", exact=True)).to_be_visible()
    skipped = report.get_by_role("list", name="Skipped files")
    expect(skipped).to_be_hidden()                      # closed until asked for
    report.get_by_text("Skipped files").click()
    by_path = {s["path"]: s["reason"] for s in up["skipped"]}
    assert by_path == {"art/.hidden.png": "hidden file", "art/notes.txt": "not an image file"}, by_path
    expect(skipped.get_by_role("listitem")).to_have_text([f"{s['path']} — {s['reason']}" for s in up["skipped"]])
    shot(ui, "3-train-zip-report")


def test_an_uploaded_pictures_recipe_is_shown_as_claimed_not_as_its_own(ui):
    made, = generate(ui, seed=8080, count=1)
    png = ui.request.get(ui.url.split("#")[0].rstrip("/") + f"/api/artworks/{made}/download?recipe=keep").body()
    open_page(ui, "gallery")
    with ui.expect_response(lambda r: r.url.endswith("/api/artworks/upload")) as resp:
        ui.locator("#gallery-upload").set_input_files({"name": "from-a-friend.png", "mimeType": "image/png", "buffer": png})
    up = resp.value.json()
    assert up["recipe"]["verified"] is False and up["recipe"]["claimed"]["params"]["seed"] == 8080
    ui.goto(ui.url.split("#")[0] + f"#/gallery/{up['id']}")
    viewer = ui.get_by_role("dialog", name=f"Artwork #{up['id']}")
    facts = viewer.locator("dl.facts").first
    expect(facts.locator("dt")).to_have_text(["Author", "Made", "Model", "Pipeline"])    # no seed of its own
    expect(facts.locator("dd").nth(2)).to_have_text("upload")
    claim = viewer.get_by_role("region", name="Recipe claimed by the file, not verified")
    expect(claim.locator("dt")).to_have_text(["Claimed model", "Claimed pipeline", "Claimed seed", "Claimed licence"])
    expect(claim.locator("dd")).to_have_text(["starter", "generate", "8080",
                                              up["recipe"]["claimed"]["dataset"]["licence"]])
    own = viewer.locator("details:not(.claimed details) > pre.recipe").first
    viewer.get_by_text("Recipe", exact=True).click()
    assert "claimed" not in own.inner_text() and '"verified": false' in own.inner_text()
    shot(ui, "4-gallery-claimed-recipe")


def tokens_box(pg):
    open_page(pg, "people")
    return pg.get_by_role("form", name="New API token")


def make_token(pg, name: str, days: str = "") -> dict:
    form = tokens_box(pg)
    form.get_by_label("Token name").fill(name)
    form.get_by_label("Expires in (days)").fill(days)
    with pg.expect_response(lambda r: r.url.endswith("/api/tokens") and r.request.method == "POST") as resp:
        form.get_by_role("button", name="Create token").click()
    assert resp.value.status in (200, 201), resp.value.text()
    expect(pg.locator("#token-value")).to_have_text(resp.value.json()["token"])
    return resp.value.json()


def test_a_token_can_expire_and_the_list_says_when(ui):
    t = make_token(ui, "nightly", days="7")
    forever = make_token(ui, "forever")
    table = ui.get_by_role("table", name="Your API tokens")
    assert t["expires"] is not None and forever["expires"] is None
    expect(table.get_by_role("row").filter(has_text="nightly").get_by_role("cell").nth(3)).to_have_text(
        t['expires'][:10])
    expect(table.get_by_role("row").filter(has_text="forever").get_by_role("cell").nth(3)).to_have_text("never")
    shot(ui, "5-people-tokens")


def _set_password(pg, keep: bool):
    open_page(pg, "people")
    form = pg.get_by_role("form", name="Change your password")
    expect(form.get_by_label("New password")).to_have_accessible_description(
        "A new password signs you out everywhere and stops your API tokens working, unless you keep them.")
    has_password = next(u for u in api_json(pg, "GET", "/api/users") if u["username"] == "owner")["has_password"]
    if has_password:                           # an earlier test set it
        form.get_by_label(re.compile("^Current password")).fill(PASSWORD)
    form.get_by_label("New password").fill(PASSWORD)
    if keep:
        form.get_by_label("Keep my API tokens").check()
    with pg.expect_response(lambda r: r.url.endswith("/api/me/password")) as resp:
        form.get_by_role("button", name="Set password").click()
    assert resp.value.status in (200, 204), resp.value.text()
    expect(pg.get_by_role("heading", name="Sign in")).to_be_visible()
    return resp.value.request.post_data_json


def _token_works(pg, token: str) -> bool:
    r = pg.request.get(pg.url.split("#")[0].rstrip("/") + "/api/me", headers={"Authorization": f"Bearer {token}"})
    return r.status == 200


def test_a_new_password_with_keep_my_api_tokens_keeps_them(ui):
    t = make_token(ui, "kept")
    sent = _set_password(ui, keep=True)
    assert sent["keep_tokens"] is True
    assert _token_works(ui, t["token"])


def test_a_new_password_signs_out_the_api_tokens(ui):
    t = make_token(ui, "revoked")
    sent = _set_password(ui, keep=False)
    assert "keep_tokens" not in sent
    assert not _token_works(ui, t["token"])


def test_sign_in_says_checking_while_the_studio_takes_its_time(ui):
    api_json(ui, "POST", "/api/users", data={"username": "slowpoke", "password": PASSWORD, "role": "viewer"})
    held = []
    ui.context.clear_cookies()
    ui.route("**/api/login", lambda route: held.append(route))      # the answer waits until the test lets it go
    ui.goto(ui.url.split("#")[0])
    expect(ui.get_by_role("heading", name="Sign in")).to_be_visible()
    ui.get_by_label("Username").fill("slowpoke")
    ui.get_by_label("Password").fill(PASSWORD)
    ui.get_by_role("button", name="Sign in").click()
    button = ui.locator(".signin button[type=submit]")
    expect(button).to_have_text("Checking…")
    expect(button).to_be_disabled()
    shot(ui, "6-signin-checking")
    ui.get_by_label("Password").press("Enter")                     # submitting again while it waits sends nothing
    expect(button).to_have_text("Checking…")
    assert len(held) == 1
    held[0].continue_()
    expect(ui.get_by_text("slowpoke · viewer")).to_be_visible()
    ui.unroute("**/api/login")
