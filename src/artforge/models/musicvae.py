"""MusicVAE for monophonic melodies (Roberts et al. 2018, "A Hierarchical Latent Vector Model for
Learning Long-Term Structure in Music", arXiv:1803.05428).

Encoder: a bidirectional LSTM over the token sequence; its last states give mu and sigma of q(z|x).
Decoder, 2 bars: an LSTM that starts from z and reads the previous token (and z) at every step.
Decoder, 16 bars: the hierarchical one: a "conductor" LSTM turns z into one embedding per bar, and the
bottom LSTM plays each bar from its embedding alone. Each bar starts from a START token rather than from
the last note of the bar before, so all bars decode side by side: a 16-bar melody is 16 sequential LSTM
steps, not 256 (the same separation the paper uses to force the decoder to listen to the conductor).

>>> m = MusicVAE(MusicVAEConfig(steps=32, z_dim=16, enc_hidden=32, dec_hidden=32, embed_dim=8))
>>> x = torch.randint(0, 90, (4, 32))
>>> logits, mu, logvar = m(x)
>>> logits.shape, mu.shape
(torch.Size([4, 32, 90]), torch.Size([4, 16]))
>>> m.decode(torch.randn(2, 16)).shape
torch.Size([2, 32])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..data.melody import N_CLASSES, STEPS_PER_BAR


@dataclass
class MusicVAEConfig:
    steps: int = 32                 # tokens per melody: 32 (2 bars) or 256 (16 bars)
    hierarchical: bool = False      # the conductor decoder (for 16 bars)
    n_classes: int = N_CLASSES
    embed_dim: int = 64
    enc_hidden: int = 128           # per direction
    z_dim: int = 128
    dec_hidden: int = 256
    dec_layers: int = 2
    conductor_hidden: int = 256
    conductor_dim: int = 128        # the embedding of one bar, passed to the bottom decoder

    @property
    def bars(self) -> int:
        return self.steps // STEPS_PER_BAR


class Encoder(nn.Module):
    """A bidirectional LSTM over the tokens. For the hierarchical model it runs within each bar, and a
    second one runs over the bars' summaries: two passes of 16 steps instead of one of 256, which makes a
    training step several times faster on a CPU (the mirror image of the conductor decoder)."""

    def __init__(self, c: MusicVAEConfig):
        super().__init__()
        self.embed = nn.Embedding(c.n_classes, c.embed_dim)
        self.lstm = nn.LSTM(c.embed_dim, c.enc_hidden, batch_first=True, bidirectional=True)
        self.bar_lstm = (nn.LSTM(2 * c.enc_hidden, c.enc_hidden, batch_first=True, bidirectional=True)
                         if c.hierarchical else None)
        self.to_mu = nn.Linear(2 * c.enc_hidden, c.z_dim)
        self.to_logvar = nn.Linear(2 * c.enc_hidden, c.z_dim)

    @staticmethod
    def _summary(lstm: nn.LSTM, x: torch.Tensor) -> torch.Tensor:
        _, (h, _) = lstm(x)                                 # h: (2, N, H): last forward, first backward
        return torch.cat([h[0], h[1]], dim=-1)              # (N, 2H)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        B = x.shape[0]
        if self.bar_lstm is None:
            h = self._summary(self.lstm, self.embed(x))
        else:
            bars = self._summary(self.lstm, self.embed(x.reshape(-1, STEPS_PER_BAR)))    # (B*U, 2H)
            h = self._summary(self.bar_lstm, bars.reshape(B, -1, bars.shape[-1]))      # (B, 2H)
        return self.to_mu(h), self.to_logvar(h)


class BarDecoder(nn.Module):
    """An autoregressive LSTM conditioned on a vector c (z for flat, a bar embedding for hierarchical)."""

    def __init__(self, c: MusicVAEConfig, cond_dim: int):
        super().__init__()
        self.layers, self.hidden = c.dec_layers, c.dec_hidden
        self.embed = nn.Embedding(c.n_classes + 1, c.embed_dim)     # + START
        self.start = c.n_classes
        self.init = nn.Linear(cond_dim, 2 * c.dec_layers * c.dec_hidden)
        self.lstm = nn.LSTM(c.embed_dim + cond_dim, c.dec_hidden, c.dec_layers, batch_first=True)
        self.out = nn.Linear(c.dec_hidden, c.n_classes)

    def initial_state(self, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hc = torch.tanh(self.init(cond)).view(cond.shape[0], 2, self.layers, self.hidden)
        return hc[:, 0].transpose(0, 1).contiguous(), hc[:, 1].transpose(0, 1).contiguous()  # (L, B, H) each

    def forward(self, cond: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: `inputs` (B, T) are the tokens to read (START first) -> logits (B, T, C)."""
        e = self.embed(inputs)
        e = torch.cat([e, cond[:, None, :].expand(-1, e.shape[1], -1)], dim=-1)
        y, _ = self.lstm(e, self.initial_state(cond))
        return self.out(y)

    def generate(self, cond: torch.Tensor, steps: int, temperature: float = 0.0,
                 gumbel: torch.Tensor | None = None) -> torch.Tensor:
        """(B, steps) tokens, one step at a time: argmax at temperature 0, else sampled by the Gumbel-max
        trick, argmax(logits / T + g), with g (B, steps, C) given: a row's noise then decides its notes,
        whatever else shares the batch."""
        state = self.initial_state(cond)
        tok = torch.full((cond.shape[0],), self.start, dtype=torch.long, device=cond.device)
        out = []
        for t in range(steps):
            e = torch.cat([self.embed(tok), cond], dim=-1)[:, None, :]
            y, state = self.lstm(e, state)
            logits = self.out(y[:, 0]).float()
            tok = (logits / temperature + gumbel[:, t]).argmax(-1) if temperature > 0 else logits.argmax(-1)
            out.append(tok)
        return torch.stack(out, dim=1)


