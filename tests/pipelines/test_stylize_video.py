"""Video stylization: frame-by-frame at temporal=0, less flicker with flow-guided blending, exact round trips."""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest
import torch
from torch import nn

from artforge.errors import UserError
from artforge.io.video import read_video, write_video
from artforge.io.weights import file_sha256
from artforge.metrics.flicker import warping_error
from artforge.pipelines.stylize import to_image
from artforge.pipelines.video import VideoResult, stylize_frames, stylize_video
from artforge.provenance import read_recipe
from videos import pan

pytestmark = pytest.mark.usefixtures("one_thread")


class StandIn:
    """A fixed random conv network plus blotchy noise seeded by the frame's own pixels: the same frame
    always gives the same picture, but each frame gets other blotches, so frame-by-frame output flickers."""

    def __init__(self, flicker: float = 0.15, seed: int = 0):
        torch.manual_seed(seed)
        self.net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Tanh(), nn.Conv2d(8, 3, 3, padding=1),
                                 nn.Sigmoid()).eval()
        self.flicker, self.calls = flicker, 0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:          # (1, 3, H, W) -> (1, 3, H, W)
        self.calls += 1
        g = torch.Generator().manual_seed(int((x * 255).round().sum()) % 2**31)
        blotches = torch.rand(1, 3, x.shape[-2] // 4, x.shape[-1] // 4, generator=g) - 0.5
        blotches = nn.functional.interpolate(blotches, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return (self.net(x) + self.flicker * blotches).clamp(0, 1)


def same(a, b) -> bool:
    return len(a) == len(b) and all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a, b))


def test_temporal_zero_is_frame_by_frame_exactly():
    frames, net = pan(6), StandIn()
    alone = [to_image(net(f)) for f in frames]
    assert same(stylize_frames(frames, net, temporal=0), alone)
    assert not same(stylize_frames(frames, net, temporal=0.6), alone)
    first = stylize_frames(frames, net, temporal=0.6)[0]              # nothing to carry into frame 0
    assert np.array_equal(np.asarray(first), np.asarray(alone[0]))


def test_blending_lowers_the_warping_error_by_a_third_or_more():
    frames, net = pan(10, step=(2, 1)), StandIn()
    alone = warping_error(stylize_frames(frames, net, temporal=0), frames)
    blended = warping_error(stylize_frames(frames, net, temporal=0.6), frames)
    assert alone > 1e-3                                             # the stand-in does flicker
    assert blended < 0.7 * alone


@pytest.mark.parametrize("fps", [Fraction(12), Fraction(30000, 1001)])
def test_round_trip_keeps_frames_size_and_rate_and_records_the_recipe(tmp_path, fps):
    src = write_video([to_image(f) for f in pan(8)], tmp_path / "in.mp4", fps)
    net, seen = StandIn(), []
    recipe = {"pipeline": "stylize.fast", "params": {"style": "mosaic"}, "model": {"sha256": "abc"}, "parents": []}
    r = stylize_video(src, tmp_path / "out.mp4", net, temporal=0.6, recipe=recipe, score=warping_error,
                      compare=True, on_frame=lambda done, total: seen.append((done, total)))
    assert isinstance(r, VideoResult) and net.calls == 8              # the comparison costs no extra calls
    assert seen == [(i, 8) for i in range(1, 9)]
    frames, got_fps = read_video(r.path)
    assert (len(frames), frames[0].size, got_fps) == (8, (64, 48), fps)
    assert (r.frames, r.size, r.fps) == (8, (64, 48), fps) and r.processing_fps > 0
    assert r.flicker < 0.7 * r.flicker_frame_by_frame
    assert re.fullmatch(r"flicker \d\.\d{4} \(frame-by-frame \d\.\d{4}, -\d+%\) at \d+\.\d fps", r.summary())
    saved = read_recipe(r.path)
    assert saved["params"] == {"style": "mosaic", "temporal": 0.6} and saved["output"] == "video"
    assert saved["parents"][0] | {"path": ""} == {"role": "content", "kind": "video", "path": "", "width": 64,
                                                    "height": 48, "frames": 8, "fps": str(fps),
                                                    "sha256": file_sha256(src)}
    assert recipe["params"] == {"style": "mosaic"}                    # the caller's recipe is left alone


def test_without_a_score_or_a_recipe(tmp_path):
    src = write_video([to_image(f) for f in pan(4)], tmp_path / "in.mp4", 10)
    r = stylize_video(src, tmp_path / "out.mp4", StandIn(), temporal=0)
    assert r.flicker is None and r.flicker_frame_by_frame is None
    assert re.fullmatch(r"4 frames at \d+\.\d fps", r.summary())
    with pytest.raises(ValueError, match="compare=True needs a score"):
        stylize_video(src, tmp_path / "out.mp4", StandIn(), compare=True)


def test_bad_inputs_are_user_errors_and_write_nothing(tmp_path):
    (tmp_path / "notes.mp4").write_text("no pictures here")
    for bad in (tmp_path / "missing.mp4", tmp_path / "notes.mp4"):
        with pytest.raises(UserError, match=bad.name):
            stylize_video(bad, tmp_path / "out.mp4", StandIn())
    src = write_video([to_image(f) for f in pan(3)], tmp_path / "in.mp4", 10)
    with pytest.raises(UserError, match="over the limit"):
        stylize_video(src, tmp_path / "out.mp4", StandIn(), max_frames=2)
    with pytest.raises(UserError, match="temporal: 1.5 is out of range"):
        stylize_video(src, tmp_path / "out.mp4", StandIn(), temporal=1.5)
    net = StandIn()
    with pytest.raises(UserError, match=r"out\.gif: videos are written as \.mp4"):
        stylize_video(src, tmp_path / "out.gif", net)
    assert net.calls == 0                                             # refused before any work
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4", "notes.mp4"]


def test_a_stylizer_that_changes_the_size_is_named():
    with pytest.raises(ValueError, match=r"returned \(1, 3, 24, 32\) for a \(1, 3, 48, 64\) frame"):
        stylize_frames(pan(2), lambda x: x[..., ::2, ::2])
