"""Animations: GIF (Pillow) and MP4 (PyAV, which ships ffmpeg), each with a text comment for the recipe."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from ..errors import UserError
from .atomic import atomic_save

FORMATS = (".gif", ".mp4")


def write_animation(frames: list[Image.Image], path: str | Path, fps: int = 24, comment: str = "") -> None:
    """Write frames as GIF or MP4 (by suffix), atomically, looping forever for GIF."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".gif":
        atomic_save(path, lambda tmp: _gif(frames, tmp, fps, comment))
    elif suffix == ".mp4":
        atomic_save(path, lambda tmp: _mp4(frames, tmp, fps, comment))
    else:
        raise UserError(f"--out {path}: animations are written as .gif or .mp4")


def _gif(frames: list[Image.Image], tmp: Path, fps: int, comment: str) -> None:
    first, *rest = [f.convert("RGB") for f in frames]
    first.save(tmp, format="GIF", save_all=True, append_images=rest, duration=round(1000 / fps), loop=0,
               optimize=False, comment=comment.encode("utf-8"))


def _mp4(frames: list[Image.Image], tmp: Path, fps: int, comment: str) -> None:
    import av

    w, h = frames[0].size
    # H.264 with yuv420p needs even sizes; enlarge tiny frames so that players show them well.
    scale = max(1, 256 // max(w, h))
    w2, h2 = (w * scale + 1) // 2 * 2, (h * scale + 1) // 2 * 2
    with av.open(str(tmp), mode="w", format="mp4") as out:
        out.metadata["comment"] = comment
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w2, h2, "yuv420p"
        stream.options = {"crf": "18"}
        for f in frames:
            img = f.convert("RGB").resize((w2, h2), Image.NEAREST)
            for packet in stream.encode(av.VideoFrame.from_image(img)):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


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
