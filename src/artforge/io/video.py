"""Animations and videos: GIF (Pillow) and MP4 (PyAV, which ships ffmpeg), each with a text comment for the recipe.

`write_animation` is for short generated loops (tiny frames are enlarged so that players show them
well); `read_video` / `write_video` are for stylizing videos: frames keep their size, count and exact
frame rate (a `Fraction`, e.g. 30000/1001), and every input a user gives is checked first.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

from PIL import Image

from ..errors import UserError
from .atomic import atomic_save

FORMATS = (".gif", ".mp4")
MAX_FRAME_PIXELS = 1920 * 1080    # per frame (Full HD), checked from the header before decoding
MAX_FRAMES = 1800                 # a minute at 30 fps; frames are held in memory, H·W·3 bytes each
CRF = 18                          # x264 quality: visually near-lossless, about what the eye cannot tell


def write_animation(frames: list[Image.Image], path: str | Path, fps: float | Fraction = 24,
                    comment: str = "") -> None:
    """Write frames as GIF or MP4 (by suffix), atomically, looping forever for GIF.

    Tiny frames are enlarged (nearest neighbour) in the MP4; use `write_video` to keep the size exactly.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".gif":
        atomic_save(path, lambda tmp: _gif(frames, tmp, fps, comment))
    elif suffix == ".mp4":
        atomic_save(path, lambda tmp: _mp4(frames, tmp, fps, comment))
    else:
        raise UserError(f"--out {path}: animations are written as .gif or .mp4")


def _gif(frames: list[Image.Image], tmp: Path, fps: float | Fraction, comment: str) -> None:
    first, *rest = [f.convert("RGB") for f in frames]
    first.save(tmp, format="GIF", save_all=True, append_images=rest, duration=round(1000 / fps), loop=0,
               optimize=False, comment=comment.encode("utf-8"))


