"""Feature taps read the network's own intermediate tensors and leave its outputs alone."""

from __future__ import annotations

import pytest
import torch

from artforge.features import EfficientNetLite0
from artforge.features.taps import FeatureTaps, tap_names, tap_stride


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return EfficientNetLite0().eval().requires_grad_(False).to(memory_format=torch.channels_last)


def test_taps_equal_the_sequential_network(net):
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    names = ("stem", "blocks.1.expand", "blocks.1.depthwise", "blocks.1", "blocks.4", "blocks.5.expand", "head")
    got = FeatureTaps(net, names)(x)
    assert list(got) == list(names)
    with torch.no_grad():
        h = net.stem(net.normalize(x).contiguous(memory_format=torch.channels_last))
        assert torch.equal(got["stem"], h)
        for i, block in enumerate(net.blocks):
            if i == 1:
                e = block.expand(h)
                assert torch.equal(got["blocks.1.expand"], e)
                assert torch.equal(got["blocks.1.depthwise"], block.depthwise(e))
            h = block(h)
            if f"blocks.{i}" in got:
                assert torch.allclose(got[f"blocks.{i}"], h, atol=1e-6), i
        # the head tap pooled is exactly what forward_features gives
        assert torch.allclose(got["head"].mean(dim=(2, 3)),
                              net.forward_features(net.normalize(x).contiguous(memory_format=torch.channels_last)),
                              atol=1e-6)


def test_strides_and_shapes_agree(net):
    x = torch.rand(1, 3, 32, 32)
    names = [n for n in tap_names(net) if n != "head"][::3] + ["head"]
    got = FeatureTaps(net, names)(x)
    for name, f in got.items():
        assert f.shape[-1] == 32 // tap_stride(net, name), name
    assert tap_stride(net, "blocks.1.expand") == 2 and tap_stride(net, "blocks.1.depthwise") == 4


def test_gradients_reach_the_image_and_outputs_do_not_change(net):
    x = torch.rand(1, 3, 32, 32, requires_grad=True)
    before = net(x.detach()).clone()
    FeatureTaps(net, ("blocks.3.expand", "blocks.5"))(x)["blocks.5"].square().mean().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    assert torch.equal(net(x.detach()), before)
    assert not any(p.requires_grad for p in net.parameters())


def test_unknown_taps_name_the_valid_ones(net):
    with pytest.raises(ValueError, match="blocks.0.expand.*taps are: stem"):
        FeatureTaps(net, ("blocks.0.expand",))      # block 0 has no expansion
    with pytest.raises(ValueError, match="none given"):
        FeatureTaps(net, ())