class Conductor(nn.Module):
    """z -> one embedding per bar."""

    def __init__(self, c: MusicVAEConfig):
        super().__init__()
        self.hidden, self.bars = c.conductor_hidden, c.bars
        self.init = nn.Linear(c.z_dim, 2 * c.conductor_hidden)
        self.lstm = nn.LSTM(c.z_dim, c.conductor_hidden, batch_first=True)
        self.out = nn.Linear(c.conductor_hidden, c.conductor_dim)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h, c = torch.tanh(self.init(z)).chunk(2, dim=-1)
        y, _ = self.lstm(z[:, None, :].expand(-1, self.bars, -1), (h[None].contiguous(), c[None].contiguous()))
        return torch.tanh(self.out(y))                      # (B, bars, D)


class MusicVAE(nn.Module):
    def __init__(self, config: MusicVAEConfig):
        super().__init__()
        self.config = c = config
        if c.steps % STEPS_PER_BAR:
            raise ValueError(f"steps={c.steps} is not a whole number of {STEPS_PER_BAR}-step bars")
        self.encoder = Encoder(c)
        self.conductor = Conductor(c) if c.hierarchical else None
        self.decoder = BarDecoder(c, c.conductor_dim if c.hierarchical else c.z_dim)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(x)

    def _conds(self, z: torch.Tensor) -> tuple[torch.Tensor, int]:
        """Decoder conditions, one row per sequence the bottom decoder plays, and that sequence's length."""
        if self.conductor is None:
            return z, self.config.steps
        bars = self.conductor(z)                             # (B, U, D)
        return bars.reshape(-1, bars.shape[-1]), STEPS_PER_BAR

    def decode_logits(self, z: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits (B, T, C) given the tokens to read at every step (START at bar starts)."""
        cond, span = self._conds(z)
        logits = self.decoder(cond, inputs.reshape(cond.shape[0], span))
        return logits.reshape(z.shape[0], self.config.steps, -1)

    def shifted_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """What the decoder reads while learning to write `x`: START, then x shifted by one (per bar)."""
        B = x.shape[0]
        span = STEPS_PER_BAR if self.conductor is not None else self.config.steps
        seq = x.reshape(-1, span)
        start = torch.full_like(seq[:, :1], self.decoder.start)
        return torch.cat([start, seq[:, :-1]], dim=1).reshape(B, -1)

    def forward(self, x: torch.Tensor, z: torch.Tensor | None = None):
        """(logits, mu, logvar) for a batch of melodies (B, T); z defaults to a sample of q(z|x)."""
        mu, logvar = self.encode(x)
        if z is None:
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.decode_logits(z, self.shifted_inputs(x)), mu, logvar

    @torch.no_grad()
    def decode(self, z: torch.Tensor, temperature: float = 0.0, generator: torch.Generator | None = None,
               gumbel: torch.Tensor | None = None) -> torch.Tensor:
        """Melodies (B, T) written from latents z (B, z_dim); sampled at temperature > 0 with Gumbel noise
        `gumbel` (B, T, C), or noise drawn from `generator`."""
        cond, span = self._conds(z)
        if temperature > 0 and gumbel is None:
            gumbel = gumbel_noise(z.shape[0], self.config.steps, self.config.n_classes, generator, z.device)
        if gumbel is not None:
            gumbel = gumbel.to(z.device).reshape(cond.shape[0], span, -1)
        return self.decoder.generate(cond, span, temperature, gumbel).reshape(z.shape[0], -1)


def gumbel_noise(batch: int, steps: int, classes: int, generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """Standard Gumbel noise (batch, steps, classes): -log(-log(u)), u uniform in (0, 1)."""
    u = torch.rand(batch, steps, classes, generator=generator).clamp_(1e-10, 1.0 - 1e-7)
    return (-torch.log(-torch.log(u))).to(device)
