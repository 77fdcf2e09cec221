"""MusicVAE for monophonic melodies (Roberts et al. 2018, "A Hierarchical Latent Vector Model for
Learning Long-Term Structure in Music", arXiv:1803.05428).

Encoder: a bidirectional LSTM over the token sequence; its last states give mu and sigma of q(z|x).
Decoder, 2 bars: an LSTM that starts from z and reads the previous token (and z) at every step.
Decoder, 16 bars: the hierarchical one: a "conductor" LSTM turns z into one embedding per bar, and the
bottom LSTM plays each bar from its embedding alone. Each bar starts from a START token rather than from
the last note of the bar before, so all bars decode side by side: a 16-bar melody is 16 sequential LSTM
steps, not 256 (the same separation the paper uses to force the decoder to listen to the conductor).
SegmentVAE, the default for 16 bars: the same conductor hierarchy over 2-bar segments, played by a trained
2-bar MusicVAE (see its docstring).

>>> m = MusicVAE(MusicVAEConfig(steps=32, z_dim=16, enc_hidden=32, dec_hidden=32, embed_dim=8))
>>> x = torch.randint(0, 90, (4, 32))
>>> logits, mu, logvar = m(x)
>>> logits.shape, mu.shape
(torch.Size([4, 32, 90]), torch.Size([4, 16]))
>>> m.decode(torch.randn(2, 16)).shape
torch.Size([2, 32])
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    encoder_pool: str = "last"      # hierarchical encoder: z from the bar LSTM's last states, or "bars": from all

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
        if c.encoder_pool not in ("last", "bars"):
            raise ValueError(f"encoder_pool={c.encoder_pool!r}: choose last or bars")
        # "bars": z reads every bar's context vector, not only the two final states, so a long melody does
        # not have to squeeze through one recurrent state of 2 * enc_hidden numbers.
        self.pool_bars = c.hierarchical and c.encoder_pool == "bars"
        width = 2 * c.enc_hidden * (c.bars if self.pool_bars else 1)
        self.to_mu = nn.Linear(width, c.z_dim)
        self.to_logvar = nn.Linear(width, c.z_dim)

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
            bars = bars.reshape(B, -1, bars.shape[-1])
            if self.pool_bars:
                h = self.bar_lstm(bars)[0].reshape(B, -1)                               # (B, U*2H)
            else:
                h = self._summary(self.bar_lstm, bars)                                  # (B, 2H)
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


class _Autoencoder(nn.Module):
    """forward() for a melody VAE that has encode, shifted_inputs and decode_logits."""

    def forward(self, x: torch.Tensor, z: torch.Tensor | None = None):
        """(logits, mu, logvar) for a batch of melodies (B, T); z defaults to a sample of q(z|x) when
        training and to its mean otherwise."""
        mu, logvar = self.encode(x)
        if z is None:
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.decode_logits(z, self.shifted_inputs(x)), mu, logvar


class MusicVAE(_Autoencoder):
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


@dataclass
class SegmentVAEConfig:
    steps: int = 256                # tokens per melody: a whole number of the segment model's melodies
    segment: MusicVAEConfig = field(default_factory=MusicVAEConfig)    # the 2-bar model that plays segments
    hidden: int = 512               # top encoder (both directions together) and conductor width
    z_dim: int = 256
    max_weight: float = 100.0       # cap on a segment latent dimension's weight in the latent loss

    @property
    def segments(self) -> int:
        return self.steps // self.segment.steps

    @property
    def n_classes(self) -> int:
        return self.segment.n_classes


class SegmentVAE(_Autoencoder):
    """A hierarchical MusicVAE for long melodies built on a trained 2-bar one (the "segment model").

    The melody is cut into 2-bar segments; the segment model's encoder turns each into its latent, a
    bidirectional LSTM over those latents gives q(z|x), and the conductor LSTM turns z back into one latent
    per segment, which the segment model's decoder plays. It is MusicVAE's conductor hierarchy with 2-bar
    subsequences instead of 1-bar ones and a bottom level that was trained first, on its own: the top is
    then trained to reproduce the segment latents (a weighted squared error, each dimension weighted by
    how precisely the segment decoder needs it: (spread of the latent / its posterior sigma)^2), which
    takes minutes where learning the same through the token loss took hours (docs/models.md).

    Same interface as MusicVAE: encode, decode, decode_logits, shifted_inputs, forward.
    """

    def __init__(self, config: SegmentVAEConfig):
        super().__init__()
        self.config = c = config
        seg = c.segment
        if seg.hierarchical or c.steps % seg.steps or c.steps <= seg.steps:
            raise ValueError(f"steps={c.steps} must be a multiple (>1) of a flat segment model's {seg.steps} steps")
        if c.hidden % 2:
            raise ValueError(f"hidden={c.hidden} must be even (the encoder is bidirectional)")
        self.segment = MusicVAE(seg)
        S, H, n = seg.z_dim, c.hidden, c.segments
        # Statistics of the segment latents over the training set (set by `fit_latent_stats` before training).
        self.register_buffer("latent_mean", torch.zeros(S))
        self.register_buffer("latent_std", torch.ones(S))
        self.register_buffer("latent_weight", torch.ones(S))
        self.enc = nn.LSTM(S, H // 2, batch_first=True, bidirectional=True)
        self.to_mu = nn.Linear(n * H, c.z_dim)
        self.to_logvar = nn.Linear(n * H, c.z_dim)
        self.init = nn.Linear(c.z_dim, 2 * H)
        self.conductor = nn.LSTM(c.z_dim, H, batch_first=True)
        self.out = nn.Linear(H, S)

    @property
    def decoder(self) -> BarDecoder:
        return self.segment.decoder

    def freeze_segment(self) -> None:
        self.segment.requires_grad_(False).eval()

    def train(self, mode: bool = True):
        super().train(mode)
        if not any(p.requires_grad for p in self.segment.parameters()):
            self.segment.eval()                             # a frozen segment model stays in eval mode
        return self

    def _segments(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(-1, self.config.segment.steps)

    @torch.no_grad()
    def segment_posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, logvar) of each segment under the segment model, (B, n, S) each."""
        mu, logvar = self.segment.encode(self._segments(x))
        n = self.config.segments
        return mu.reshape(-1, n, mu.shape[-1]), logvar.reshape(-1, n, mu.shape[-1])

    @torch.no_grad()
    def fit_latent_stats(self, windows: torch.Tensor, batch_size: int = 512) -> None:
        """Set the segment latents' mean, spread and loss weights from training windows (N, steps)."""
        mus, sig = [], []
        for i in range(0, len(windows), batch_size):
            mu, logvar = self.segment_posterior(windows[i:i + batch_size].to(self.latent_mean.device))
            mus.append(mu.reshape(-1, mu.shape[-1]))
            sig.append(torch.exp(0.5 * logvar).reshape(-1, mu.shape[-1]))
        mu, sigma = torch.cat(mus), torch.cat(sig)
        std = mu.std(0).clamp(min=1e-4)
        self.latent_mean.copy_(mu.mean(0))
        self.latent_std.copy_(std)
        self.latent_weight.copy_(((std / sigma.mean(0)) ** 2).clamp(max=self.config.max_weight))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        u = (self.segment_posterior(x)[0] - self.latent_mean) / self.latent_std
        y = self.enc(u)[0].reshape(len(u), -1)
        return self.to_mu(y), self.to_logvar(y)

    def conduct(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, z_dim) -> normalised segment latents (B, n, S)."""
        h, c = torch.tanh(self.init(z)).chunk(2, dim=-1)
        y, _ = self.conductor(z[:, None, :].expand(-1, self.config.segments, -1),
                              (h[None].contiguous(), c[None].contiguous()))
        return self.out(y)

    def segment_latents(self, z: torch.Tensor) -> torch.Tensor:
        """z -> the latents (B * n, S) the segment model decodes."""
        u = self.conduct(z)
        return (u * self.latent_std + self.latent_mean).reshape(-1, u.shape[-1])

    def latent_loss(self, x: torch.Tensor, segment_mu: torch.Tensor | None = None
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(weighted squared error of the conducted segment latents per melody, mu, logvar); `segment_mu`
        (B, n, S): the segment model's encodings of x when the caller already has them."""
        if segment_mu is None:
            segment_mu = self.segment_posterior(x)[0]
        target = (segment_mu - self.latent_mean) / self.latent_std
        y = self.enc(target)[0].reshape(len(x), -1)
        mu, logvar = self.to_mu(y), self.to_logvar(y)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        err = ((self.conduct(z) - target) ** 2 * self.latent_weight).sum((1, 2))
        return err, mu, logvar

    def shifted_inputs(self, x: torch.Tensor) -> torch.Tensor:
        return self.segment.shifted_inputs(self._segments(x)).reshape(x.shape[0], -1)

    def decode_logits(self, z: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        logits = self.segment.decode_logits(self.segment_latents(z), self._segments(inputs))
        return logits.reshape(z.shape[0], self.config.steps, -1)


    @torch.no_grad()
    def decode(self, z: torch.Tensor, temperature: float = 0.0, generator: torch.Generator | None = None,
               gumbel: torch.Tensor | None = None) -> torch.Tensor:
        if temperature > 0 and gumbel is None:
            gumbel = gumbel_noise(z.shape[0], self.config.steps, self.config.segment.n_classes, generator, z.device)
        if gumbel is not None:
            gumbel = gumbel.reshape(-1, self.config.segment.steps, gumbel.shape[-1])
        return self.segment.decode(self.segment_latents(z), temperature, gumbel=gumbel).reshape(z.shape[0], -1)
