"""The GAN family's part of training: its experiment config and its `step(batch) -> losses`.

One generator forward per step serves both phases (as in the DCGAN reference loop): the D phase scores
the detached fakes, then the G phase scores the same fakes with the updated D.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import torch

from ... import __version__
from ...config import setting
from ...data import DataConfig, load_dataset
from ...data.check import MIN_TRAINING_IMAGES, check_config
from ...errors import ConfigError, DataError, RunError
from ...losses.adversarial import D_LOSSES, G_LOSSES, r1_penalty
from ...models import ARCHS, PRESETS, build_discriminator, build_generator, make_config
from ..augment import AdaptiveAugment, diff_augment
from ..callbacks import ExportWeights, MetricsLog, SampleGrid
from ..interfaces import check_train
from ..loop import Callback, Loop, Phase, TrainConfig
from ..run import run_loop


@dataclass
class GANModelConfig:
    arch: str = setting("lite", studio=True, flag="--arch",
                        help="lite (default, data-efficient) or dcgan (classic baseline)")
    preset: str = setting("tiny", studio=True, flag="--preset",
                          help="network size: tiny (laptop CPU), small, base (GPU)")
    z_dim: int = setting(0, studio=True, help="latent size; 0 = the preset's value")
    g_channels: int = setting(0, studio=True, help="generator width; 0 = the preset's")
    d_channels: int = setting(0, studio=True, help="discriminator width; 0 = the preset's")
    max_channels: int = setting(0, studio=True, help="widest layer; 0 = the preset's")


@dataclass
class GANLossConfig:
    loss: str = setting("auto", studio=True,
                        help="hinge | nonsaturating | auto (hinge for lite, nonsaturating for dcgan)")
    augment: str = setting("auto", studio=True, help="comma list of color,translation,cutout | none | auto (all "
                                                     "for lite, none for dcgan)")
    ada: bool = setting(True, studio=True, help="adapt the augmentation probability to D's overfitting (else "
                                                "fixed aug_p)")
    aug_p: float = setting(0.0, studio=True, max=1, help="starting (or fixed) augmentation probability")
    ada_target: float = setting(0.6, studio=True, max=1, help="target E[sign(D(real))]")
    ada_kimg: float = setting(20.0, studio=True, min=0.001, help="how fast p may move: from 0 to 1 in this many "
                                                                 "thousand images")
    r1_gamma: float = setting(0.0, studio=True, help="R1 weight; 0 = off (lite's D is spectrally normalised)")
    r1_every: int = setting(16, studio=True, help="lazy R1: every N steps, scaled up by N")
    # Adam needs beta < 1, and a rate above 1 only makes the first step overflow.
    lr_g: float = setting(0.0, studio=True, max=1, help="G's learning rate; 0 = the architecture's: 4e-4 for "
                                                        "lite, 2e-4 for dcgan (LITE_LR)")
    lr_d: float = setting(0.0, studio=True, max=1, help="D's learning rate; 0 = the architecture's")
    beta1: float = setting(0.5, studio=True, max=0.9999, help="Adam's beta1")
    beta2: float = setting(0.999, studio=True, max=0.9999, help="Adam's beta2")


@dataclass
class GANEvalConfig:
    kid_every: int = setting(500, studio=True, resume=True, help="KID_effnet on a fixed sample set every N steps "
                                                                 "(and at the end); 0 = off")
    kid_samples: int = setting(256, studio=True, resume=True, help="generated images per evaluation (a few "
                                                                   "hundred: cheap, error bars shown)")
    keep_best: bool = setting(True, studio=True, help="keep the model with the lowest KID_effnet in best/")


def _train_defaults() -> TrainConfig:
    # Batch 8 and channels-last, on CPU too: under the same CPU time more, cheaper updates gave the lite GAN
    # a far lower KID_effnet than batch 32, and channels-last made a step faster here
    # (docs/benchmarks.md, quality section). 12,000 steps of 8 are as many images as 3,000 of 32.
    return TrainConfig(steps=12000, batch_size=8, channels_last="on")


@dataclass
class GANExperiment:
    data: DataConfig = field(default_factory=DataConfig)
    model: GANModelConfig = field(default_factory=GANModelConfig)
    gan: GANLossConfig = field(default_factory=GANLossConfig)
    train: TrainConfig = field(default_factory=_train_defaults)
    eval: GANEvalConfig = field(default_factory=GANEvalConfig)


def network_config(exp: GANExperiment) -> dict:
    """The architecture's own config fields: preset values, explicit overrides, the data resolution."""
    m = exp.model
    if m.arch not in ARCHS:
        raise ConfigError(f"model.arch='{m.arch}' is not known; choose one of: {', '.join(ARCHS)}")
    if m.preset not in PRESETS:
        raise ConfigError(f"model.preset='{m.preset}' is not known; choose one of: {', '.join(PRESETS)}")
    cfg = dict(PRESETS[m.preset])
    for key in ("z_dim", "g_channels", "d_channels", "max_channels"):
        if getattr(m, key) > 0:
            cfg[key] = getattr(m, key)
    cfg["resolution"] = exp.data.resolution
    return cfg


