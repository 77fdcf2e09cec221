"""End to end in a real headless Chromium (Debian's `chromium`, driven by Playwright's Python package):
sign in with the first-start link, generate, breed, open the lineage, search the gallery, drag a latent
slider, start and watch a tiny training job, manage people. One uvicorn server on a free port serves the
whole module; every test signs in afresh with a new one-time link."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import shutil
import socket
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import pytest

from artforge.studio import StudioSettings, create_app, prepare
from conftest import PASSWORD, make_settings
from pictures import draw_art

CHROMIUM = os.environ.get("ARTFORGE_CHROMIUM", "/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium; "
                                                             ".ci/run installs it)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed (pip install -e '.[test]')")
expect = sync_api.expect
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# The smallest run that trains for real (16 px, tiny networks, 4 images a step, no KID), as "name = value" lines.
TINY = "resolution = 16\nbatch_size = 4\npreset = tiny\nkid_every = 0"


def picture(i: int):
    return draw_art(i, size=24)


class LiveStudio:
    """uvicorn serving create_app(settings) on 127.0.0.1, on a port the OS picked, in a thread."""

    def __init__(self, data_dir: Path):
        import uvicorn

        fields = {f.name for f in dataclasses.fields(StudioSettings)}
        jobs = {k: v for k, v in dict(train_threads=1, job_events_interval_s=0.2, job_stop_timeout_s=60).items()
                if k in fields}                              # a trainer thread beside the server; fast events
        self.settings = make_settings(data_dir, **jobs)
        folder = data_dir / "art"                            # a server-side folder to train on
        folder.mkdir(parents=True)
        for i in range(8):
            picture(i).save(folder / f"a{i}.png")
        self.first_link = prepare(self.settings)
        self.app = create_app(self.settings)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)    # a restart may bind this port again
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started and time.time() < deadline:
            time.sleep(0.05)
        assert self.server.started, "uvicorn did not start"

    def link(self) -> str:
        """A fresh one-time sign-in link for the owner (the first one is printed at first start)."""
        if self.first_link:
            link, self.first_link = self.first_link, None
        else:
            link = f"/signin?token={self.app.state.studio.accounts.signin_token(1)}"
        return self.url + link[link.index("/signin"):]

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.sock.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    s = LiveStudio(tmp_path_factory.mktemp("studio-browser") / "data")
    yield s
    s.close()


@pytest.fixture(scope="module")
def browser_context():
    profile = tempfile.mkdtemp(prefix="artforge-chromium-")
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                                                   viewport={"width": 1360, "height": 900}, accept_downloads=True)
        ctx.set_default_timeout(15_000)
        yield ctx
        ctx.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser_context, live):
    """A page signed in as the owner by a one-time link; fails the test on any JavaScript error."""
    browser_context.clear_cookies()
    pg = browser_context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load resource" not in m.text else None)
    pg.goto(live.link())
    expect(pg.get_by_role("heading", name="Create", level=1)).to_be_visible()
    yield pg
    pg.close()
    assert not errors, errors


def generate(pg, seed: int, count: int) -> list[int]:
    """Fills the Create form (built from the pipeline's declared params), generates (a job in the queue) and
    returns the new artwork ids once they are on the page."""
    pg.goto(pg.url.split("#")[0] + "#/create")
    form = pg.get_by_role("form", name="Create")
    form.get_by_label("Seed", exact=True).fill(str(seed))
    form.get_by_label("Count", exact=True).fill(str(count))
    with pg.expect_response(lambda r: r.url.endswith("/api/jobs") and r.request.method == "POST") as resp:
        form.get_by_role("button", name="Generate").click()
    assert resp.value.status == 201, resp.value.text()
    return queued_pictures(pg, resp.value.json()["id"], count)


def queued_pictures(pg, job: int, count: int) -> list[int]:
    """The artwork ids a Create page's generate job made, once its card on the page says it is done."""
    card = pg.locator(f"section[data-job='{job}']")
    expect(card).to_have_attribute("data-state", "done", timeout=60_000)
    expect(card.get_by_role("status")).to_have_text(f"{count} of {count} pictures · done")
    ids = [int(i) for i in card.locator("figure").evaluate_all("fs => fs.map(f => f.dataset.id)")]
    assert len(ids) == count, ids
    expect(pg.get_by_role("button", name=re.compile(rf"^Artwork #{ids[-1]},"))).to_be_visible()
    return ids


def test_first_start_link_signs_in_and_a_password_works_after(browser_context, live):
    browser_context.clear_cookies()
    pg = browser_context.new_page()
    pg.goto(live.link())                                       # the link printed at first start
    expect(pg.get_by_text("owner · owner")).to_be_visible()
    pg.get_by_role("link", name="People").click()
    pg.get_by_label("New password").fill(PASSWORD)
    pg.get_by_role("button", name="Set password").click()
    # A new password ends every session of the account, this one too: the page says so and asks again.
    expect(pg.get_by_role("status").filter(has_text="Password set. Sign in with it.")).to_be_visible()
    expect(pg.get_by_role("heading", name="Sign in")).to_be_visible()
    pg.get_by_label("Username").fill("owner")
    pg.get_by_label("Password").fill("not the password")
    pg.get_by_role("button", name="Sign in").click()
    expect(pg.get_by_role("alert")).to_have_text("wrong username or password")      # the server's message
    pg.get_by_label("Password").fill(PASSWORD)
    pg.get_by_role("button", name="Sign in").click()
    expect(pg.get_by_role("heading", name="People", level=1)).to_be_visible()     # back where they were
    pg.close()


def test_generate_breed_and_follow_the_lineage(page):
    a, b = generate(page, seed=11, count=2)
    page.get_by_role("button", name=re.compile(rf"^Artwork #{a},")).click()
    page.get_by_role("button", name=re.compile(rf"^Artwork #{b},")).click()
    bar = page.get_by_role("region", name="Breed the selected pictures")
    expect(bar.get_by_text("2 selected")).to_be_visible()
    bar.get_by_label("Count").fill("2")
    strength = bar.get_by_label("Mutation strength")
    strength.focus()
    for _ in range(20):
        strength.press("ArrowRight")                           # keyboard on the slider: 0.10 -> 0.30
    expect(bar.locator("output")).to_have_text("0.30")
    with page.expect_response(lambda r: r.url.endswith("/api/breed")) as resp:
        bar.get_by_role("button", name="Breed").click()
    kids = resp.value.json()["artworks"]
    assert resp.value.status == 201 and len(kids) == 2
    assert kids[0]["recipe"]["params"]["mutation"] == pytest.approx(0.3)
    expect(page.get_by_role("heading", name=re.compile(rf"children of #{a} × #{b}"))).to_be_visible()
    page.get_by_role("link", name=f"Lineage of artwork #{kids[0]['id']}").first.click()
    tree = page.get_by_role("group", name=re.compile(rf"Family tree of artwork #{kids[0]['id']}: 2 parent"))
    expect(tree).to_be_visible()
    expect(tree.get_by_role("link", name=re.compile(rf"^Artwork #{a},"))).to_be_visible()
    tree.get_by_role("link", name=re.compile(rf"^Artwork #{a},")).click()          # re-centre on a parent
    expect(page.get_by_role("group", name=re.compile(rf"Family tree of artwork #{a}: 0 parent\(s\), 2 child"))).to_be_visible()


def test_gallery_search_tags_favourite_download_and_delete(page, tmp_path):
    ids = generate(page, seed=4242, count=2)
    page.keyboard.press("4")                                  # the keyboard: 4 is the Gallery, / its search box
    expect(page.get_by_role("heading", name="Gallery", level=1)).to_be_visible()
    filters = page.get_by_role("search", name="Search the gallery")
    page.keyboard.press("/")
    expect(filters.get_by_label("Search")).to_be_focused()
    filters.get_by_label("Seed").fill("4242")
    expect(page.locator("#gallery-count")).to_have_text("1 picture matches")
    filters.get_by_label("Seed").fill("")
    filters.get_by_label("Search").fill("4243")                   # text anywhere in the recipe
    expect(page.get_by_role("button", name=re.compile(rf"^Artwork #{ids[1]},"))).to_be_visible()
    page.get_by_role("button", name=re.compile(rf"^Artwork #{ids[1]},")).click()
    viewer = page.get_by_role("dialog", name=f"Artwork #{ids[1]}")
    expect(viewer).to_be_visible()
    viewer.get_by_label("Add tag").fill("dusk")
    viewer.get_by_role("button", name="Add").click()
    expect(viewer.get_by_role("button", name="Remove tag dusk")).to_be_visible()
    viewer.get_by_role("button", name="Favourite").click()
    expect(viewer.get_by_role("button", name="Favourite")).to_have_attribute("aria-pressed", "true")
    # Download with two recipe fields redacted: the file's recipe lacks them and says so.
    viewer.get_by_text("Redact fields").click()
    viewer.get_by_role("group", name="Fields to redact").get_by_label("params.seed").check()
    with page.expect_download() as dl:
        viewer.get_by_role("button", name="Download PNG").click()
    saved = tmp_path / "redacted.png"
    dl.value.save_as(saved)
    from artforge.provenance import read_recipe
    recipe = read_recipe(saved)
    assert "seed" not in recipe["params"] and "created" not in recipe and set(recipe["redacted"]) >= {"params.seed", "created"}
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    # Filter by the tag and by favourites; then delete with confirmation.
    filters.get_by_label("Search").fill("")
    filters.get_by_label("Tag").fill("dusk")
    filters.get_by_label("Favourites only").check()
    expect(page.locator("#gallery-count")).to_have_text("1 picture matches")
    page.get_by_role("button", name=re.compile(rf"^Artwork #{ids[1]},")).click()
    page.get_by_role("dialog", name=f"Artwork #{ids[1]}").get_by_role("button", name="Delete…").click()
    confirm = page.get_by_role("dialog", name="Delete this picture?")
    confirm.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog", name=f"Artwork #{ids[1]}")).to_be_visible()
    page.get_by_role("dialog", name=f"Artwork #{ids[1]}").get_by_role("button", name="Delete…").click()
    confirm.get_by_role("button", name="Delete").click()
    expect(page.locator("#gallery-count")).to_have_text("0 pictures match")


def test_people_roles_tokens_and_server_errors_shown(page):
    page.get_by_role("link", name="People").click()
    page.get_by_label("Username").fill("owner")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="'owner' is taken")).to_be_visible()   # the server's message
    page.get_by_label("Username").fill("vera")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("cell", name="vera", exact=True)).to_be_visible()
    page.get_by_label("Role of vera").select_option("viewer")
    expect(page.get_by_role("status").filter(has_text="vera is now viewer")).to_be_visible()
    page.get_by_label("Token name").fill("my script")
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#token-value").inner_text()
    assert token.startswith("af_")
    page.get_by_role("button", name="Delete token my script").click()
    page.get_by_role("dialog", name="Delete this token?").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("button", name="Delete token my script")).to_have_count(0)
    # vera signs in: a viewer sees the studio but cannot generate.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill("vera")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("vera · viewer")).to_be_visible()
    expect(page.get_by_role("button", name="Generate")).to_be_disabled()