def _mp4(frames: list[Image.Image], tmp: Path, fps: float | Fraction, comment: str) -> None:
    w, h = frames[0].size
    # H.264 with yuv420p needs even sizes; enlarge tiny frames so that players show them well.
    scale = max(1, 256 // max(w, h))
    w2, h2 = (w * scale + 1) // 2 * 2, (h * scale + 1) // 2 * 2
    _encode(frames, tmp, frame_rate(fps), comment, (w2, h2),
            lambda f: f.convert("RGB").resize((w2, h2), Image.NEAREST))


def frame_rate(fps: float | Fraction) -> Fraction:
    """An exact rate for the container: Fractions and ints as they are, floats to the nearest simple fraction.

    >>> frame_rate(24), frame_rate(30000 / 1001), frame_rate(Fraction(25, 2))
    (Fraction(24, 1), Fraction(30000, 1001), Fraction(25, 2))
    """
    if isinstance(fps, float) and not math.isfinite(fps) or not fps > 0:
        raise UserError(f"fps: a frame rate must be a number above 0, got {fps}")
    return Fraction(fps).limit_denominator(100_000) if isinstance(fps, float) else Fraction(fps)


def _encode(frames, tmp: Path, rate: Fraction, comment: str, size: tuple[int, int], prepare) -> None:
    """H.264 (yuv420p, CRF) in MP4 at exactly `rate` frames per second; `prepare` makes each RGB frame `size`."""
    import av

    with av.open(str(tmp), mode="w", format="mp4") as out:
        out.metadata["comment"] = comment
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        # cpu-independent: replays compare decoded frames, so the same frames must encode to the same
        # bytes, here and on other CPUs. Without it x264's CPU-specific code for macroblock-tree rate
        # control gave 2 to 6 different encodings of one clip in 24 writes in one process (frames up to
        # 32 levels apart; turning mbtree off fixed it too).
        stream.options = {"crf": str(CRF), "x264-params": "cpu-independent=1"}
        for i, f in enumerate(frames):
            frame = av.VideoFrame.from_image(prepare(f))
            frame.pts, frame.time_base = i, 1 / rate            # frame i at i/rate seconds
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def write_video(frames: list[Image.Image], path: str | Path, fps: float | Fraction, comment: str = "") -> Path:
    """Write frames as an MP4 (H.264, yuv420p) at exactly `fps`, with `comment` in its metadata, atomically.

    The frame count and rate are kept exactly, and the size too when it is even. yuv420p stores colour
    per 2x2 block, so H.264 refuses odd sizes: an odd width or height gains one column or row, a copy of
    the last one (nothing is cut off or rescaled).

    >>> import tempfile, pathlib
    >>> frames = [Image.new("RGB", (64, 48), (20 * i, 90, 160)) for i in range(6)]
    >>> path = write_video(frames, pathlib.Path(tempfile.mkdtemp()) / "a.mp4", Fraction(30000, 1001))
    >>> back, fps = read_video(path)
    >>> len(back), back[0].size, fps
    (6, (64, 48), Fraction(30000, 1001))
    """
    path = mp4_path(path)
    if not frames:
        raise ValueError("write_video needs at least one frame")
    w, h = frames[0].size
    if any(f.size != (w, h) for f in frames):
        raise ValueError(f"write_video: every frame must be {w}x{h} like the first")
    even = (w + w % 2, h + h % 2)

    def prepare(f: Image.Image) -> Image.Image:
        f = f.convert("RGB")
        if f.size == even:
            return f
        padded = Image.new("RGB", even)
        padded.paste(f, (0, 0))
        if even[0] > w:                                         # repeat the last column, then the last row
            padded.paste(f.crop((w - 1, 0, w, h)), (w, 0))
        if even[1] > h:
            padded.paste(padded.crop((0, h - 1, even[0], h)), (0, h))
        return padded

    rate = frame_rate(fps)
    atomic_save(path, lambda tmp: _encode(frames, tmp, rate, comment, even, prepare))
    return path


def read_frames(path: str | Path) -> list[Image.Image]:
    """All frames of a GIF or MP4 as RGB images (for checks and replays)."""
    path = Path(path)
    if path.suffix.lower() == ".gif":
        with Image.open(path) as im:
            out = []
            for i in range(getattr(im, "n_frames", 1)):
                im.seek(i)
                out.append(im.convert("RGB"))
            return out
    import av

    with av.open(str(path)) as c:
        return [f.to_image() for f in c.decode(video=0)]


def mp4_path(path: str | Path) -> Path:
    """`path` as a Path if it names an .mp4 file, else a UserError (checked before any work is done)."""
    path = Path(path)
    if path.suffix.lower() != ".mp4":
        raise UserError(f"--out {path}: videos are written as .mp4")
    return path


def read_video(path: str | Path, max_pixels: int = MAX_FRAME_PIXELS,
               max_frames: int = MAX_FRAMES) -> tuple[list[Image.Image], Fraction]:
    """All frames of a video's first video stream as RGB PIL images, and its frame rate (exact).

    Frames are PIL images (8-bit, a quarter of the memory of float tensors); `pipelines.flow.frame_tensor`
    turns one into a (1, 3, H, W) tensor. The rate is the stream's average rate, e.g. Fraction(30000, 1001):
    a variable-rate video is re-timed to constant frames at that average. A missing file, a file that is
    not a video (or is truncated), no video stream, frames over `max_pixels` or more than `max_frames`
    frames are each a UserError of one line naming the file; the size and count are checked from the
    header before decoding, and again while decoding (a header can lie).
    """
    import av

    p = Path(path).expanduser()
    if not p.is_file():
        raise UserError(f"video not found: {p}")
    try:
        container = av.open(str(p))
    except av.FFmpegError as e:
        raise UserError(f"{p} is not a video, or is damaged or truncated ({_reason(e)}); give an MP4, MOV, MKV, "
                        "WebM or AVI file that plays") from None
    with container:
        if not container.streams.video:
            raise UserError(f"{p} has no video stream (audio only?); give a file with pictures in it")
        stream = container.streams.video[0]
        if stream.codec_context is None:
            raise UserError(f"{p} is damaged or truncated (its video stream has no decoder settings); re-export "
                            "or re-download it")
        stream.thread_type = "AUTO"                             # decode on several threads
        _check_size(p, stream.codec_context.width, stream.codec_context.height, max_pixels)
        declared = stream.frames                                # 0 when the container does not say
        if declared > max_frames:
            raise UserError(_too_long(p, f"{declared} frames", max_frames))
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        if not rate or rate <= 0:
            raise UserError(f"{p} has no frame rate in its header; re-encode it (e.g. ffmpeg -i IN -r 30 OUT.mp4)")
        frames: list[Image.Image] = []
        try:
            for frame in container.decode(stream):
                _check_size(p, frame.width, frame.height, max_pixels)
                if len(frames) == max_frames:
                    raise UserError(_too_long(p, f"more than {max_frames} frames", max_frames))
                if frames and (frame.width, frame.height) != frames[0].size:
                    raise UserError(f"{p} changes its frame size mid-stream ({frames[0].size[0]}x{frames[0].size[1]} "
                                    f"to {frame.width}x{frame.height}); re-encode it at one size")
                frames.append(frame.to_image())
        except av.FFmpegError as e:
            raise UserError(f"{p} is damaged or truncated: decoding stopped after {len(frames)} frame(s) "
                            f"({_reason(e)}); re-export or re-download it") from None
    if not frames:
        raise UserError(f"{p} has a video stream with no pictures that can be decoded; re-export it")
    if declared and len(frames) < declared:
        raise UserError(f"{p} is truncated: its header promises {declared} frames but only {len(frames)} "
                        "could be decoded; re-export or re-download it")
    return frames, Fraction(rate)


def _check_size(p: Path, w: int, h: int, max_pixels: int) -> None:
    if w * h > max_pixels:
        raise UserError(f"{p}: frames are {w}x{h} = {w * h} px, over the limit of {max_pixels} (--max-pixels); "
                        "scale it down first (e.g. ffmpeg -i IN -vf scale=-2:720 OUT.mp4) or raise the limit")


def _too_long(p: Path, what: str, max_frames: int) -> str:
    return (f"{p} has {what}, over the limit of {max_frames} (--max-frames); cut it shorter first "
            "(e.g. ffmpeg -i IN -t 10 OUT.mp4) or raise the limit")


def _reason(e: Exception) -> str:
    """FFmpeg's own words, without the file name it repeats."""
    text = getattr(e, "strerror", None) or str(e)
    return str(text).split(":")[0].strip() or type(e).__name__
