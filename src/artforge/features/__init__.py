"""The pretrained feature network (EfficientNet-Lite0, ImageNet) shared by metrics and style losses."""

from .efficientnet_lite import EfficientNetLite0, LiteConfig
from .extract import FeatureExtractor, FeatureNetError, load_feature_net, weights_path
from .taps import FeatureTaps, tap_names, tap_stride

__all__ = ["EfficientNetLite0", "FeatureExtractor", "FeatureNetError", "FeatureTaps", "LiteConfig", "load_feature_net",
           "tap_names", "tap_stride", "weights_path"]
