"""The Train form in a real headless Chromium (test_browser.py's server and browser): the family choice,
and the settings form built from GET /api/train/settings, which changes with the family."""

from __future__ import annotations

from test_browser import browser_context, live, page, sync_api  # noqa: F401

expect = sync_api.expect


def test_picking_a_family_shows_its_own_settings(page):  # noqa: F811
    page.get_by_role("link", name="Train").click()
    form = page.get_by_role("form", name="Start training")
    family = form.get_by_label("Model family")
    expect(family.locator("option")).to_have_text(["gan", "music", "style"])
    form.get_by_text("More settings").click()
    fields = form.get_by_role("group", name="Settings of this family")
    expect(fields.get_by_label("model.preset", exact=True)).to_have_attribute("placeholder", "tiny")
    expect(fields.get_by_label("data.resolution", exact=True)).to_have_attribute("max", "1024")
    expect(fields.get_by_label("data.bars", exact=True)).to_have_count(0)
    family.select_option("music")
    expect(fields.get_by_label("data.bars", exact=True)).to_have_attribute("placeholder", "2")
    expect(fields.get_by_label("vae.lr", exact=True)).to_have_attribute("max", "1")
    expect(fields.get_by_label("model.preset", exact=True)).to_have_count(0)
    expect(form.get_by_label("The built-in folk tunes (to try things out)")).to_be_visible()
    family.select_option("style")
    expect(fields.get_by_label("style.style_weight", exact=True)).to_have_attribute("placeholder", "5")
    expect(fields.get_by_label("data.bars", exact=True)).to_have_count(0)
    expect(form.get_by_label("The built-in paintings (to try things out)")).to_be_visible()


def test_a_setting_filled_in_the_form_goes_to_the_server_typed_for_the_family(page):  # noqa: F811
    page.get_by_role("link", name="Train").click()
    form = page.get_by_role("form", name="Start training")
    form.get_by_label("Model family").select_option("music")
    form.get_by_label("Run name").fill("tunes")
    form.get_by_label("The built-in folk tunes (to try things out)").check()
    form.get_by_text("More settings").click()
    form.get_by_role("group", name="Settings of this family").get_by_label("data.bars", exact=True).fill("4")
    with page.expect_request(lambda r: r.url.endswith("/api/jobs") and r.method == "POST") as sent:
        form.get_by_role("button", name="Start training").click()
    body = sent.value.post_data_json
    assert (body["family"], body["data"], body["params"]) == ("music", "builtin", {"data.bars": 4})
    # Refused before anything trains, in the words of the music trainer's own check.
    expect(form.get_by_role("alert")).to_have_text("data.bars must be 2 or 16, got 4")
