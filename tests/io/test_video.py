"""MP4 in and out for stylized videos: exact frame count, size and rate; every bad input is one UserError line."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from artforge.errors import UserError
from artforge.io.video import frame_rate, read_frames, read_video, write_animation, write_video
from artforge.pipelines.stylize import to_image
from artforge.provenance import read_recipe
from artforge.provenance.write import save_video
from videos import pan


def noise_frames(n: int, size=(64, 48), seed: int = 0) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)) for _ in range(n)]


def smooth_frames(n: int) -> list[Image.Image]:
    """Grey, so that yuv420p's colour at half resolution loses nothing the test would see."""
    return [to_image(f.mean(1, keepdim=True).expand(1, 3, -1, -1)) for f in pan(n)]


@pytest.fixture
def clip(tmp_path):
    return write_video(noise_frames(10), tmp_path / "clip.mp4", 12)


@pytest.mark.parametrize("fps", [12, Fraction(30000, 1001), Fraction(25, 2), 30000 / 1001])
def test_round_trip_keeps_count_size_and_exact_rate(tmp_path, fps):
    frames = smooth_frames(7)
    write_video(frames, tmp_path / "a.mp4", fps, comment="hello")
    back, got = read_video(tmp_path / "a.mp4")
    assert len(back) == 7 and back[0].size == (64, 48) and isinstance(got, Fraction)
    assert got == frame_rate(fps)
    with av.open(str(tmp_path / "a.mp4")) as c:
        assert c.metadata["comment"] == "hello"
    # H.264 at CRF 18 is lossy, but close; and frame 3 is frame 3 (4 px from its neighbours)
    err = [np.abs(np.asarray(back[3], np.float32) - np.asarray(f, np.float32)).mean() for f in frames]
    assert err[3] < 4 and min(err[2], err[4]) > 3 * err[3]


def test_frame_rate_recovers_ntsc_from_a_float():
    assert frame_rate(29.97002997002997) == Fraction(30000, 1001)
    assert frame_rate(23.976) == Fraction(2997, 125)
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(UserError, match="fps"):
            frame_rate(bad)


def test_odd_sizes_gain_a_copy_of_the_last_row_and_column(tmp_path):
    grad = np.tile(np.linspace(0, 255, 63, dtype=np.float32)[None, :, None], (47, 1, 3)).astype(np.uint8)
    grad[-1] = 255                                     # a bright last row, to see it copied
    write_video([Image.fromarray(grad)] * 3, tmp_path / "odd.mp4", 10)
    back, _ = read_video(tmp_path / "odd.mp4")
    arr = np.asarray(back[0], np.float32)
    assert back[0].size == (64, 48)
    assert np.abs(arr[:47, 63] - arr[:47, 62]).mean() < 6        # the new column repeats the last one
    assert np.abs(arr[47] - arr[46]).mean() < 6 and arr[47].mean() > 200


def test_write_is_atomic_and_keeps_the_old_file_on_failure(tmp_path, clip):
    before = clip.read_bytes()

    class Broken:
        size = (64, 48)

        def convert(self, mode):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_video([Broken()], clip, 12)
    assert clip.read_bytes() == before
    assert [p.name for p in clip.parent.iterdir()] == ["clip.mp4"]     # no temporary file left behind


def test_save_video_puts_the_recipe_in(tmp_path):
    path = save_video(noise_frames(3), tmp_path / "r.mp4", {"pipeline": "x", "params": {"a": 1}},
                      Fraction(30000, 1001), redact_fields="params.a")
    assert read_recipe(path) == {"pipeline": "x", "params": {}, "redacted": ["params.a"]}
    with pytest.raises(UserError, match=r"\.mp4"):
        save_video(noise_frames(1), tmp_path / "r.gif", None, 12)


def test_write_animation_still_enlarges_tiny_frames_and_takes_any_rate(tmp_path):
    frames = [f.resize((16, 16)) for f in noise_frames(4)]
    write_animation(frames, tmp_path / "a.mp4", fps=24)
    write_animation(frames, tmp_path / "b.gif", fps=Fraction(25, 2))
    assert read_frames(tmp_path / "a.mp4")[0].size == (256, 256)
    assert len(read_frames(tmp_path / "b.gif")) == 4


def test_missing_and_not_a_video(tmp_path):
    with pytest.raises(UserError, match="video not found"):
        read_video(tmp_path / "nope.mp4")
    (tmp_path / "notes.mp4").write_text("not a video")
    with pytest.raises(UserError, match=r"notes\.mp4 is not a video"):
        read_video(tmp_path / "notes.mp4")


@pytest.mark.parametrize("keep", [0.3, 0.9])
def test_truncated_files_are_refused(tmp_path, keep):
    # moov at the front (faststart, as web videos are): the frames' data is cut short
    path = tmp_path / "fast.mp4"
    with av.open(str(path), "w", format="mp4", options={"movflags": "faststart"}) as out:
        s = out.add_stream("libx264", rate=12)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for f in noise_frames(10):
            out.mux(s.encode(av.VideoFrame.from_image(f)))
        out.mux(s.encode())
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(UserError, match=r"fast\.mp4 is (damaged or )?truncated") as e:
        read_video(path)
    assert "\n" not in str(e.value)
    # moov at the end (the default): a cut file has no index at all
    full = write_video(noise_frames(10), tmp_path / "plain.mp4", 12).read_bytes()
    (tmp_path / "cut.mp4").write_bytes(full[: int(len(full) * keep)])
    with pytest.raises(UserError, match=r"cut\.mp4 is not a video, or is damaged or truncated"):
        read_video(tmp_path / "cut.mp4")


def test_audio_only_file_has_no_video_stream(tmp_path):
    path = tmp_path / "sound.mp4"
    with av.open(str(path), "w", format="mp4") as out:
        s = out.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 16000
        out.mux(s.encode(frame))
        out.mux(s.encode())
    with pytest.raises(UserError, match=r"sound\.mp4 has no video stream"):
        read_video(path)


def test_pixel_and_frame_limits(clip):
    with pytest.raises(UserError, match=r"clip\.mp4: frames are 64x48 = 3072 px, over the limit of 3000"):
        read_video(clip, max_pixels=3000)
    with pytest.raises(UserError, match=r"clip\.mp4 has 10 frames, over the limit of 9 \(--max-frames\)"):
        read_video(clip, max_frames=9)
    frames, _ = read_video(clip, max_pixels=3072, max_frames=10)
    assert len(frames) == 10


def test_the_same_frames_encode_to_the_same_bytes_every_time(tmp_path, clip):
    """Replays compare decoded frames, so encoding must be repeatable. The frames are six outputs of the
    test's tiny AdaIN network (a 6x1 strip): without x264's cpu-independent flag, 24 writes of them in
    one process gave 3 to 6 different encodings (frames up to 32 levels apart) on an AVX-512 Xeon."""
    read_video(clip)
    strip = Image.open(Path(__file__).parent / "data" / "stylized-strip.png").convert("RGB")
    frames = [strip.crop((64 * i, 0, 64 * i + 64, 48)) for i in range(6)]
    paths = [write_video(frames, tmp_path / f"w{i}.mp4", 12, "same") for i in range(24)]
    assert len({p.read_bytes() for p in paths}) == 1
