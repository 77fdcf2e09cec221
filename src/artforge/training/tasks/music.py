"""The music family's part of training: a MusicVAE on melody windows.

Loss per melody: cross-entropy summed over steps + beta * max(KL - free_bits, 0), with beta warmed up
linearly (KL annealing) and free bits leaving the first `free_bits` nats of KL unpenalised, as MusicVAE
does. Scheduled sampling is the parallel kind (Duckworth et al. 2019, arXiv:1906.04331): a first
teacher-forced pass without gradients proposes tokens, and each step reads its own proposal instead of
the true token with probability p, which ramps up over training; it keeps the LSTM's fast whole-sequence
kernels instead of a Python loop over steps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ... import __version__
from ...config import from_dict, setting, to_dict
from ...data.melody import ATTRIBUTES, STEPS_PER_BAR, attribute_values
from ...data.music import MelodySplit, MusicDataConfig, check_music_config, load_melodies
from ...errors import ConfigError, RunError
from ...io.weights import save_weights
from ...models.musicvae import MusicVAE, MusicVAEConfig, SegmentVAE, SegmentVAEConfig
from ...io.weights import CONFIG_NAME, load_config
from ...models.pretrained import from_pretrained, resolve_model_dir
from ...ops.melody import reconstruction
from ..callbacks import ExportWeights, MetricsLog
from ..interfaces import check_train
from ..loop import Callback, Loop, Phase, TrainConfig
from ..run import run_loop


@dataclass
class MusicModelConfig:
    decoder: str = setting("auto", studio=True, help="auto (flat for 2 bars, segments for longer) | flat | "
                                                     "hierarchical | segments")
    embed_dim: int = setting(64, studio=True, min=1, help="token embedding size")
    enc_hidden: int = setting(128, studio=True, min=1, help="encoder LSTM width")
    z_dim: int = setting(0, studio=True, help="latent size; 0 = 128 for 2 bars, 256 for 16 bars")
    dec_hidden: int = setting(256, studio=True, min=1, help="decoder LSTM width")
    dec_layers: int = setting(0, studio=True, help="decoder LSTM layers; 0 = 2 for 2 bars, 1 for 16 (a bar's 16 "
                                                   "steps need less; 1.7x faster)")
    conductor_hidden: int = setting(256, studio=True, min=1, help="hierarchical: the conductor's LSTM width")
    conductor_dim: int = setting(128, studio=True, min=1, help="hierarchical: the conductor's output size")
    encoder_pool: str = setting("auto", studio=True, help='hierarchical: z from every bar\'s summary ("bars", '
                                                          'default) or the last states')
    segment_model: str = "starter:melody-2bar"  # segments: the trained 2-bar model (run or starter) that plays them
    top_hidden: int = setting(512, studio=True, min=1, help="segments: width of the encoder over segment latents "
                                                            "and of the conductor")


@dataclass
class VAELossConfig:
    lr: float = setting(1e-3, studio=True, max=1, help="Adam's learning rate")
    beta: float = setting(0.2, studio=True, help="weight of the KL term once warmed up")
    kl_warmup: int = setting(1000, studio=True, help="steps over which beta rises from 0")
    free_bits: float = setting(0.0, studio=True, help="nats of KL per melody left unpenalised; 0 = 48 for 2 bars, "
                                                      "256 for 16 (hierarchical), 1024 for segments")
    sampling_max: float = setting(0.5, studio=True, max=1, help="scheduled sampling: final probability of reading "
                                                                "the model's own token")
    sampling_rampup: int = setting(2000, studio=True, help="steps over which it rises from 0 (0 = pure teacher "
                                                           "forcing)")


@dataclass
class MusicEvalConfig:
    every: int = setting(500, studio=True, help="held-out reconstruction accuracy every N steps (and at the end); "
                                                "0 = off")
    melodies: int = setting(512, studio=True, min=1, help="held-out windows used for it")


def _train_defaults() -> TrainConfig:
    return TrainConfig(steps=4000, batch_size=64, grad_clip=1.0, ema_kimg=0.0, sample_every=1000)


@dataclass
class MusicExperiment:
    data: MusicDataConfig = field(default_factory=MusicDataConfig)
    model: MusicModelConfig = field(default_factory=MusicModelConfig)
    vae: VAELossConfig = field(default_factory=VAELossConfig)
    train: TrainConfig = field(default_factory=_train_defaults)
    eval: MusicEvalConfig = field(default_factory=MusicEvalConfig)


DECODERS = ("auto", "flat", "hierarchical", "segments")


def decoder_kind(exp: MusicExperiment) -> str:
    m, bars = exp.model, exp.data.bars
    if m.decoder not in DECODERS:
        raise ConfigError(f"model.decoder='{m.decoder}' is not known; choose {', '.join(DECODERS)}")
    if m.decoder == "auto":
        return "segments" if bars > 2 else "flat"
    return m.decoder


def network_config(exp: MusicExperiment) -> MusicVAEConfig | SegmentVAEConfig:
    m, bars = exp.model, exp.data.bars
    kind = decoder_kind(exp)
    if m.encoder_pool not in ("auto", "last", "bars"):
        raise ConfigError(f"model.encoder_pool='{m.encoder_pool}' is not known; choose auto, last or bars")
    if kind == "segments":
        seg = segment_config(m.segment_model)
        if exp.data.steps % seg.steps or exp.data.steps <= seg.steps:
            raise ConfigError(f"model.segment_model={m.segment_model} plays {seg.steps // STEPS_PER_BAR}-bar "
                              f"segments; data.bars={bars} must be a larger multiple of that")
        return SegmentVAEConfig(steps=exp.data.steps, segment=seg, hidden=m.top_hidden, z_dim=m.z_dim or 256)
    hier = kind == "hierarchical"
    return MusicVAEConfig(steps=exp.data.steps, hierarchical=hier, embed_dim=m.embed_dim, enc_hidden=m.enc_hidden,
                          z_dim=m.z_dim or (256 if bars >= 16 else 128), dec_hidden=m.dec_hidden,
                          dec_layers=m.dec_layers or (1 if hier else 2), conductor_hidden=m.conductor_hidden,
                          conductor_dim=m.conductor_dim,
                          encoder_pool="bars" if m.encoder_pool == "auto" else m.encoder_pool)


def segment_config(name: str) -> MusicVAEConfig:
    """The architecture of the 2-bar (or any flat) music model `name` (run folder or starter)."""
    folder = resolve_model_dir(name)
    config = load_config(folder / CONFIG_NAME)
    if config.get("family") != "music" or config.get("arch") != "musicvae" or config["model"].get("hierarchical"):
        raise ConfigError(f"model.segment_model={name} is not a flat (2-bar) music model; train one with: "
                          "artforge train music DIR --run RUN --bars 2")
    return from_dict(MusicVAEConfig, config["model"])


def check(exp: MusicExperiment) -> None:
    """Refuse now, in the trainer's words, a setting training would refuse at its start (the data aside)."""
    check_music_config(exp.data)
    network_config(exp)
    check_train(exp.train)


