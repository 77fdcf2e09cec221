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
