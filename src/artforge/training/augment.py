"""Differentiable augmentation for GANs on small data sets, with an adaptive probability.

``diff_augment`` is DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN
Training", arXiv:2006.10738): colour, translation and cutout, applied to every image D sees (real and
fake, in both the D and the G step), differentiably, so G learns through them. Each op is applied per
sample with probability p, as in ADA (Karras et al. 2020, "Training Generative Adversarial Networks
with Limited Data", arXiv:2006.06676); ``AdaptiveAugment`` tunes p from D's overfitting heuristic
r_t = E[sign(D(real))]. Augmentations that are applied with p < 1 do not leak into G (ADA, sec. 2).

>>> import torch
>>> x = torch.rand(4, 3, 16, 16) * 2 - 1
>>> y = diff_augment(x, p=1.0, generator=torch.Generator().manual_seed(0))
>>> y.shape == x.shape, diff_augment(x, p=0.0) is x
(True, True)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..errors import ConfigError

AUGMENT_OPS = ("color", "translation", "cutout")
TRANSLATION_RATIO = 0.125  # max shift, as a fraction of the image side (DiffAugment's default)
CUTOUT_RATIO = 0.5         # side of the erased square, as a fraction of the image side


def _rand(shape: tuple[int, ...], x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Uniform [0, 1) noise drawn on the generator's device (else x's), returned on x's device."""
    device = generator.device if generator is not None else x.device
    return torch.rand(shape, generator=generator, device=device).to(x.device)


def _randint(low: int, high: int, shape: tuple[int, ...], x: torch.Tensor, generator) -> torch.Tensor:
    device = generator.device if generator is not None else x.device
    return torch.randint(low, high, shape, generator=generator, device=device).to(x.device)


def _color(x: torch.Tensor, apply: torch.Tensor, generator) -> torch.Tensor:
    """Brightness +-0.5, saturation x[0, 2], contrast x[0.5, 1.5] (DiffAugment's ranges, x in [-1, 1])."""
    b = x.shape[0]
    m = apply.to(x.dtype).view(b, 1, 1, 1)                                        # (B, 1, 1, 1) 0/1
    brightness = (_rand((b, 1, 1, 1), x, generator) - 0.5).to(x.dtype) * m
    saturation = 1 + ((_rand((b, 1, 1, 1), x, generator) * 2 - 1).to(x.dtype)) * m
    contrast = 1 + ((_rand((b, 1, 1, 1), x, generator) - 0.5).to(x.dtype)) * m
    x = x + brightness
    gray = x.mean(dim=1, keepdim=True)                                            # (B, 1, H, W)
    x = (x - gray) * saturation + gray
    mean = x.mean(dim=(1, 2, 3), keepdim=True)                                    # (B, 1, 1, 1)
    return (x - mean) * contrast + mean


