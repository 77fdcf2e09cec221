"""stylize.optimize on tiny images: it lowers its loss, keeps sizes, blends styles, preserves colour, replays."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from artforge.errors import RecipeError, UserError
from artforge.features.taps import FeatureTaps
from artforge.pipelines import PIPELINES
from artforge.pipelines.color import match_color, rgb_to_ycbcr, with_chroma, ycbcr_to_rgb
from artforge.pipelines.replay import replay
from artforge.pipelines.stylize import (MIN_STYLE_PX, PRESETS, StylizeError, StylizePipeline, feature_net_handle,
                                        iterations_at, parse_style_weights, read_input, resize_long, scales, stylize)
from artforge.provenance import read_recipe
from artforge.provenance.write import save_image

FAST = dict(size=48, iterations=4)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def handle():
    return feature_net_handle()


def stripes(path, size=(64, 64), colours=((200, 40, 40), (30, 60, 200)), width=6):
    img = Image.new("RGB", size, colours[0])
    d = ImageDraw.Draw(img)
    for x in range(0, size[0] * 2, 2 * width):
        d.line([(x, 0), (x - size[1], size[1])], fill=colours[1], width=width)
    img.save(path)
    return path


@pytest.fixture
def images(tmp_path):
    """A soft-coloured 'photo' (60×40) and two style images, all real files."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:40, 0:60]
    photo = np.stack([0.45 + 0.15 * np.sin(xx / 9), 0.5 + 0.1 * np.cos(yy / 7), 0.5 + 0.1 * np.sin((xx + yy) / 11)], -1)
    photo = (photo + rng.normal(0, 0.02, photo.shape)).clip(0, 1)
    Image.fromarray((photo * 255).round().astype(np.uint8)).save(tmp_path / "photo.png")
    return {"content": tmp_path / "photo.png", "a": stripes(tmp_path / "a.png"),
            "b": stripes(tmp_path / "b.jpg", (80, 64), ((240, 220, 40), (20, 20, 20)), 3)}


def test_lowers_the_loss_and_returns_the_asked_size(handle, images):
    totals = []
    pipe = StylizePipeline(handle, on_step=lambda parts: totals.append(parts["total"]))
    out = pipe(images["content"], [images["a"]], **FAST)
    assert out.images[0].size == (48, 32)                           # long side = size, aspect kept
    assert len(totals) == FAST["iterations"] and totals[-1] < 0.7 * totals[0]
    assert pipe.log.passes[0]["px"] == 48 and pipe.log.passes[0]["iterations"] == FAST["iterations"]
    adam = []
    StylizePipeline(handle, on_step=lambda p: adam.append(p["total"]))(images["content"], images["a"],
                                                                        optimizer="adam", **FAST)
    assert adam[-1] < adam[0]


def test_coarse_to_fine_schedule():
    assert scales(2048) == [256, 512, 1024, 2048] and scales(512) == [256, 512] and scales(300) == [300]
    assert [iterations_at(100, k) for k in range(4)] == [100, 50, 25, 12]
    assert iterations_at(8, 3) == 10                                 # never fewer than 10 at a fine scale


def test_multi_scale_run_ends_at_the_asked_size(handle, images):
    import artforge.pipelines.stylize as st
    c = read_input(images["content"], "content").pixels
    s = read_input(images["a"], "style").pixels
    log = st.StylizeLog()
    loss = PRESETS["gram"]
    x = stylize(FeatureTaps(handle.module, loss.style_layers + loss.content_layers), c, [s], [1.0], loss=loss,
                content_weight=1, style_weight=100, tv_weight=3, style_scale=1, preserve_color="none", size=64,
                iterations=2, seed=0, optimizer="lbfgs", log=log, coarse_px=32)
    assert x.shape == (1, 3, 43, 64) and [p["px"] for p in log.passes] == [32, 64]
    assert float(x.min()) >= 0 and float(x.max()) <= 1


def test_style_weights_are_validated_and_normalised(handle, images):
    assert parse_style_weights("", 3) == pytest.approx([1 / 3] * 3)
    assert parse_style_weights("7, 3", 2) == pytest.approx([0.7, 0.3])
    for bad, match in (("1", "1 weight"), ("1,x", "numbers"), ("1,-1", ">= 0"), ("0,0", "positive sum"),
                       ("nan,1", ">= 0")):
        with pytest.raises(UserError, match=match):
            parse_style_weights(bad, 2)
    with pytest.raises(UserError, match="style_weights: 3 weight"):
        StylizePipeline(handle)(images["content"], [images["a"], images["b"]], style_weights="1,1,1", **FAST)