# Adam's learning rate when gan.lr_g / gan.lr_d are 0. Lite at batch 8: 4e-4 for both nets took KID_effnet
# from 137 to 103 on the built-in landscapes and from 136 to 132 on emoji under the same 30 CPU minutes
# (docs/benchmarks.md, quality section). DCGAN keeps its paper's 2e-4.
LITE_LR, DCGAN_LR = 4e-4, 2e-4


def resolved_lr(exp: GANExperiment) -> tuple[float, float]:
    """(lr of G, lr of D) with 0 decided by the architecture; a negative rate is a ConfigError."""
    g = exp.gan
    for key, lr in (("lr_g", g.lr_g), ("lr_d", g.lr_d)):
        if not lr >= 0:                       # NaN too
            raise ConfigError(f"gan.{key}={lr} must be a positive learning rate (or 0 for the architecture's)")
    auto = LITE_LR if exp.model.arch == "lite" else DCGAN_LR
    return g.lr_g or auto, g.lr_d or auto


def resolved_loss(exp: GANExperiment) -> tuple[str, str]:
    """(loss name, augment policy) with 'auto' decided by the architecture."""
    lite = exp.model.arch == "lite"
    loss = exp.gan.loss if exp.gan.loss != "auto" else ("hinge" if lite else "nonsaturating")
    aug = exp.gan.augment if exp.gan.augment != "auto" else ("color,translation,cutout" if lite else "none")
    if loss not in D_LOSSES:
        raise ConfigError(f"gan.loss='{loss}' is not known; choose one of: auto, {', '.join(D_LOSSES)}")
    return loss, "" if aug in ("none", "") else aug


def check(exp: GANExperiment) -> None:
    """Refuse now, in the trainer's words, a setting training would refuse at its start (the data aside)."""
    check_config(exp.data)
    make_config(exp.model.arch, network_config(exp))
    resolved_loss(exp)
    resolved_lr(exp)
    check_train(exp.train)