def test_explore_drag_a_latent_slider_with_live_preview_and_save(page, live):
    inflight, most, sent = [0], [0], []

    def started(r):
        if r.url.endswith("/api/explore"):
            inflight[0] += 1
            most[0] = max(most[0], inflight[0])
            sent.append(json.loads(r.post_data)["offsets"][0])

    def ended(r):
        if r.url.endswith("/api/explore"):
            inflight[0] -= 1

    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)
    page.get_by_role("link", name="Explore").click()
    slider = page.get_by_label("Direction 1", exact=True)
    expect(slider).to_be_visible(timeout=60_000)              # the directions are computed on first use
    preview = page.locator("#explore-preview")
    expect(preview).to_have_attribute("src", re.compile("^blob:"))
    first = preview.get_attribute("src")
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    for i in range(1, 21):                                    # drag right, in 20 small moves
        page.mouse.move(box["x"] + box["width"] / 2 + i * box["width"] * 0.4 / 20, y)
        page.wait_for_timeout(15)
    page.mouse.up()
    value = float(slider.input_value())
    assert value > 1.5
    expect(preview).not_to_have_attribute("src", first)
    page.wait_for_function("() => !document.querySelector('.stage').classList.contains('busy')")
    page.wait_for_timeout(300)
    # Live, but never a queue: one request at a time, and the last one asked for where the slider stopped.
    assert most[0] == 1 and 2 <= len(sent) <= 21 and sent[-1] == pytest.approx(value), (most, sent)
    with page.expect_response(lambda r: r.url.endswith("/api/explore/save")) as resp:
        page.get_by_role("button", name="Save to gallery").click()
    art = resp.value.json()
    expect(page.get_by_role("status").filter(has_text=f"Saved as artwork #{art['id']}")).to_be_visible()
    assert art["pipeline"] == "explore" and art["recipe"]["params"]["offsets"][0] == pytest.approx(value)


