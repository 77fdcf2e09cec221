"""GAN networks: shapes, gradients, memory formats, autocast, save -> load, config errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from artforge.errors import ConfigError
from artforge.models import (
    ARCHS,
    PRESETS,
    build_discriminator,
    build_generator,
    config_class,
)
from artforge.models.layers import NearestUpConv2d, channels_at

ARCH_NAMES = sorted(ARCHS)


def tiny(arch: str, resolution: int = 32) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    cfg = {"resolution": resolution, **PRESETS["tiny"]}
    return build_generator(arch, cfg), build_discriminator(arch, cfg)


def z_for(G: torch.nn.Module, batch: int) -> torch.Tensor:
    return torch.randn(batch, G.config.z_dim, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("arch", ARCH_NAMES)
@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("resolution", [32, 64])
def test_shapes_every_preset(arch, preset, resolution):
    cfg = {"resolution": resolution, **PRESETS[preset]}
    G, D = build_generator(arch, cfg), build_discriminator(arch, cfg)
    with torch.no_grad():
        x = G(z_for(G, 2))
        assert x.shape == (2, 3, resolution, resolution)
        assert D(x).shape == (2,)


@pytest.mark.parametrize("arch", ARCH_NAMES)
def test_generator_range_and_discriminator_logits(arch):
    G, D = tiny(arch)
    x = G(z_for(G, 4) * 10)  # large latents still land inside tanh's range
    assert x.min() >= -1 and x.max() <= 1
    logits = D(x)
    assert logits.shape == (4,) and logits.dtype == torch.float32 and torch.isfinite(logits).all()
    assert D(x[:1]).shape == (1,)  # batch of one: the minibatch-stddev layer copes


@pytest.mark.parametrize("arch", ARCH_NAMES)
def test_gradients_reach_every_parameter(arch):
    G, D = tiny(arch)
    D(G(z_for(G, 4))).mean().backward()
    for name, module in (("G", G), ("D", D)):
        for pname, p in module.named_parameters():
            assert p.grad is not None, f"{name}.{pname} got no gradient"
            assert p.grad.abs().sum() > 0, f"{name}.{pname} got a zero gradient"


@pytest.mark.parametrize("arch", ARCH_NAMES)
def test_channels_last_matches_contiguous(arch):
    G, D = tiny(arch)
    G.eval(), D.eval()
    z = z_for(G, 2)
    with torch.no_grad():
        ref_x = G(z)
        ref_logits = D(ref_x)
        G2, D2 = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
        x = G2(z)
        logits = D2(ref_x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(x, ref_x, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(logits, ref_logits, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("arch", ARCH_NAMES)
def test_autocast_bfloat16(arch):
    G, D = tiny(arch)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        x = G(z_for(G, 2))
        logits = D(x)
    assert x.shape == (2, 3, 32, 32) and logits.shape == (2,)
    assert torch.isfinite(logits.float()).all()
    logits.float().mean().backward()
    assert all(p.grad is not None for p in G.parameters())


@pytest.mark.parametrize("arch", ARCH_NAMES)
def test_safetensors_round_trip(arch, tmp_path):
    G, D = tiny(arch)
    G(z_for(G, 4)), D(torch.rand(4, 3, 32, 32))  # move BatchNorm statistics and spectral-norm vectors off init
    G.eval(), D.eval()
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    for module, inputs in ((G, z_for(G, 2)), (D, x)):
        path = tmp_path / "weights.safetensors"
        save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(path))
        torch.manual_seed(123)
        fresh = type(module)(module.config).eval()
        fresh.load_state_dict(load_file(str(path)))
        with torch.no_grad():
            assert torch.equal(fresh(inputs), module(inputs))


@pytest.mark.parametrize("arch", ARCH_NAMES)
@pytest.mark.parametrize("resolution", [8, 48, 2048])
def test_unsupported_resolution_is_a_config_error(arch, resolution):
    with pytest.raises(ConfigError, match="resolution"):
        build_generator(arch, {"resolution": resolution})
    with pytest.raises(ConfigError, match="resolution"):
        config_class(arch)(resolution=resolution)


def test_unknown_arch_and_field_are_config_errors():
    with pytest.raises(ConfigError, match="lite.*dcgan|dcgan.*lite"):
        build_generator("stylegan9", {})
    with pytest.raises(ConfigError, match="lite"):
        build_discriminator("nope", {})
    with pytest.raises(ConfigError, match="g_channels"):
        build_generator("lite", {"g_chanels": 4})
    with pytest.raises(ConfigError, match="d_channels"):
        build_generator("dcgan", {"d_channels": 0})


def test_presets_use_only_shared_fields():
    for arch in ARCHS:
        fields = set(config_class(arch).__dataclass_fields__)
        for preset in PRESETS.values():
            assert set(preset) <= fields - {"resolution"}


def test_channel_schedule():
    assert [channels_at(r, 16, 256) for r in (4, 32, 64, 256, 1024)] == [256, 128, 64, 16, 8]
    G = build_generator("dcgan", {})  # the defaults are the PyTorch DCGAN example (ngf = 64)
    assert [m.out_channels for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)] == [512, 256, 128, 64, 3]


def test_fused_upsample_conv_equals_upsample_then_conv():
    torch.manual_seed(0)
    conv = NearestUpConv2d(5, 4).double()
    x = torch.randn(2, 5, 7, 6, dtype=torch.float64)
    ref = F.conv2d(F.interpolate(x, scale_factor=2.0, mode="nearest"), conv.weight, conv.bias, padding=1)
    torch.testing.assert_close(conv(x), ref)


def test_in_eval_mode_an_image_depends_on_its_own_latent_alone():
    """In eval mode an image is a function of the weights, BatchNorm's buffers and its own latent: a fresh
    copy of the same weights makes the same images, and an image is the same whatever else is in its batch,
    bit for bit on the batch-invariant path."""
    from artforge.pipelines.generate import batch_invariant_forward

    G, _ = tiny("lite")
    z = z_for(G, 3)
    G.eval()
    before = batch_invariant_forward(G, z)
    G.train()
    with torch.no_grad():
        G(torch.randn(4, G.config.z_dim, generator=torch.Generator().manual_seed(9)) * 3)  # moves BN running stats
    G.eval()
    after = batch_invariant_forward(G, z)
    alone = batch_invariant_forward(G, z[1:2])
    assert not torch.equal(before, after)           # the training-mode pass did update BatchNorm's statistics
    G2, _ = tiny("lite")
    G2.eval()
    assert torch.equal(batch_invariant_forward(G2, z), before)   # same weights and buffers: same images
    assert torch.equal(after[1:2], alone)


def test_dcgan_defaults_are_the_pytorch_reference_network():
    """Same weights -> same outputs as the DCGAN of the PyTorch examples (nz=100, ngf=ndf=64, 64 px)."""
    from torch import nn

    nz, ngf, ndf = 100, 64, 64
    ref_g = nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
        nn.ConvTranspose2d(ngf, 3, 4, 2, 1, bias=False), nn.Tanh(),
    )
    ref_d = nn.Sequential(
        nn.Conv2d(3, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),  # the example's Sigmoid lives in our loss
    )
    G, D = build_generator("dcgan", {}), build_discriminator("dcgan", {})
    for ours, ref in ((G, ref_g), (D, ref_d)):
        mine, theirs = list(ours.state_dict().values()), list(ref.state_dict().values())
        assert [t.shape for t in mine] == [t.shape for t in theirs]
        ref.load_state_dict(dict(zip(ref.state_dict(), mine)))
    z = torch.randn(4, nz)
    torch.testing.assert_close(G(z), ref_g(z[:, :, None, None]))
    x = torch.rand(4, 3, 64, 64) * 2 - 1
    torch.testing.assert_close(D(x), ref_d(x).flatten())