def test_a_zero_weight_style_changes_nothing(handle, images):
    pipe = StylizePipeline(handle)
    one = pipe(images["content"], [images["a"]], **FAST)
    two = pipe(images["content"], [images["a"], images["b"]], style_weights="1,0", **FAST)
    assert np.array_equal(np.asarray(one.images[0]), np.asarray(two.images[0]))
    mixed = pipe(images["content"], [images["a"], images["b"]], style_weights="0.5,0.5", **FAST)
    assert not np.array_equal(np.asarray(one.images[0]), np.asarray(mixed.images[0]))
    styles = [p for p in two.recipes[0]["parents"] if p["role"] == "style"]
    assert [s["weight"] for s in styles] == [1.0, 0.0] and two.recipes[0]["params"]["style_weights"] == "1,0"
    listed = pipe(images["content"], [images["a"], images["b"]], style_weights=[1, 0], **FAST)
    assert listed.recipes[0]["params"]["style_weights"] == "1.0,0.0"


def test_luminance_mode_keeps_the_content_chroma_exactly(handle, images):
    c = read_input(images["content"], "content").pixels
    s = read_input(images["a"], "style").pixels
    loss = PRESETS["gram"]
    x = stylize(FeatureTaps(handle.module, loss.style_layers + loss.content_layers), c, [s], [1.0],
                loss=loss, content_weight=1, style_weight=100, tv_weight=3, style_scale=1,
                preserve_color="luminance", size=48, iterations=4, seed=0, optimizer="lbfgs")
    want = rgb_to_ycbcr(resize_long(c, 48))[:, 1:]
    got = rgb_to_ycbcr(x)[:, 1:]
    clipped = ((x <= 0) | (x >= 1)).any(1, keepdim=True).expand_as(got)
    assert float(clipped.float().mean()) < 0.02                      # soft colours: almost nothing leaves the gamut
    assert torch.allclose(got[~clipped], want[~clipped], atol=1e-5)
    assert not torch.allclose(rgb_to_ycbcr(x)[:, :1], rgb_to_ycbcr(resize_long(c, 48))[:, :1], atol=1e-2)


