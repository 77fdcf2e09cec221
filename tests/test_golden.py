"""Golden pins of the models that ship inside artforge.

Every picture and melody a user made with a shipped model carries a recipe that `artforge replay` remakes.
If one of these tests fails, a change to a kernel, a layer, the latent sampler or the weights has changed
what the shipped models make, and every user's existing files will no longer replay to the same output.
Only update a pinned value on purpose, with a note in the changelog that old replays change.
"""

from __future__ import annotations

import torch

from artforge.pipelines.base import load_model
from artforge.pipelines.generate import GeneratePipeline
from artforge.pipelines.music import MusicSamplePipeline
from artforge.pipelines.style_models import ArbitraryStylePipeline, load_style_model

BREAKS_REPLAYS = "the shipped {} makes something else now: old recipes of it will not replay to the same output"


def test_the_starter_generator_makes_its_pinned_pixels():
    x = GeneratePipeline(load_model("starter")).images(seed=0, count=2, truncation=1.0, batch_size=2)
    got = x[0, :, 30, 28:32].flatten()
    expected = torch.tensor([0.172322, 0.164237, 0.180411, 0.182387, 0.588860, 0.583006,
                             0.594934, 0.588624, 0.879744, 0.864517, 0.847584, 0.837596])
    assert torch.allclose(got, expected, atol=1e-5), BREAKS_REPLAYS.format("starter")
    assert abs(float(x.mean()) - 0.078073) < 1e-5, BREAKS_REPLAYS.format("starter")


def test_the_two_bar_melody_model_writes_its_pinned_notes():
    out = MusicSamplePipeline(load_model("starter:melody-2bar")).run(
        n=2, seed=0, temperature=0.5, attribute="", batch_size=2)
    expected = [
        [55, 0, 53, 0, 0, 0, 57, 0, 58, 0, 0, 0, 53, 0, 0, 0, 55, 0, 52, 0, 0, 0, 55, 0, 54, 0, 60, 0, 52, 0, 52, 0],
        [55, 0, 52, 0, 45, 0, 55, 0, 52, 0, 0, 0, 50, 0, 0, 0, 0, 0, 0, 0, 50, 0, 57, 0, 59, 0, 0, 0, 55, 0, 50, 0],
    ]
    assert [m.tolist() for m in out.melodies] == expected, BREAKS_REPLAYS.format("starter:melody-2bar")


def _pattern_pictures() -> tuple[torch.Tensor, torch.Tensor]:
    """(1, 3, 64, 64) each: a colour ramp to stylize and a checkerboard with stripes as the style."""
    g = torch.linspace(0, 1, 64)
    content = torch.stack([g[None, :].expand(64, 64), g[:, None].expand(64, 64), g[None, :] * g[:, None]])[None]
    yy, xx = torch.meshgrid(torch.arange(64), torch.arange(64), indexing="ij")
    style = torch.stack([((xx // 8 + yy // 8) % 2).float(), (xx % 16 < 8).float() * 0.5,
                         torch.full((64, 64), 0.2)])[None]
    return content, style


def test_the_arbitrary_style_network_paints_its_pinned_pixels():
    content, style = _pattern_pictures()
    pipe = ArbitraryStylePipeline(load_style_model("starter:style-arbitrary"))
    with torch.inference_mode():
        y = pipe.stylize_tensor(content, [style], [1.0], ArbitraryStylePipeline.resolve(size=0))
    got = y[0, :, 32, 28:32].flatten()
    expected = torch.tensor([0.038144, 0.046764, 0.011521, 0.010838, 0.007411, 0.008430,
                             0.009538, 0.081969, 0.211690, 0.208243, 0.204637, 0.202118])
    # oneDNN's convolutions round differently with 1 or 2 threads (5e-7 here): the pin allows that, no more
    assert torch.allclose(got, expected, atol=1e-5), BREAKS_REPLAYS.format("starter:style-arbitrary")
    assert abs(float(y.mean()) - 0.317168) < 1e-5, BREAKS_REPLAYS.format("starter:style-arbitrary")
