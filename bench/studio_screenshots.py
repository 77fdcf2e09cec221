"""Screenshots of every studio page, for the README and docs/studio.md.

Starts the studio on a free port with a fresh data dir, fills it the way an artist would (generate, breed
across two generations, tag, favourite, explore, a short training run on the built-in landscapes), and
photographs each page in headless Chromium (Debian's `chromium`, driven by Playwright).

    python bench/studio_screenshots.py                 # -> docs/images/studio/*.png
    python bench/studio_screenshots.py --out /tmp/shots --steps 300

Prints one JSON line per screenshot (path, bytes).
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import tempfile
import threading
import time
from pathlib import Path

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--hide-scrollbars"]


def serve(data_dir: Path):
    """uvicorn on 127.0.0.1 on a free port, in a thread; returns (base url, sign-in link, server, thread)."""
    import uvicorn

    from artforge.studio import StudioSettings, create_app, prepare

    settings = StudioSettings(data_dir=data_dir, argon2_time_cost=1, argon2_memory_kib=1024, train_threads=1,
                              job_events_interval_s=0.5)
    link = prepare(settings)
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return url, url + link[link.index("/signin"):], server, thread


def set_range(locator, value: float) -> None:
    """Moves a slider as a hand would (its input event fires)."""
    locator.evaluate("(e, v) => { e.value = v; e.dispatchEvent(new Event('input', {bubbles: true})); }", value)


def shoot(page, out: Path, name: str, notices: bool = False) -> None:
    if not notices:                               # earlier pages' notices would cover this one
        page.evaluate("document.querySelectorAll('.notice').forEach(n => n.remove())")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(400)
    path = out / f"{name}.png"
    page.screenshot(path=str(path))
    print(json.dumps({"screenshot": str(path), "bytes": path.stat().st_size}), flush=True)


def shoot_music(page, url: str, out: Path) -> None:
    """The Music page: two batches of melodies (the second steered by two attribute sliders), a morph between
    two of them, and two more picked for the next morph or breed."""
    page.goto(url + "/#/music")
    form = page.get_by_role("form", name="Sample melodies")
    form.get_by_label("Count", exact=True).fill("4")
    form.get_by_label("Seed", exact=True).fill("12")
    ids = []
    for steer in ({}, {"Density": 1.5, "Stepwise": -0.8}):
        for name, value in steer.items():
            set_range(form.get_by_label(name), value)
        with page.expect_response(lambda r: r.url.endswith("/api/music/sample")) as resp:
            form.get_by_role("button", name="Sample melodies").click()
        ids += [a["id"] for a in resp.value.json()["artworks"]]
    bar = page.get_by_role("region", name="Morph or breed the picked melodies")
    for pair, action in (((ids[0], ids[5]), "Morph"), ((ids[1], ids[2]), None)):
        for aid in pair:
            page.get_by_role("button", name=re.compile(rf"^Melody #{aid},")).click()
        if action:
            bar.get_by_label("Steps").fill("4")
            with page.expect_response(lambda r: r.url.endswith("/api/music/interpolate")) as resp:
                bar.get_by_role("button", name=action).click()
            assert resp.value.status == 201, resp.value.text()
    page.mouse.move(0, 0)
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, out, "music")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/images/studio")
    ap.add_argument("--steps", type=int, default=240, help="steps of the training run shown on Train/Models")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--only", choices=["music"], help="photograph only this page (seconds: no training run)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import expect, sync_playwright

    data = Path(tempfile.mkdtemp(prefix="artforge-shots-")) / "data"
    url, link, server, thread = serve(data)
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(tempfile.mkdtemp(), executable_path=args.chromium, headless=True,
                                                   args=CHROMIUM_ARGS, viewport={"width": 1440, "height": 900})
        ctx.set_default_timeout(60_000)
        page = ctx.new_page()
        page.goto(url)
        if not args.only:
            shoot(page, out, "signin")
        page.goto(link)
        expect(page.get_by_role("heading", name="Create", level=1)).to_be_visible()
        if args.only == "music":
            shoot_music(page, url, out)
            ctx.close()
            server.should_exit = True
            thread.join(120)
            return

        # Start the training run first: it trains while the rest is made.
        page.goto(url + "/#/train")
        form = page.get_by_role("form", name="Start training")
        form.get_by_label("Run name").fill("landscapes-32")
        form.get_by_label("The built-in landscapes").check()
        form.get_by_label("Steps").fill(str(args.steps))
        form.get_by_text("More settings").click()
        form.get_by_label("Training settings").fill("resolution = 32\npreset = tiny\nbatch_size = 8\nkid_every = 0")
        form.get_by_role("button", name="Start training").click()
        expect(page).to_have_url(re.compile(r"#/train/\d+$"))

        # Create: two batches, then breed two pictures twice (two generations for the lineage).
        page.goto(url + "/#/create")
        create = page.get_by_role("form", name="Create")
        ids = []
        for seed, n in ((40, 8), (7, 4)):
            create.get_by_label("Seed", exact=True).fill(str(seed))
            create.get_by_label("Count", exact=True).fill(str(n))
            set_range(create.get_by_label("Truncation"), 0.8)
            with page.expect_response(lambda r: r.url.endswith("/api/generate")) as resp:
                create.get_by_role("button", name="Generate").click()
            ids += [a["id"] for a in resp.value.json()["artworks"]]
        bar = page.get_by_role("region", name="Breed the selected pictures")
        kids = []
        for parents in ((ids[0], ids[3]), None):
            for aid in parents or (kids[0], ids[9]):
                page.get_by_role("button", name=re.compile(rf"^Artwork #{aid}\b")).first.click()
            bar.get_by_label("Count").fill("4")
            with page.expect_response(lambda r: r.url.endswith("/api/breed")) as resp:
                bar.get_by_role("button", name="Breed").click()
            assert resp.value.status == 201, resp.value.text()
            kids = [a["id"] for a in resp.value.json()["artworks"]]
        for aid in (kids[1], kids[2]):
            page.get_by_role("button", name=re.compile(rf"^Artwork #{aid}\b")).first.click()
        set_range(bar.get_by_label("Mutation strength"), 0.25)
        page.mouse.move(0, 0)
        shoot(page, out, "create")
        bar.get_by_role("button", name="Clear selection").click()

        page.goto(url + f"/#/lineage/{kids[1]}")
        expect(page.get_by_role("group", name=re.compile("Family tree"))).to_be_visible()
        shoot(page, out, "lineage")

        # Explore: move three sliders, then save.
        page.goto(url + "/#/explore?seed=41")
        for i, v in ((1, -1.5), (2, 1.6), (4, 1.1)):
            set_range(page.get_by_label(f"Direction {i}", exact=True), v)
            page.wait_for_timeout(300)
        page.wait_for_function("() => !document.querySelector('.stage').classList.contains('busy')")
        page.get_by_role("button", name="Save to gallery").click()
        expect(page.get_by_role("status").filter(has_text="Saved as artwork")).to_be_visible()
        shoot(page, out, "explore", notices=True)

        # Gallery: tag and favourite a few, then the grid and the viewer.
        for aid, tags in ((ids[1], ["dusk", "keeper"]), (ids[3], ["keeper"]), (kids[0], ["bred"])):
            page.goto(url + f"/#/gallery/{aid}")
            viewer = page.get_by_role("dialog", name=f"Artwork #{aid}")
            viewer.get_by_label("Add tag").fill(",".join(tags))
            viewer.get_by_role("button", name="Add").click()
            expect(viewer.get_by_role("button", name=f"Remove tag {tags[0]}")).to_be_visible()
            viewer.get_by_role("button", name="Favourite").click()
            expect(viewer.get_by_role("button", name="Favourite")).to_have_attribute("aria-pressed", "true")
            page.keyboard.press("Escape")
            expect(viewer).to_be_hidden()
        page.goto(url + "/#/gallery")
        expect(page.locator("#gallery-count")).to_contain_text("picture")
        shoot(page, out, "gallery")
        page.goto(url + f"/#/gallery/{ids[1]}")
        viewer = page.get_by_role("dialog", name=f"Artwork #{ids[1]}")
        viewer.get_by_text("Redact fields").click()
        viewer.get_by_text("Recipe", exact=True).click()
        shoot(page, out, "gallery-viewer")
        page.keyboard.press("Escape")

        # Train: the monitor while it runs, then Jobs and the finished model.
        page.goto(url + "/#/train")
        expect(page.get_by_role("img", name=re.compile(r"Losses chart, \d+ points"))).to_be_visible(timeout=180_000)
        page.wait_for_function("() => { const p = document.querySelector('progress[aria-label=\"Training progress\"]');"
                               " return p && p.value >= p.max * 0.45; }", timeout=600_000)
        expect(page.get_by_role("img", name="Latest samples of this run")).to_be_visible()
        shoot(page, out, "train")
        page.goto(url + "/#/create")                      # a long generation waits behind the run
        create.get_by_label("Count", exact=True).fill("200")
        create.get_by_role("button", name="Queue as a job").click()
        expect(page.get_by_role("status").filter(has_text="Queued job")).to_be_visible()
        page.goto(url + "/#/jobs")
        shoot(page, out, "jobs")
        page.goto(url + "/#/train")
        expect(page.locator("#train-state")).to_have_text("done", timeout=600_000)
        page.goto(url + "/#/models/landscapes-32")
        expect(page.get_by_role("img", name=re.compile("Latest samples of landscapes-32"))).to_be_visible()
        shoot(page, out, "models")

        # People: a few accounts and a token.
        page.goto(url + "/#/people")
        for name, role in (("mira", "editor"), ("jon", "viewer")):
            page.get_by_label("Username").fill(name)
            page.get_by_label("Password", exact=True).fill("a long password")
            page.get_by_label("Role", exact=True).select_option(role)
            page.get_by_role("button", name="Add", exact=True).click()
            expect(page.get_by_role("cell", name=name, exact=True)).to_be_visible()
        page.get_by_label("Token name").fill("sketchbook script")
        page.get_by_role("button", name="Create token").click()
        expect(page.locator("#token-value")).to_be_visible()
        shoot(page, out, "people")
        shoot_music(page, url, out)
        ctx.close()
    server.should_exit = True                     # lifespan end: the job queue and batcher stop cleanly
    thread.join(120)


if __name__ == "__main__":
    main()