def free_bits(exp: MusicExperiment) -> float:
    if exp.vae.free_bits:
        return exp.vae.free_bits
    kind = decoder_kind(exp)
    return 1024.0 if kind == "segments" else 256.0 if kind == "hierarchical" else 48.0


class MusicTask:
    ema_module = "vae"

    def __init__(self, exp: MusicExperiment):
        self.exp = exp
        self.net_config = network_config(exp)
        if isinstance(self.net_config, SegmentVAEConfig):
            vae = SegmentVAE(self.net_config)
            vae.segment.load_state_dict(from_pretrained(exp.model.segment_model).state_dict())
            vae.freeze_segment()
        else:
            vae = MusicVAE(self.net_config)
        self.modules = {"vae": vae}
        self._latents: dict[int, torch.Tensor] = {}         # segments: melody hash -> segment latents
        self.max_cached = 250_000                            # melodies (about 1 GB for 8 x 128 latents)
        self.free_bits = free_bits(exp)

    def phases(self) -> list[Phase]:
        return [Phase("vae", "vae", self.exp.vae.lr, (0.9, 0.999))]

    def schedule(self, step: int) -> tuple[float, float]:
        """(beta, scheduled-sampling probability) at `step`."""
        v = self.exp.vae
        beta = v.beta * min(1.0, step / v.kl_warmup) if v.kl_warmup > 0 else v.beta
        p = v.sampling_max * min(1.0, step / v.sampling_rampup) if v.sampling_rampup > 0 else 0.0
        return beta, p

    def loss(self, phase: str, x: torch.Tensor, step: int):
        vae = self.modules["vae"]
        beta, p = self.schedule(step)
        if isinstance(vae, SegmentVAE):
            return self._segment_loss(vae, x, beta)
        mu, logvar = vae.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        inputs = vae.shifted_inputs(x)
        if p > 0:
            with torch.no_grad():
                proposal = vae.shifted_inputs(vae.decode_logits(z, inputs).argmax(-1))
            use_own = torch.rand(inputs.shape, device=x.device) < p
            inputs = torch.where(use_own & (inputs != vae.decoder.start), proposal, inputs)
        logits = vae.decode_logits(z, inputs)                               # (B, T, C)
        recon = F.cross_entropy(logits.float().transpose(1, 2), x, reduction="none").sum(1).mean()
        kl = (0.5 * (mu.float() ** 2 + logvar.float().exp() - 1 - logvar.float())).sum(1).mean()
        loss = recon + beta * torch.clamp(kl - self.free_bits, min=0)
        acc = (logits.detach().argmax(-1) == x).float().mean()
        return loss, {"loss/recon": recon.detach(), "loss/kl": kl.detach(), "acc": acc, "beta": torch.tensor(beta),
                      "sampling_p": torch.tensor(p)}

    def _segment_loss(self, vae: SegmentVAE, x: torch.Tensor, beta: float):
        """Learn to reproduce the segment model's latents (its decoder stays as trained)."""
        err, mu, logvar = vae.latent_loss(x, self._segment_mu(vae, x))
        recon = err.float().mean()
        kl = (0.5 * (mu.float() ** 2 + logvar.float().exp() - 1 - logvar.float())).sum(1).mean()
        loss = recon + beta * torch.clamp(kl - self.free_bits, min=0)
        return loss, {"loss/latent": recon.detach(), "loss/kl": kl.detach(), "beta": torch.tensor(beta)}

    def _segment_mu(self, vae: SegmentVAE, x: torch.Tensor) -> torch.Tensor:
        """The frozen segment encoder's answer for each melody of the batch, remembered: a melody (in one
        transposition) comes back every epoch, and encoding its segments is most of a training step."""
        keys = [hash(row.tobytes()) for row in x.cpu().numpy()]
        new = [i for i, k in enumerate(keys) if k not in self._latents]
        if new:
            mu = vae.segment_posterior(x[new])[0].cpu()
            if len(self._latents) + len(new) <= self.max_cached:
                self._latents.update((keys[i], m) for i, m in zip(new, mu))
            else:                                       # full: use these once, remember nothing more
                fresh = dict(zip((keys[i] for i in new), mu))
                return torch.stack([self._latents.get(k, fresh.get(k)) for k in keys]).to(x.device)
        return torch.stack([self._latents[k] for k in keys]).to(x.device)

    def end_step(self, batch_size: int) -> dict[str, float]:
        return {}

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass

    def inference_config(self, dataset: dict) -> dict:
        arch = "musicvae-segments" if isinstance(self.net_config, SegmentVAEConfig) else "musicvae"
        return {"family": "music", "arch": arch, "model": to_dict(self.net_config),
                "artforge_version": __version__, "dataset": dataset}


