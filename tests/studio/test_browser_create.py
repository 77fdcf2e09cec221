"""The Create page in a real headless Chromium (the fixtures of test_browser.py): Generate goes through the job
queue with its progress on the page and a Cancel that keeps the pictures made so far; Morph two selected
pictures; interpolate and the two style pipelines from the menu. With ARTFORGE_SHOTS=DIR each test leaves a
screenshot there."""

from __future__ import annotations

import os
import re

from style_runs import make_run
from test_browser import browser_context, generate, live, page, sync_api  # noqa: F401

expect = sync_api.expect
SHOTS = os.environ.get("ARTFORGE_SHOTS")


def shot(pg, name: str) -> None:
    if SHOTS:                               # every picture drawn first (tiles load lazily)
        pg.evaluate("document.querySelectorAll('img').forEach(i => { i.loading = 'eager'; })")
        for img in pg.locator("img").all():
            expect(img).to_have_js_property("complete", True)
        pg.evaluate("window.scrollTo(0, 0)")
        pg.screenshot(path=os.path.join(SHOTS, f"{name}.png"))


def create_form(pg):
    pg.goto(pg.url.split("#")[0] + "#/create")
    form = pg.get_by_role("form", name="Create")
    expect(form.get_by_label("Model", exact=True)).not_to_have_value("")
    return form


def pick(pg, pipeline: str):
    form = create_form(pg)
    form.get_by_label("Pipeline").select_option(pipeline)
    expect(form.get_by_role("button", name="Make")).to_be_visible()
    return form


def test_generate_shows_its_progress_and_cancel_keeps_the_pictures_made(page, live):  # noqa: F811
    form = create_form(page)
    form.get_by_label("Seed", exact=True).fill("7000")
    form.get_by_label("Count", exact=True).fill("4096")
    form.get_by_label("No copies", exact=True).uncheck()
    with page.expect_response(lambda r: r.url.endswith("/api/jobs") and r.request.method == "POST") as resp:
        form.get_by_role("button", name="Generate").click()
    job = resp.value.json()["id"]
    card = page.get_by_role("region", name="generate · starter · seed 7000 · truncation 1")
    status = card.get_by_role("status")
    expect(status).to_have_text(re.compile(r"^[1-9]\d* of 4096 pictures · making$"), timeout=60_000)
    expect(card.locator("figure").first).to_be_visible()
    shot(page, "create-queue")
    card.get_by_role("button", name="Cancel").click()
    expect(card).to_have_attribute("data-state", "cancelled", timeout=60_000)
    made = page.request.get(live.url + f"/api/jobs/{job}").json()
    kept = made["step"]
    assert made["state"] == "cancelled" and 0 < kept < 256 and kept % 32 == 0, made
    expect(status).to_have_text(f"{kept} of 4096 pictures · cancelled")
    expect(card.get_by_role("button", name="Cancel")).to_be_hidden()
    ids = card.locator("figure").evaluate_all("fs => fs.map(f => Number(f.dataset.id))")
    assert ids == sorted(made["artworks"]) and len(ids) == kept
    seeds = [page.request.get(live.url + f"/api/artworks/{i}").json()["seed"] for i in (ids[0], ids[-1])]
    assert seeds == [7000, 7000 + kept - 1]                     # every picture made so far, in order


def test_morph_between_two_selected_pictures(page, live):  # noqa: F811
    a, b = generate(page, seed=7100, count=2)
    page.get_by_role("button", name=re.compile(rf"^Artwork #{a},")).click()
    page.get_by_role("button", name=re.compile(rf"^Artwork #{b},")).click()
    bar = page.get_by_role("region", name="Breed the selected pictures")
    with page.expect_response(lambda r: r.url.endswith("/api/interpolate")) as resp:
        bar.get_by_role("button", name="Morph").click()
    assert resp.value.status == 201, resp.value.text()
    frames = resp.value.json()["artworks"]
    assert len(frames) == 8 and frames[0]["recipe"]["parents"][1]["artwork"] == b
    batch = page.get_by_role("region", name=f"morph from #{a} to #{b}")
    expect(batch.locator("figure")).to_have_count(8)
    shot(page, "create-morph")


def test_interpolate_from_the_menu_through_seeds(page):  # noqa: F811
    form = pick(page, "interpolate")
    form.get_by_label("Seeds").fill("3,4")
    form.get_by_label("Frames").fill("3")
    with page.expect_response(lambda r: r.url.endswith("/api/interpolate")) as resp:
        form.get_by_role("button", name="Make").click()
    assert resp.value.status == 201, resp.value.text()
    assert [f["recipe"]["params"]["seeds"] for f in resp.value.json()["artworks"]] == [[3, 4]] * 3
    expect(page.get_by_role("region", name=re.compile(r"^interpolate · starter")).locator("figure")).to_have_count(3)


def test_stylize_arbitrary_takes_the_selected_pictures(page):  # noqa: F811
    a, b = generate(page, seed=7200, count=2)
    page.get_by_role("button", name=re.compile(rf"^Artwork #{a},")).click()
    page.get_by_role("button", name=re.compile(rf"^Artwork #{b},")).click()
    form = page.get_by_role("form", name="Create")
    form.get_by_label("Pipeline").select_option("stylize.arbitrary")
    expect(form.get_by_label("Content picture (#)")).to_have_value(str(a))
    expect(form.get_by_label("Style pictures (#)")).to_have_value(str(b))
    expect(form.get_by_label("Model", exact=True)).to_have_value("starter:style-arbitrary")
    form.get_by_label("Size").fill("128")
    with page.expect_response(lambda r: r.url.endswith("/api/stylize/arbitrary")) as resp:
        form.get_by_role("button", name="Make").click()
    assert resp.value.status == 201, resp.value.text()
    (art,) = resp.value.json()["artworks"]
    assert [p["artwork"] for p in art["recipe"]["parents"]] == [a, b]
    batch = page.get_by_role("region", name=re.compile(rf"^stylize\.arbitrary · starter:style-arbitrary · #{a} in the "
                                                       rf"style of #{b}"))
    expect(batch.locator(f"figure[data-id='{art['id']}'] img")).to_have_js_property("naturalWidth", 128)
    shot(page, "create-style")


def test_stylize_fast_with_a_trained_style(page, live):  # noqa: F811
    if not (live.settings.runs_dir / "ink-browser").exists():
        make_run(live.settings.runs_dir / "ink-browser", "transform-net")
    (a,) = generate(page, seed=7300, count=1)
    page.reload()
    form = pick(page, "stylize.fast")
    form.get_by_label("Model", exact=True).select_option("ink-browser")
    form.get_by_label("Content picture (#)").fill(str(a))
    with page.expect_response(lambda r: r.url.endswith("/api/stylize/fast")) as resp:
        form.get_by_role("button", name="Make").click()
    assert resp.value.status == 201, resp.value.text()
    (art,) = resp.value.json()["artworks"]
    assert art["model"] == "ink-browser" and art["recipe"]["parents"][0]["artwork"] == a
    expect(page.locator(f"figure[data-id='{art['id']}']")).to_be_visible()