def _shift_rows(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Move each sample's rows down by shift[b] pixels (up if negative), filling with zeros."""
    b, c, h, w = x.shape
    padded = F.pad(x, (0, 0, 1, 1))                                                 # (B, C, H+2, W), zero rows at 0 and H+1
    rows = torch.arange(h, device=x.device).view(1, h) - shift.view(b, 1) + 1       # (B, H) rows of padded
    rows = rows.clamp(0, h + 1).view(b, 1, h, 1).expand(b, c, h, w)
    return padded.gather(2, rows)                                                   # (B, C, H, W)


def _translation(x: torch.Tensor, apply: torch.Tensor, generator) -> torch.Tensor:
    """Shift by up to 1/8 of the side in x and y, zero-padding the uncovered border."""
    b, _, h, w = x.shape
    sy, sx = int(h * TRANSLATION_RATIO + 0.5), int(w * TRANSLATION_RATIO + 0.5)
    dy = _randint(-sy, sy + 1, (b,), x, generator) * apply
    dx = _randint(-sx, sx + 1, (b,), x, generator) * apply
    x = _shift_rows(x, dy)
    return _shift_rows(x.transpose(2, 3), dx).transpose(2, 3)


def _cutout(x: torch.Tensor, apply: torch.Tensor, generator) -> torch.Tensor:
    """Zero a square of half the side at a random centre (it may hang over the border)."""
    b, _, h, w = x.shape
    ch, cw = int(h * CUTOUT_RATIO + 0.5), int(w * CUTOUT_RATIO + 0.5)
    cy = _randint(0, h + (1 - ch % 2), (b, 1, 1), x, generator)
    cx = _randint(0, w + (1 - cw % 2), (b, 1, 1), x, generator)
    ys = torch.arange(h, device=x.device).view(1, h, 1) - (cy - ch // 2)             # (B, H, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, w) - (cx - cw // 2)             # (B, 1, W)
    inside = (ys >= 0) & (ys < ch) & (xs >= 0) & (xs < cw)                            # (B, H, W)
    keep = ~(inside & apply.view(b, 1, 1).bool())
    return x * keep.unsqueeze(1).to(x.dtype)                                          # (B, C, H, W)


_OPS = {"color": _color, "translation": _translation, "cutout": _cutout}


def parse_policy(policy: str) -> list[str]:
    """'color,translation' -> ['color', 'translation']; an unknown op is a ConfigError."""
    ops = [op.strip() for op in policy.split(",") if op.strip()]
    for op in ops:
        if op not in _OPS:
            raise ConfigError(f"unknown augment op {op!r} in policy {policy!r}; valid ops: {', '.join(AUGMENT_OPS)}")
    return ops


def diff_augment(
    x: torch.Tensor,
    p: float,
    policy: str = "color,translation,cutout",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Augment a batch (B, C, H, W) in [-1, 1]: each op of `policy` hits each sample with probability p.

    Differentiable w.r.t. x. p = 0 returns x itself. All randomness comes from `generator` when given
    (draws happen on the generator's device and move to x's), so a seeded generator replays exactly.

    >>> import torch
    >>> g = torch.Generator().manual_seed(1)
    >>> diff_augment(torch.zeros(2, 3, 8, 8), 1.0, "cutout", g).shape
    torch.Size([2, 3, 8, 8])
    """
    ops = parse_policy(policy)
    if not 0.0 <= p <= 1.0:
        raise ConfigError(f"augment probability must be in [0, 1], got {p}")
    if p == 0.0 or not ops:
        return x
    b = x.shape[0]
    for op in ops:
        apply = _rand((b,), x, generator) < p  # (B,) which samples this op hits
        x = _OPS[op](x, apply.long() if op == "translation" else apply, generator)
    return x


class AdaptiveAugment:
    """ADA's controller for the augment probability p (Karras et al. 2020, sec. 3).

    r_t = E[sign(D(real))] over the last `interval` D steps; D is overfitting when r_t > target, then p
    rises, else it falls, by (batch_size * interval) / (ada_kimg * 1000) per adjustment: p can go from
    0 to 1 in `ada_kimg` thousand real images. Disabled, p stays where it was set. State is plain
    Python numbers, for checkpoints. Statistics stay on the device until `update` reads them once per
    interval (one sync). Under torch.distributed the statistics are summed over ranks, so p agrees.

    >>> import torch
    >>> ada = AdaptiveAugment(interval=1)
    >>> ada.accumulate(torch.ones(8)); ada.update(batch_size=8)
    >>> round(ada.p, 4), ada.rt
    (0.0004, 1.0)
    """

    def __init__(
        self,
        p: float = 0.0,
        target: float = 0.6,
        ada_kimg: float = 20.0,
        interval: int = 4,
        enabled: bool = True,
        p_max: float = 1.0,
    ):
        if not 0.0 <= p <= p_max <= 1.0:
            raise ConfigError(f"augment p must satisfy 0 <= p <= p_max <= 1, got p={p}, p_max={p_max}")
        if interval < 1 or ada_kimg <= 0:
            raise ConfigError(f"ADA needs interval >= 1 and ada_kimg > 0, got {interval} and {ada_kimg}")
        self.p, self.target, self.ada_kimg = float(p), float(target), float(ada_kimg)
        self.interval, self.enabled, self.p_max = int(interval), bool(enabled), float(p_max)
        self.rt = 0.0
        self._calls = 0
        self._sign_sum: torch.Tensor | float = 0.0
        self._count = 0

    def accumulate(self, real_logits: torch.Tensor) -> None:
        """Record the signs of D's logits on a (augmented) real batch; call it every D step."""
        if not self.enabled:
            return
        signs = torch.sign(real_logits.detach().float()).sum()
        self._sign_sum = self._sign_sum + signs
        self._count += real_logits.numel()

    def update(self, batch_size: int) -> None:
        """Call once per optimizer step; every `interval` calls, move p toward the target r_t."""
        if not self.enabled:
            return
        self._calls += 1
        if self._calls % self.interval:
            return
        device = self._sign_sum.device if isinstance(self._sign_sum, torch.Tensor) else torch.device("cpu")
        stats = torch.tensor([float(self._sign_sum), float(self._count)], dtype=torch.float64, device=device)
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.all_reduce(stats)  # every rank sees the same r_t, so p stays the same everywhere
        if stats[1] == 0:
            return
        self.rt = float(stats[0] / stats[1])
        step = batch_size * self.interval / (self.ada_kimg * 1000.0)
        direction = (self.rt > self.target) - (self.rt < self.target)  # sign(r_t - target)
        self.p = min(max(self.p + direction * step, 0.0), self.p_max)
        self._sign_sum, self._count = 0.0, 0

    def state_dict(self) -> dict[str, float | int | bool]:
        return {
            "p": self.p, "rt": self.rt, "target": self.target, "ada_kimg": self.ada_kimg,
            "interval": self.interval, "enabled": self.enabled, "p_max": self.p_max,
            "calls": self._calls, "sign_sum": float(self._sign_sum), "count": self._count,
        }  # fmt: skip

    def load_state_dict(self, state: dict) -> None:
        self.p, self.rt = float(state["p"]), float(state["rt"])
        self.target, self.ada_kimg = float(state["target"]), float(state["ada_kimg"])
        self.interval, self.enabled, self.p_max = int(state["interval"]), bool(state["enabled"]), float(state["p_max"])
        self._calls, self._sign_sum, self._count = int(state["calls"]), float(state["sign_sum"]), int(state["count"])