class HeldOutAccuracy(Callback):
    """Reconstruction accuracy on held-out windows every `every` steps, logged beside the losses."""

    def __init__(self, val: torch.Tensor, every: int, run_dir: Path):
        self.val, self.every = val, every
        self.path = Path(run_dir) / "eval" / "accuracy.jsonl"

    def measure(self, loop: Loop) -> None:
        if not len(self.val):
            return
        module = loop.ema.module if loop.ema else loop.task.modules["vae"]
        was = module.training
        res = reconstruction(module, self.val.to(loop.device))
        module.train(was)
        rec = {"step": loop.step, **res}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")
        loop.log({"step": loop.step, "kimg": loop.nimg / 1000, "val_acc_teacher_forced": res["acc_teacher_forced"],
                  "val_acc_sampled": res["acc_sampled"]})

    def on_step(self, loop: Loop) -> None:
        if self.every > 0 and loop.step % self.every == 0:
            self.measure(loop)

    def on_end(self, loop: Loop) -> None:
        if self.every > 0 and loop.step % self.every:
            self.measure(loop)


class AttributeVectors(Callback):
    """With every checkpoint and at the end, `attributes.safetensors`: per attribute, mean mu of the
    training windows in its top quartile minus that of its bottom quartile (MusicVAE's attribute
    vectors). Written with the checkpoints too, so a run stopped early (Ctrl-C) still samples from where
    its melodies lie and has its attribute sliders."""

    def __init__(self, windows: torch.Tensor, run_dir: Path, limit: int = 4096):
        g = torch.Generator().manual_seed(99)
        self.windows = windows[torch.randperm(len(windows), generator=g)[:limit]]
        self.path = Path(run_dir) / "attributes.safetensors"
        self.written_at: int | None = None                 # the step they were last computed at

    @torch.no_grad()
    def on_end(self, loop: Loop) -> None:
        if self.written_at == loop.step:                    # the final checkpoint just wrote them
            return
        self.written_at = loop.step
        module = loop.ema.module if loop.ema else loop.task.modules["vae"]
        was = module.training
        module.eval()
        mu = torch.cat([module.encode(self.windows[i:i + 512].to(loop.device))[0].float().cpu()
                        for i in range(0, len(self.windows), 512)])
        module.train(was)
        vectors, meta = attribute_vectors(mu, self.windows)
        if vectors:
            save_weights(vectors, self.path, meta)

    def on_checkpoint(self, loop: Loop) -> None:
        self.on_end(loop)