class GANTask:
    """G and D, their losses, DiffAugment with an adaptive probability, optional lazy R1."""

    ema_module = "G"

    def __init__(self, exp: GANExperiment):
        self.exp = exp
        self.net_config = network_config(exp)
        self.modules = {"G": build_generator(exp.model.arch, self.net_config),
                        "D": build_discriminator(exp.model.arch, self.net_config)}
        self.z_dim = self.modules["G"].config.z_dim
        loss, self.policy = resolved_loss(exp)
        self.lr_g, self.lr_d = resolved_lr(exp)
        self.d_loss, self.g_loss = D_LOSSES[loss], G_LOSSES[loss]
        g = exp.gan
        if self.policy:
            diff_augment(torch.zeros(1, 3, 8, 8), 0.0, self.policy)  # an unknown op fails now, not mid-run
        self.ada = AdaptiveAugment(p=g.aug_p, target=g.ada_target, ada_kimg=g.ada_kimg,
                                   enabled=g.ada and bool(self.policy))
        self._fakes: list[torch.Tensor] = []
        self.fixed_z = torch.randn(64, self.z_dim, generator=torch.Generator().manual_seed(exp.train.seed + 1))

    def phases(self) -> list[Phase]:
        g = self.exp.gan
        betas = (g.beta1, g.beta2)
        return [Phase("D", "D", self.lr_d, betas, freeze_others=False), Phase("G", "G", self.lr_g, betas)]

    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x, self.ada.p, self.policy) if self.policy and self.ada.p > 0 else x

    def loss(self, phase: str, batch: torch.Tensor, step: int):
        G, D = self.modules["G"], self.modules["D"]
        if phase == "D":
            z = torch.randn(batch.shape[0], self.z_dim, device=batch.device)
            fake = G(z)
            self._fakes.append(fake)
            r1 = self.exp.gan.r1_gamma > 0 and step % self.exp.gan.r1_every == 0
            real = batch.detach().requires_grad_(True) if r1 else batch
            real_logits = D(self._augment(real))
            fake_logits = D(self._augment(fake.detach()))
            loss = self.d_loss(real_logits, fake_logits)
            self.ada.accumulate(real_logits)
            logs = {"loss/D": loss.detach(), "D_real": real_logits.detach().float().mean(),
                    "D_fake": fake_logits.detach().float().mean()}
            if r1:
                penalty = r1_penalty(real_logits, real)
                loss = loss + penalty * (self.exp.gan.r1_gamma / 2 * self.exp.gan.r1_every)
                logs["r1"] = penalty.detach()
            return loss, logs
        fake = self._fakes.pop(0)
        loss = self.g_loss(D(self._augment(fake)))
        return loss, {"loss/G": loss.detach()}

    def end_step(self, batch_size: int) -> dict[str, float]:
        self._fakes.clear()
        self.ada.update(batch_size)
        return {"aug_p": self.ada.p} if self.policy else {}

    def state_dict(self) -> dict:
        return {"ada": self.ada.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.ada.load_state_dict(state["ada"])

    @torch.no_grad()
    def preview(self, loop: Loop) -> torch.Tensor:
        """The EMA generator on fixed latents: the same 64 faces of the model at every sample step."""
        G = loop.ema.module if loop.ema else self.modules["G"]
        z = self.fixed_z.to(loop.device)
        return torch.cat([G(z[i:i + 16]).float().cpu() for i in range(0, len(z), 16)])

    def inference_config(self, dataset: dict) -> dict:
        """What `config.json` holds: enough to build and use the generator, and where its data came from."""
        return {"family": "gan", "arch": self.exp.model.arch, "model": self.net_config,
                "artforge_version": __version__, "dataset": dataset}


def train(exp: GANExperiment, run_dir: Path, state: dict | None = None, quiet: bool = False,
          log: Callable[[str], None] = print, callbacks: Sequence[Callback] = ()) -> Loop:
    """Train (or, given a checkpoint `state`, continue) a GAN run in `run_dir`.

    `callbacks` come after the built-in ones (weights, metrics log, sample grids); the CLI adds the
    KID_effnet monitor here, which lives with the metrics.
    """
    data = load_dataset(exp.data, progress=not quiet)
    if data.report.bad or data.report.duplicates:
        log(data.report.summary())
    if len(data) < MIN_TRAINING_IMAGES:      # before the run folder exists: nothing half-made is left
        raise DataError(f"{data.report.root} has {len(data)} usable image(s); training needs at least "
                        f"{MIN_TRAINING_IMAGES} (the copy check compares each with the others); add pictures")
    if state is not None and state.get("manifest_sha256") != data.manifest_sha256:
        raise RunError(f"the images in {exp.data.path} changed since this run started; resuming needs the same "
                       "data (see manifest.json in the run); start a new run to train on the new set")
    torch.manual_seed(exp.train.seed)  # the same seed gives the same initial networks
    task = GANTask(exp)
    run_dir = Path(run_dir)
    dataset_info = {"manifest_sha256": data.manifest_sha256, "images": len(data),
                    "licence": data.manifest.get("licence", "unknown"),
                    "consent": data.manifest.get("consent", "unknown")}
    callbacks = [ExportWeights(run_dir, task.inference_config(dataset_info)), MetricsLog(run_dir),
                 SampleGrid(run_dir, exp.train.sample_every, task.preview), *callbacks]
    return run_loop("gan", exp, task, data, run_dir, state, callbacks, quiet)
