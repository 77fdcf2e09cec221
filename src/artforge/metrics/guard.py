"""The copy check that `generate --no-copies` runs on each image: features + thumbnail vs the training set.

    >>> guard = CopyGuard.for_model(load_model("starter"))                 # doctest: +SKIP
    >>> GeneratePipeline(model, copy_check=guard)(n=8, no_copies=True)     # doctest: +SKIP
"""

from __future__ import annotations

import torch

from ..errors import UserError
from ..features import FeatureExtractor, load_feature_net
from ..io.images import uint8_images
from ..pipelines import ModelHandle
from .memorization import INDEX_NAME, TrainIndex, nearest, thumbnails


class CopyGuard:
    def __init__(self, index: TrainIndex, fx: FeatureExtractor):
        self.index, self.fx = index, fx

    @classmethod
    def for_model(cls, model: ModelHandle, fx: FeatureExtractor | None = None) -> "CopyGuard":
        path = model.path / INDEX_NAME
        if not path.is_file():
            raise UserError(f"{model.path} has no copy-check index ({INDEX_NAME}); build it once with "
                            f"artforge eval {model.path} (it needs the training images)")
        try:
            index = TrainIndex.load(path)
        except Exception as e:
            raise UserError(f"{path} is damaged ({type(e).__name__}); delete it and run artforge eval "
                            f"{model.path} to rebuild it") from None
        return cls(index, fx or FeatureExtractor(load_feature_net(model.device)))

    def __call__(self, images: torch.Tensor) -> list[dict]:
        """(B, 3, H, W) in [-1, 1] -> one verdict per image (flagged, nearest training image, distances)."""
        u8 = uint8_images(images)
        m = nearest(self.index, self.fx(u8), thumbnails(u8), k=1)
        return [m.to_json(i) for i in range(len(u8))]