LATENT_MEAN, LATENT_STD = "latent.mean", "latent.std"


def attribute_vectors(mu: torch.Tensor, windows: torch.Tensor) -> tuple[dict[str, torch.Tensor], dict]:
    """({attribute: top-quartile mean mu - bottom-quartile mean mu}, {attribute: 'q25..q75'})."""
    values = [attribute_values(w.numpy()) for w in windows]
    vectors, meta = {}, {}
    for name in ATTRIBUTES:
        v = np.array([d[name] for d in values], dtype=np.float64)
        ok = np.isfinite(v)
        if ok.sum() < 8:
            continue
        lo, hi = np.quantile(v[ok], [0.25, 0.75])
        low, high = ok & (v <= lo), ok & (v >= hi)
        if hi <= lo or not low.any() or not high.any():
            continue
        vectors[name] = mu[torch.from_numpy(high)].mean(0) - mu[torch.from_numpy(low)].mean(0)
        meta[name] = f"{lo:g}..{hi:g}"
    # Where the training melodies sit in latent space: sampling draws from here rather than from N(0, I),
    # which a VAE with generous free bits leaves partly empty (its samples then wander off the style).
    vectors[LATENT_MEAN], vectors[LATENT_STD] = mu.mean(0), mu.std(0)
    return vectors, meta


def train(exp: MusicExperiment, run_dir: Path, state: dict | None = None, quiet: bool = False,
          log: Callable[[str], None] = print, callbacks: Sequence[Callback] = ()) -> Loop:
    """Train (or continue, given a checkpoint `state`) a MusicVAE run in `run_dir`."""
    split: MelodySplit = load_melodies(exp.data, progress=not quiet)
    data = split.train
    if split.report.bad:
        log(split.report.summary())
    if state is not None and state.get("manifest_sha256") != data.manifest_sha256:
        raise RunError(f"the MIDI files in {exp.data.path} changed since this run started; resuming needs the same "
                       "data (see manifest.json in the run); start a new run to train on the new set")
    log(f"{len(data)} training windows of {exp.data.bars} bars, {len(split.val)} held out")
    torch.manual_seed(exp.train.seed)
    task = MusicTask(exp)
    vae = task.modules["vae"]
    if isinstance(vae, SegmentVAE) and state is None and not exp.train.init_from:
        vae.fit_latent_stats(data.windows)      # a resumed or fine-tuned run gets them with its weights
    run_dir = Path(run_dir)
    dataset_info = {"manifest_sha256": data.manifest_sha256, "melodies": len(data),
                    "licence": data.manifest.get("licence", "unknown"),
                    "consent": data.manifest.get("consent", "unknown")}
    g = torch.Generator().manual_seed(1234)
    val = split.val[torch.randperm(len(split.val), generator=g)[:exp.eval.melodies]]
    callbacks = [ExportWeights(run_dir, task.inference_config(dataset_info)), MetricsLog(run_dir),
                 HeldOutAccuracy(val, exp.eval.every, run_dir), AttributeVectors(data.windows, run_dir), *callbacks]
    return run_loop("music", exp, task, data, run_dir, state, callbacks, quiet)