def test_a_long_generation_goes_through_the_job_queue(page, live):
    form = page.get_by_role("form", name="Create")
    form.get_by_label("Seed", exact=True).fill("900")
    form.get_by_label("Count", exact=True).fill("40")
    form.get_by_role("button", name="Generate").click()
    card = page.get_by_role("region", name=re.compile(r"^generate · starter · seed 900"))
    expect(card.get_by_role("status")).to_have_text("40 of 40 pictures · done", timeout=60_000)
    card.get_by_role("link", name="Jobs page").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="40 pictures from starter"))
    expect(row.get_by_text("done")).to_be_visible(timeout=60_000)
    expect(row.get_by_text("40 / 40")).to_be_visible()
    row.get_by_role("link", name="40 pictures from starter").click()
    filters = page.get_by_role("search", name="Search the gallery")
    expect(filters.get_by_label("Model")).to_have_value("starter")
    filters.get_by_label("Seed").fill("939")                # the last of the 40 (seed 900 + 39)
    expect(page.locator("#gallery-count")).to_have_text("1 picture matches")


def _zip_of_pictures(n: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(n):
            png = io.BytesIO()
            picture(100 + i).save(png, format="PNG")
            z.writestr(f"pics/p{i}.png", png.getvalue())
    return buf.getvalue()


def test_train_from_an_uploaded_zip_watch_it_then_pause_resume_cancel_another(page, live, tmp_path):
    page.get_by_role("link", name="Train").click()
    form = page.get_by_role("form", name="Start training")
    form.get_by_label("Run name").fill("tiny-browser")
    form.get_by_label("A zip of images from this computer").check()
    zip_path = tmp_path / "pics.zip"
    zip_path.write_bytes(_zip_of_pictures(8))
    form.get_by_label("Zip of images", exact=True).set_input_files(str(zip_path))
    form.get_by_label("Steps").fill("12")
    form.get_by_text("More settings").click()
    form.get_by_label("Training settings").fill(TINY)
    form.get_by_role("button", name="Start training").click()
    expect(page.get_by_role("status").filter(has_text="8 images found")).to_be_visible()
    expect(page).to_have_url(re.compile(r"#/train/\d+$"))
    # Watch it: the state, the losses chart from the event stream, the sample grid, then what to do next.
    expect(page.locator("#train-state")).to_have_text("done", timeout=90_000)
    expect(page.get_by_role("img", name=re.compile(r"Losses chart, \d+ points up to step 1[12]"))).to_be_visible()
    expect(page.get_by_role("img", name="Latest samples of this run")).to_be_visible()
    expect(page.get_by_role("progressbar", name="Training progress")).to_have_attribute("value", "12")
    page.get_by_role("link", name="Create with it").click()
    expect(page.get_by_label("Model")).to_have_value("tiny-browser")
    # A long run from a folder on the server: pause, resume and cancel it from the Jobs page and the monitor.
    page.get_by_role("link", name="Train").click()
    form.get_by_label("Run name").fill("long-browser")
    form.get_by_label("A folder on the server").check()
    form.get_by_label("Folder on the server", exact=True).fill("art")
    form.get_by_label("Steps").fill("100000")
    form.get_by_role("button", name="Start training").click()
    expect(page.locator("#train-state")).to_have_text("running", timeout=60_000)
    page.get_by_role("link", name="Jobs").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="long-browser"))
    expect(row.get_by_text("running")).to_be_visible()
    row.get_by_role("button", name="Pause job long-browser").click()
    expect(row.get_by_text("paused")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("row").filter(has=page.get_by_role("link", name="tiny-browser")).get_by_text("done")).to_be_visible()
    row.get_by_role("link", name="long-browser").click()
    page.get_by_role("button", name="Resume job long-browser").click()
    expect(page.locator("#train-state")).to_have_text(re.compile("queued|running"))
    page.get_by_role("button", name="Cancel job long-browser").click()
    expect(page.locator("#train-state")).to_have_text("cancelled", timeout=60_000)
    # A finished job leaves the Jobs list with Remove (its run folder stays).
    page.get_by_role("link", name="Jobs").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="long-browser"))
    row.get_by_role("button", name="Remove job long-browser from the list").click()
    expect(page.get_by_role("row").filter(has=page.get_by_role("link", name="long-browser"))).to_have_count(0)
    expect(page.get_by_role("row").filter(has=page.get_by_role("link", name="tiny-browser"))).to_have_count(1)