def test_color_helpers_are_exact():
    g = torch.Generator().manual_seed(3)
    a, b = torch.rand(1, 3, 6, 5, generator=g, dtype=torch.float64), torch.rand(1, 3, 6, 5, generator=g,
                                                                                dtype=torch.float64)
    assert torch.allclose(ycbcr_to_rgb(rgb_to_ycbcr(a)), a, atol=1e-12)
    mixed = with_chroma(a, b)
    assert torch.allclose(rgb_to_ycbcr(mixed)[:, 1:], rgb_to_ycbcr(b)[:, 1:], atol=1e-12)
    assert torch.allclose(rgb_to_ycbcr(mixed)[:, :1], rgb_to_ycbcr(a)[:, :1], atol=1e-12)
    # Pillow's YCbCr agrees within rounding
    img = Image.fromarray((a[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))
    pil = torch.from_numpy(np.asarray(img.convert("YCbCr")).astype(np.float64) / 255).permute(2, 0, 1)[None]
    ours = rgb_to_ycbcr(torch.from_numpy(np.asarray(img).astype(np.float64) / 255).permute(2, 0, 1)[None])
    assert float((pil - ours).abs().max()) <= 1.01 / 255


def test_histogram_mode_gives_the_style_the_content_colour_statistics():
    g = torch.Generator().manual_seed(4)
    style = torch.rand(1, 3, 20, 20, generator=g) * torch.tensor([1.0, 0.2, 0.1])[:, None, None]
    content = 0.3 + 0.4 * torch.rand(1, 3, 16, 12, generator=g)
    m = match_color(style, content)
    assert m.shape == style.shape
    assert torch.allclose(m.flatten(2).mean(2), content.flatten(2).mean(2), atol=1e-4)
    cov = lambda t: torch.cov(t.flatten(2)[0].double(), correction=0)   # noqa: E731
    assert torch.allclose(cov(m), cov(content), rtol=1e-2, atol=1e-5)   # up to the eps that keeps Σ invertible


def test_recipe_round_trip_and_bit_identical_replay(handle, images, tmp_path):
    out = StylizePipeline(handle)(images["content"], [images["a"], images["b"]], style_weights="0.7,0.3",
                                  preserve_color="histogram", seed=5, **FAST)
    recipe = out.recipes[0]
    path = save_image(out.images[0], tmp_path / "out.png", recipe)
    back = read_recipe(path)
    assert back == json.loads(json.dumps(recipe))
    assert back["pipeline"] == "stylize.optimize" and "stylize.optimize" in PIPELINES
    assert back["model"]["sha256"] == handle.sha256 and back["model"]["arch"] == "efficientnet-lite0"
    roles = [(p["role"], p["path"], p["sha256"]) for p in back["parents"]]
    assert roles[0][0] == "content" and [r[0] for r in roles[1:]] == ["style", "style"]
    assert back["params"]["seed"] == 5 and back["params"]["preserve_color"] == "histogram"
    again, same = replay(path, tmp_path / "again.png")
    assert same is True and read_recipe(again)["params"] == back["params"]


def test_replay_refuses_missing_or_changed_inputs_and_other_weights(handle, images, tmp_path):
    out = StylizePipeline(handle)(images["content"], images["a"], **FAST)
    path = save_image(out.images[0], tmp_path / "out.png", out.recipes[0])
    stripes(images["a"], width=4)                                    # the style file changes
    with pytest.raises(RecipeError, match=r"style image .*a\.png has changed since"):
        replay(path, tmp_path / "r.png")
    images["content"].unlink()
    with pytest.raises(RecipeError, match=r"content image this file was made from is missing: .*photo\.png"):
        replay(path, tmp_path / "r.png")
    recipe = dict(out.recipes[0], model=dict(out.recipes[0]["model"], sha256="0" * 64))
    with pytest.raises(RecipeError, match="other feature-network weights"):
        StylizePipeline.replay_model(recipe)
    with pytest.raises(RecipeError, match="is not the feature network"):
        StylizePipeline.replay_model(recipe, explicit=str(images["a"]))
    assert not (tmp_path / "r.png").exists()


def test_bad_inputs_are_one_line_errors(handle, images, tmp_path):
    (tmp_path / "junk.png").write_bytes(b"not an image")
    Image.new("RGB", (MIN_STYLE_PX - 1, 200), "red").save(tmp_path / "small.png")
    pipe = StylizePipeline(handle)
    cases = [((tmp_path / "junk.png", images["a"]), r"content image .*junk\.png: not an image"),
             ((images["content"], tmp_path / "small.png"), r"style image .*small\.png is 63×200 px; give one at "
                                                           r"least 64 px"),
             ((tmp_path / "none.png", images["a"]), r"content image not found"),
             ((images["content"], []), "at least one style image")]
    for (c, s), match in cases:
        with pytest.raises(UserError, match=match) as e:
            pipe(c, s, **FAST)
        assert "\n" not in str(e.value)
    with pytest.raises(StylizeError, match="over pixel limit"):
        StylizePipeline(handle, max_pixels=1000)(images["content"], images["a"], **FAST)
    with pytest.raises(UserError, match="preserve_color: 'gray' is not one of none, luminance, histogram"):
        pipe(images["content"], images["a"], preserve_color="gray", **FAST)


def test_mixed_colour_statistics_are_those_of_the_pooled_pixels():
    from artforge.pipelines.color import color_stats, mix_color_stats, recolor

    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(1, 3, 8, 8, generator=g) * 0.2 + 0.3, torch.rand(1, 3, 8, 8, generator=g) * 0.2 + 0.5
    mu, cov = mix_color_stats([color_stats(a, 0.0), color_stats(b, 0.0)], [0.5, 0.5])
    pooled = torch.cat([a, b], dim=-1)
    want_mu, want_cov = color_stats(pooled, 0.0)
    assert torch.allclose(mu, want_mu) and torch.allclose(cov, want_cov)
    x = torch.rand(1, 3, 16, 16, generator=g)             # recoloured to a narrow palette: nothing clamped
    got_mu, got_cov = color_stats(recolor(x, mu, cov), 0.0)
    assert torch.allclose(got_mu, mu, atol=1e-4) and torch.allclose(got_cov, cov, atol=1e-4)
