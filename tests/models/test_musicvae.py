"""MusicVAE: shapes, gradients, teacher forcing, the hierarchical decoder's bar independence, save/load."""

from __future__ import annotations

import pytest
import torch

from artforge.io.weights import save_config, save_weights
from artforge.models.musicvae import MusicVAE, MusicVAEConfig
from artforge.models.pretrained import from_pretrained

pytestmark = pytest.mark.usefixtures("one_thread")
TINY = dict(z_dim=8, enc_hidden=16, dec_hidden=16, embed_dim=8, conductor_hidden=16, conductor_dim=8)


@pytest.mark.parametrize("steps,hier", [(32, False), (256, True), (64, True)])
def test_shapes_and_gradients(steps, hier):
    torch.manual_seed(0)
    m = MusicVAE(MusicVAEConfig(steps=steps, hierarchical=hier, **TINY)).train()
    x = torch.randint(0, 90, (3, steps))
    logits, mu, logvar = m(x)
    assert logits.shape == (3, steps, 90) and mu.shape == logvar.shape == (3, 8)
    logits.sum().backward()
    missing = [n for n, p in m.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, f"no gradient reaches {missing}"
    out = m.eval().decode(torch.randn(2, 8))
    assert out.shape == (2, steps) and out.dtype == torch.long and 0 <= out.min() and out.max() < 90


def test_teacher_forcing_reads_the_previous_true_token():
    """Changing token t changes the logits at t+1 and later, never at t or before (causality)."""
    torch.manual_seed(0)
    m = MusicVAE(MusicVAEConfig(steps=32, **TINY)).eval()
    x = torch.randint(2, 90, (1, 32))
    z = torch.randn(1, 8)
    a = m.decode_logits(z, m.shifted_inputs(x))
    y = x.clone()
    y[0, 10] = (y[0, 10] + 7) % 90
    b = m.decode_logits(z, m.shifted_inputs(y))
    assert torch.equal(a[0, :11], b[0, :11]) and not torch.allclose(a[0, 11:], b[0, 11:])


def test_hierarchical_bars_start_fresh_and_listen_to_the_conductor():
    """Each bar starts from START: a change in bar 0 leaves bar 1's logits untouched."""
    torch.manual_seed(0)
    m = MusicVAE(MusicVAEConfig(steps=64, hierarchical=True, **TINY)).eval()
    x = torch.randint(2, 90, (1, 64))
    inputs = m.shifted_inputs(x)
    assert inputs[0, 0] == inputs[0, 16] == m.decoder.start
    z = torch.randn(1, 8)
    y = x.clone()
    y[0, 5] = (y[0, 5] + 3) % 90
    a, b = m.decode_logits(z, inputs), m.decode_logits(z, m.shifted_inputs(y))
    assert torch.equal(a[0, 16:], b[0, 16:])
    # and the bars differ only through the conductor: another z changes every bar
    c = m.decode_logits(torch.randn(1, 8), inputs)
    assert all(not torch.allclose(a[0, k * 16:(k + 1) * 16], c[0, k * 16:(k + 1) * 16]) for k in range(4))


def test_sampling_is_seeded_and_temperature_zero_is_argmax():
    torch.manual_seed(0)
    m = MusicVAE(MusicVAEConfig(steps=32, **TINY)).eval()
    z = torch.randn(2, 8)
    g = lambda: torch.Generator().manual_seed(5)
    assert torch.equal(m.decode(z, 1.0, g()), m.decode(z, 1.0, g()))
    assert torch.equal(m.decode(z, 0.0), m.decode(z, 0.0))
    greedy = m.decode(z, 0.0)
    logits = m.decode_logits(z, m.shifted_inputs(greedy))
    assert torch.equal(logits.argmax(-1), greedy)   # argmax decoding is consistent with teacher forcing


def test_save_and_load_round_trip(tmp_path):
    cfg = MusicVAEConfig(steps=32, **TINY)
    m = MusicVAE(cfg).eval()
    save_weights(m, tmp_path / "model.safetensors")
    import dataclasses
    save_config({"family": "music", "arch": "musicvae", "model": dataclasses.asdict(cfg)}, tmp_path / "config.json")
    back = from_pretrained(tmp_path)
    z = torch.randn(3, 8)
    assert isinstance(back, MusicVAE) and torch.equal(back.decode(z), m.decode(z))


def _segment_vae(steps: int = 128) -> "SegmentVAE":
    from artforge.models.musicvae import SegmentVAE, SegmentVAEConfig
    seg = MusicVAEConfig(steps=32, **TINY)
    return SegmentVAE(SegmentVAEConfig(steps=steps, segment=seg, hidden=16, z_dim=8))


def test_segment_vae_trains_the_top_and_leaves_the_segment_model_alone():
    torch.manual_seed(0)
    m = _segment_vae()
    m.freeze_segment()
    m.train()
    assert not m.segment.training, "a frozen segment model stays in eval mode"
    x = torch.randint(0, 90, (3, 128))
    err, mu, logvar = m.latent_loss(x)
    assert err.shape == (3,) and mu.shape == (3, 8)
    (err.mean() + mu.pow(2).sum()).backward()
    assert all(p.grad is None for p in m.segment.parameters())
    assert all(p.grad is not None for n, p in m.named_parameters() if not n.startswith("segment."))
    logits, _, _ = m(x)
    assert logits.shape == (3, 128, 90)


def test_segment_vae_plays_each_segment_with_the_segment_model():
    torch.manual_seed(0)
    m = _segment_vae().eval()
    z = torch.randn(2, 8)
    lat = m.segment_latents(z)                                   # (2 * 4, S)
    assert lat.shape == (8, 8)
    assert torch.equal(m.decode(z), m.segment.decode(lat).reshape(2, 128))
    g = torch.Generator().manual_seed(3)
    a = m.decode(z, temperature=1.0, generator=g)
    b = m.decode(z, temperature=1.0, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and not torch.equal(a, m.decode(z))
    # teacher forcing restarts at every segment, as the segment model was trained
    x = torch.randint(2, 90, (1, 128))
    inputs = m.shifted_inputs(x).reshape(4, 32)
    assert (inputs[:, 0] == m.decoder.start).all() and torch.equal(inputs[:, 1:], x.reshape(4, 32)[:, :-1])


def test_segment_vae_rejects_a_length_that_is_not_whole_segments():
    with pytest.raises(ValueError, match="multiple"):
        _segment_vae(steps=48)
    with pytest.raises(ValueError, match="multiple"):
        _segment_vae(steps=32)


def test_segment_vae_learns_to_reproduce_segment_latents():
    """The top level alone learns: conducted latents of 8 melodies decode like their own encodings."""
    torch.manual_seed(0)
    m = _segment_vae()
    m.freeze_segment()
    x = torch.randint(2, 90, (8, 128))
    m.fit_latent_stats(x)
    opt = torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(200):
        err, mu, logvar = m.latent_loss(x)
        loss = err.mean() + 1e-3 * (0.5 * (mu ** 2 + logvar.exp() - 1 - logvar)).sum(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    m.eval()
    with torch.no_grad():
        own = m.segment.decode(m.segment_posterior(x)[0].reshape(-1, 8)).reshape(8, 128)
        via_top = m.decode(m.encode(x)[0])
    assert (own == via_top).float().mean() > 0.9
