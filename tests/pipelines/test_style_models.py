"""Trained style networks: the arbitrary-style AdaIN network and per-style transform networks, on tiny
random-weight models the tests make (real code paths: loading, encoding, tiling, recipes, replay)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from artforge.errors import RunError, UserError
from artforge.models.stylenet import (AdaINConfig, StyleDecoder, TransformConfig, TransformNet, adain, mix_codes,
                                      style_code)
from artforge.pipelines.replay import replay
from artforge.pipelines.style_models import (ArbitraryStylePipeline, FastStylePipeline, apply_tiled,
                                             load_style_model, tile_starts)
from artforge.provenance import read_recipe
from artforge.provenance.write import save_image
from style_runs import make_run

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def pictures(tmp_path, art):
    art(1, size=72).save(tmp_path / "photo.png")
    art(2, size=80).save(tmp_path / "style1.png")
    art(3, size=96).save(tmp_path / "style2.png")
    return tmp_path


def test_adain_gives_the_style_statistics_to_every_channel():
    f = torch.randn(2, 3, 5, 7) * 4 + 1
    mu, sigma = torch.randn(2, 3), torch.rand(2, 3) + 0.5
    y = adain(f, mu, sigma)
    assert torch.allclose(y.mean((2, 3)), mu, atol=1e-5)
    assert torch.allclose(y.std((2, 3), correction=0), sigma, atol=1e-3)
    # the normalised pattern is the content's: AdaIN of f to f's own statistics gives f back
    m, s = f.mean((2, 3)), (f.var((2, 3), correction=0) + 1e-5).sqrt()
    assert torch.allclose(adain(f, m, s), f, atol=1e-4)


def test_decoder_with_adain_folded_into_its_input_convolutions_equals_adain_then_decoder(monkeypatch):
    from artforge.models import stylenet
    from artforge.ops import fused

    torch.manual_seed(0)
    dec = StyleDecoder(AdaINConfig(widths=(8, 8, 16), deep_convs=1)).eval()
    feats = [torch.randn(1, c, s, s) * 2 + 1 for c, s in ((96, 24), (144, 12), (240, 6))]
    code = [(torch.randn(1, c), torch.rand(1, c) + 0.2) for c in (96, 144, 240)]
    with torch.no_grad():
        want = dec(*[adain(f, mu, sigma, 0.7) for f, (mu, sigma) in zip(feats, code)])
    with torch.inference_mode():
        assert torch.allclose(dec.stylize(feats, code, 0.7), want, atol=1e-5)
        monkeypatch.setattr(fused, "_OP", None)              # a PyTorch without the fused op: same numbers
        assert torch.allclose(dec.stylize(feats, code, 0.7), want, atol=1e-5)
        # big maps: the content's statistics from a grid of positions (every 2nd row and column here)
        monkeypatch.setattr(stylenet, "STATS_POSITIONS", 150)
        got = dec.stylize(feats, code, 0.7)
    assert not torch.equal(got, want) and (got - want).abs().mean() < 0.02
    with torch.no_grad():                                    # a batch of two goes the plain way
        two = dec.stylize([torch.cat([f, f]) for f in feats], [(m.repeat(2, 1), s.repeat(2, 1)) for m, s in code], 0.7)
    assert torch.allclose(two[1:], want, atol=1e-5)


def test_mixing_style_codes_is_a_weighted_mean_and_one_weight_gives_that_style():
    a = [(torch.zeros(1, 2), torch.ones(1, 2))]
    b = [(torch.full((1, 2), 4.0), torch.full((1, 2), 3.0))]
    (mu, sigma), = mix_codes([a, b], [0.75, 0.25])
    assert mu.tolist() == [[1.0, 1.0]] and sigma.tolist() == [[1.5, 1.5]]
    assert torch.equal(mix_codes([a, b], [0.0, 1.0])[0][0], b[0][0])


def test_arbitrary_pipeline_output_size_alpha_blend_recipe_and_replay(tmp_path, pictures):
    run = make_run(tmp_path / "adain", "adain-lite0")
    pipe = ArbitraryStylePipeline(load_style_model(run))
    photo, s1, s2 = pictures / "photo.png", pictures / "style1.png", pictures / "style2.png"
    out = pipe(photo, [s1], size=70)
    assert out.images[0].size == (70, 70)                                 # 70 is not a multiple of 8: cropped back
    none = np.asarray(pipe(photo, [s1], size=64, alpha=0.0).images[0], np.float64)
    full = np.asarray(pipe(photo, [s1], size=64, alpha=1.0).images[0], np.float64)
    other = np.asarray(pipe(photo, [s2], size=64).images[0], np.float64)
    assert np.abs(full - none).mean() > 0.5 and np.abs(full - other).mean() > 0.5
    only_first = np.asarray(pipe(photo, [s1, s2], size=64, style_weights=[1, 0], alpha=1.0).images[0], np.float64)
    assert np.abs(only_first - full).max() <= 1                           # weights 1, 0 = the first style alone
    result = pipe(photo, [s1, s2], size=64, style_weights="0.6,0.4", alpha=0.7, preserve_color="histogram")
    recipe = result.recipes[0]
    assert recipe["pipeline"] == "stylize.arbitrary" and recipe["model"]["arch"] == "adain-lite0"
    assert [p["role"] for p in recipe["parents"]] == ["content", "style", "style"]
    save_image(result.images[0], tmp_path / "a.png", recipe)
    path, same = replay(tmp_path / "a.png", tmp_path / "again.png", model=str(run))
    assert same is True and read_recipe(path)["params"]["alpha"] == 0.7


def test_tiled_application_equals_one_pass():
    torch.manual_seed(0)
    net = TransformNet(TransformConfig(widths=(4, 8, 8), res_blocks=1)).eval()
    for m in net.modules():
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.normal_(m.weight, std=0.3)
    x = torch.rand(1, 3, 190, 230)
    with torch.no_grad():
        whole = net(x)
    tiled = apply_tiled(net, x, tile=2 * net.receptive_px + 40)          # 3 x 3 tiles at least
    assert len(tile_starts(190, 2 * net.receptive_px + 40, 2 * net.receptive_px + 16)) >= 3
    assert torch.allclose(tiled, whole, atol=5e-4)                        # float rounding only
    # and the network really is not local in a trivial way: a tile cut without margins differs
    with torch.no_grad():
        cut = torch.cat([net(x[..., :, :115]), net(x[..., :, 115:])], -1)
    assert (cut - whole).abs().max() > 1e-3


def test_fast_pipeline_tiles_big_pictures_with_the_same_result(tmp_path, art):
    run = make_run(tmp_path / "fast", "transform-net")
    art(4, size=300).save(tmp_path / "big.png")
    pipe = FastStylePipeline(load_style_model(run))
    one = np.asarray(pipe(tmp_path / "big.png", tile=1024).images[0], np.int16)
    tiled = np.asarray(pipe(tmp_path / "big.png", tile=256).images[0], np.int16)
    assert one.shape == (300, 300, 3) and np.abs(one - tiled).max() <= 1
    result = pipe(tmp_path / "big.png", size=120, preserve_color="luminance")
    assert result.images[0].size == (120, 120) and result.recipes[0]["pipeline"] == "stylize.fast"
    save_image(result.images[0], tmp_path / "f.png", result.recipes[0])
    assert replay(tmp_path / "f.png", tmp_path / "f2.png", model=str(run))[1] is True


def test_a_folder_that_is_not_a_style_model_is_refused_in_one_line(tmp_path):
    with pytest.raises(RunError, match="not a style model"):
        load_style_model("starter")                                        # the GAN starter
    with pytest.raises(RunError, match="style model is a run folder"):
        load_style_model(tmp_path)
    fast = make_run(tmp_path / "fast", "transform-net")
    with pytest.raises(UserError, match="not an arbitrary-style model"):
        ArbitraryStylePipeline(load_style_model(fast))
    adain_run = make_run(tmp_path / "adain", "adain-lite0")
    with pytest.raises(UserError, match="give a style image too"):
        FastStylePipeline(load_style_model(adain_run))


def test_style_code_has_one_mean_and_std_per_channel_per_level():
    feats = {"a": torch.rand(1, 4, 8, 8), "b": torch.rand(1, 6, 4, 4)}
    code = style_code(feats, ("a", "b"))
    assert [tuple(t.shape) for level in code for t in level] == [(1, 4), (1, 4), (1, 6), (1, 6)]


def test_palette_gives_the_result_the_styles_colour_statistics(tmp_path, pictures):
    pipe = ArbitraryStylePipeline(load_style_model(make_run(tmp_path / "adain", "adain-lite0")))
    style = np.asarray(Image.open(pictures / "style1.png").convert("RGB"), np.float64).reshape(-1, 3)

    def colour_gap(img) -> float:
        px = np.asarray(img, np.float64).reshape(-1, 3)
        return float(np.abs(px.mean(0) - style.mean(0)).sum() + np.abs(np.cov(px.T) - np.cov(style.T)).sum() / 50)

    kept = pipe(pictures / "photo.png", [pictures / "style1.png"], size=64, palette=0.0).images[0]
    moved = pipe(pictures / "photo.png", [pictures / "style1.png"], size=64, palette=1.0).images[0]
    assert colour_gap(moved) < 0.5 * colour_gap(kept)
    luma = pipe(pictures / "photo.png", [pictures / "style1.png"], size=64, palette=1.0, preserve_color="luminance")
    assert luma.recipes[0]["params"]["palette"] == 1.0                     # recorded; not applied with luminance
