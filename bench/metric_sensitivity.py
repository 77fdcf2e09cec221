"""What the EfficientNet-Lite0 figures respond to: held-out real images, degraded in known ways.

    python bench/metric_sensitivity.py [--n 300]

Scores 300 held-out built-in landscapes (never in the reference set) against the 400 reference ones,
clean and degraded (blur, noise, 4x down-up sampling, darkening), as JSON lines. It shows the scale of the
figures: what a blurry or noisy but otherwise right picture costs, next to a global colour change.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
import torch.nn.functional as F

from artforge.data import DataConfig, generate_image
from artforge.features import FeatureExtractor, load_feature_net
from artforge.metrics.evaluate import figures, load_reference


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    k = torch.arange(-4, 5, dtype=torch.float32)
    g = torch.exp(-k ** 2 / (2 * sigma ** 2))
    g = (g / g.sum()).view(1, 1, 1, -1).repeat(3, 1, 1, 1)
    x = F.conv2d(F.pad(x, (4, 4, 0, 0), mode="replicate"), g, groups=3)
    return F.conv2d(F.pad(x, (0, 0, 4, 4), mode="replicate"), g.transpose(2, 3), groups=3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()
    fx = FeatureExtractor(load_feature_net())
    ref = load_reference(DataConfig(path="builtin"), fx)
    px = ref.images.shape[-1]
    held = np.stack([np.array(generate_image(i).resize((px, px), 1).convert("RGB")) for i in range(400, 400 + args.n)])
    x = torch.from_numpy(held).permute(0, 3, 1, 2).float() / 255
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(0))
    cases = {"held-out real": x, "blur sigma=1 px": gaussian_blur(x, 1), "blur sigma=2 px": gaussian_blur(x, 2),
             "noise std 0.05": (x + 0.05 * noise).clamp(0, 1),
             "4x down then up": F.interpolate(F.interpolate(x, size=px // 4, mode="area"), size=px, mode="bilinear"),
             "darker x0.7": x * 0.7}
    for name, images in cases.items():
        f = figures(ref.feats, fx((images * 255).round().to(torch.uint8)))
        print(json.dumps({"bench": "metric_sensitivity", "case": name, "KID_effnet_x1000": round(f["KID_effnet"] * 1e3, 1),
                          "KID_std_x1000": round(f["KID_effnet_std"] * 1e3, 1), "FD_effnet": round(f["FD_effnet"], 1),
                          "precision": round(f["precision"], 3), "recall": round(f["recall"], 3)}))


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    main()
