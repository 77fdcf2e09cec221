"""Exponential moving average of a network's weights (Karras et al. 2019/2020, with ramp-up).

The half-life is counted in images (`ema_kimg`), not steps, so changing the batch size keeps its meaning;
the ramp-up keeps early EMA weights from lagging behind a short run.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """Keeps `self.module`, a frozen copy of `source` whose weights follow it slowly."""

    def __init__(self, source: nn.Module, ema_kimg: float = 2.0, rampup: float | None = 0.05):
        self.module = copy.deepcopy(source).eval().requires_grad_(False)
        self.ema_kimg = ema_kimg
        self.rampup = rampup

    def beta(self, nimg: int, batch_size: int) -> float:
        ema_nimg = self.ema_kimg * 1000
        if self.rampup is not None:
            ema_nimg = min(ema_nimg, nimg * self.rampup)
        return 0.5 ** (batch_size / max(ema_nimg, 1e-8))

    @torch.no_grad()
    def update(self, source: nn.Module, nimg: int, batch_size: int) -> None:
        beta = self.beta(nimg, batch_size)
        src_params = [p.detach() for p in source.parameters()]
        ema_params = list(self.module.parameters())
        torch._foreach_lerp_(ema_params, src_params, 1.0 - beta)
        # Buffers (BatchNorm statistics, spectral-norm vectors) are copied, not averaged.
        for b_ema, b in zip(self.module.buffers(), source.buffers()):
            b_ema.copy_(b)

    def state_dict(self) -> dict:
        return self.module.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.module.load_state_dict(state)
