"""The one training loop. It owns the order of things; a model family gives it a `Task`.

Per optimizer step: draw `accumulate` micro-batches; for each phase of the task (e.g. D then G) zero its
grads, run forward+backward under autocast for each micro-batch with only that phase's network trainable,
all-reduce grads across ranks, unscale/clip, step, update the scaler; then EMA, the task's end-of-step
hook (e.g. ADA), logging, callbacks, and checkpoints (every N minutes/steps, at the end, on SIGINT/SIGTERM).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from tqdm import tqdm

from ..errors import ConfigError
from . import distributed as D
from .interfaces import (Callback, Phase, Task, TrainConfig, TrainData, TrainingDiverged, TrainingInterrupted,
                         check_train)
from .precision import pick_device, pick_precision
from .checkpoint import latest_checkpoint, rng_state, save_checkpoint, set_rng_state
from .ema import EMA
from .sampler import EpochSampler


ESTIMATE_STEPS = 3      # steps timed (after the first) for the estimate printed before the long work


def duration(seconds: float) -> str:
    """A rough human duration: '40 s', '12 min', '2.5 hours'.

    >>> duration(45), duration(720), duration(9000)
    ('45 s', '12 min', '2.5 hours')
    """
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} hours"


@dataclass
class Loop:
    task: Task
    data: TrainData
    config: TrainConfig
    run_dir: Path
    callbacks: list[Callback] = field(default_factory=list)
    extra_state: dict = field(default_factory=dict)   # saved in every checkpoint (config, manifest hash, ...)
    quiet: bool = False
    write_checkpoints: bool = True    # off for benchmarks and dry runs: nothing is written to run_dir
    fresh: bool = True                # a new run (train.init_from applies), not one about to be resumed
    clock: Callable[[], float] = time.monotonic   # wall seconds (injectable: tests time steps without sleeping)

    def __post_init__(self) -> None:
        cfg = self.config
        check_train(cfg)                  # before any work; again below with the number of processes
        if cfg.threads > 0:
            torch.set_num_threads(cfg.threads)
        self.device = pick_device(cfg.device)
        self.dist = D.init_from_env(self.device.type)
        if self.dist.enabled and self.device.type == "cuda":
            self.device = torch.device("cuda", self.dist.local_rank)
            torch.cuda.set_device(self.device)
        check_train(cfg, self.dist.world)
        if cfg.init_from and self.fresh:
            self._init_from(cfg.init_from)
        self.amp_dtype = pick_precision(cfg.precision, self.device)
        channels_last = cfg.channels_last == "on" or (cfg.channels_last == "auto" and self.device.type == "cuda")
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        for m in self.task.modules.values():
            m.to(self.device, memory_format=self.memory_format)
            D.broadcast_module(m, self.dist)
        self.micro = cfg.batch_size // (cfg.accumulate * self.dist.world)
        self.optimizers = {
            ph.name: torch.optim.Adam(self.task.modules[ph.module].parameters(), lr=ph.lr, betas=ph.betas)
            for ph in self.task.phases()
        }
        fp16 = self.amp_dtype == torch.float16
        self.scalers = {ph: torch.amp.GradScaler(self.device.type, enabled=fp16) for ph in self.optimizers}
        src = self.task.modules.get(self.task.ema_module) if self.task.ema_module else None
        self.ema = EMA(src, cfg.ema_kimg, cfg.ema_rampup) if src is not None and cfg.ema_kimg > 0 else None
        torch.manual_seed(cfg.seed * 7919 + self.dist.rank)
        self.sampler = EpochSampler(len(self.data), cfg.seed, self.dist.rank, self.dist.world)
        self.data_generator = torch.Generator().manual_seed(cfg.seed * 104_729 + self.dist.rank)
        self.step, self.nimg, self.elapsed_s, self.cpu_s = 0, 0, 0.0, 0.0
        self.last_logs: dict[str, float] = {}
        self._stop: str | None = None

    def _init_from(self, name: str) -> None:
        """Fine-tuning: the exported network of another model (the one in its model.safetensors) starts
        with that model's weights; the other networks and the optimizers start fresh."""
        from ..io.weights import WEIGHTS_NAME, load_weights
        from ..models.pretrained import resolve_model_dir

        folder = resolve_model_dir(name)
        module = self.task.modules[self.task.ema_module]
        state = load_weights(folder / WEIGHTS_NAME)
        if self.config.init_partial:          # a changed architecture: what fits starts from the old weights
            own = module.state_dict()
            fits = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
            module.load_state_dict(fits, strict=False)
            fresh = sorted(k for k in own if k not in fits)
            unused = sorted(k for k in state if k not in fits)
            if not self.quiet:
                print(f"init_from {name}: {len(fits)} of {len(own)} tensors loaded; fresh: {', '.join(fresh) or 'none'}"
                      f"; not used: {', '.join(unused) or 'none'}")
            return
        try:
            module.load_state_dict(state, strict=True)
        except RuntimeError as e:
            raise ConfigError(f"train.init_from={name}: its weights do not fit this model's architecture "
                              f"({str(e).splitlines()[0]}); use the same model settings as that run") from None

    # -- state ---------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            "modules": {k: m.state_dict() for k, m in self.task.modules.items()},
            "ema": self.ema.state_dict() if self.ema else {},
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "scalers": {k: s.state_dict() for k, s in self.scalers.items()},
            "task": self.task.state_dict(),
            "sampler": self.sampler.state_dict(),
            "data_rng": self.data_generator.get_state(),
            "rng": rng_state(),
            "nimg": self.nimg, "elapsed_s": self.elapsed_s, "cpu_s": self.cpu_s,
            **self.extra_state,
        }

    def load_state_dict(self, state: dict) -> None:
        for k, m in self.task.modules.items():
            m.load_state_dict(state["modules"][k])
        if self.ema:
            self.ema.load_state_dict(state["ema"])
        for k, o in self.optimizers.items():
            o.load_state_dict(state["optimizers"][k])
        for k, s in self.scalers.items():
            s.load_state_dict(state["scalers"][k])
        self.task.load_state_dict(state["task"])
        self.sampler.load_state_dict(state["sampler"])
        self.step, self.nimg, self.elapsed_s = int(state["step"]), int(state["nimg"]), float(state["elapsed_s"])
        self.cpu_s = float(state.get("cpu_s", 0.0))
        if self.dist.is_main:  # other ranks keep fresh streams: exact resume is a single-process promise
            self.data_generator.set_state(state["data_rng"])
            set_rng_state(state["rng"])

    def checkpoint(self) -> Path | None:
        """Save the state (never non-finite weights: those stop the run, the last good checkpoint kept)."""
        if not self.dist.is_main or not self.write_checkpoints:
            return None
        bad = self._nonfinite_weights()          # rank 0 only here; the weights agree across ranks
        if bad:
            raise self._diverged(f"the weights of {bad} are not finite", self.step)
        path = save_checkpoint(self.run_dir, self.state_dict(), self.step, self.config.keep_checkpoints)
        for cb in self.callbacks:
            cb.on_checkpoint(self)
        return path

    # -- divergence ----------------------------------------------------------------------------
    def _nonfinite_weights(self) -> str | None:
        """The name of the first network (or its EMA copy) holding a NaN or an infinity, else None."""
        nets = dict(self.task.modules)
        if self.ema:
            nets[f"{self.task.ema_module} (EMA)"] = self.ema.module
        for name, m in nets.items():
            ok = [torch.isfinite(t).all() for t in [*m.parameters(), *m.buffers()] if t.is_floating_point()]
            if ok and not bool(torch.stack(ok).all()):        # one device sync per network
                return name
        return None

    def _check_weights(self) -> None:
        """Stop when a network's weights hold a NaN or an infinity (checked at log steps and checkpoints:
        outputs squashed by tanh can keep the losses finite after the weights are not)."""
        bad = self._nonfinite_weights()
        if D.any_rank(bad is not None, self.dist, self.device):
            raise self._diverged(f"the weights of {bad or 'a network on another rank'} are not finite", self.step)

    def _check_losses(self, logs: dict) -> None:
        """Stop at once when a loss (or any logged value) of this step is NaN or infinite."""
        # One device for the lot: a task may log CPU scalars beside CUDA losses (music's beta).
        values = [v.detach().float().reshape(()).to(self.device) for v in logs.values() if torch.is_tensor(v)]
        local = bool(values) and not bool(torch.isfinite(torch.stack(values)).all())
        if D.any_rank(local, self.dist, self.device):
            bad = next((f"{k}={float(v)}" for k, v in logs.items() if torch.is_tensor(v)
                        and not bool(torch.isfinite(v.detach().float()).all())), "a loss on another rank")
            raise self._diverged(f"{bad}", self.step + 1)

    def _diverged(self, what: str, step: int) -> TrainingDiverged:
        found = latest_checkpoint(self.run_dir) if self.write_checkpoints else None
        kept = (f"Kept the last finite checkpoint, step {found[1]} ({found[0]}), and the model.safetensors "
                f"written with it" if found else "No checkpoint had been written yet")
        return TrainingDiverged(f"training diverged at step {step}: {what}; stopped. {kept}. Lower the "
                                "learning rate (or check the data) and start a new run", step)

    # -- the loop ------------------------------------------------------------------------------
    def _train_step(self) -> dict[str, torch.Tensor]:
        cfg, logs = self.config, {}
        batches = [self._to_device(self.data.batch(self.sampler.next(self.micro), self.data_generator))
                   for _ in range(cfg.accumulate)]
        for ph in self.task.phases():
            if self.step % ph.every:
                continue
            for name, m in self.task.modules.items():
                if name == ph.module or ph.freeze_others:
                    m.requires_grad_(name == ph.module)
            opt, scaler = self.optimizers[ph.name], self.scalers[ph.name]
            opt.zero_grad(set_to_none=True)
            for batch in batches:
                with torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32,
                                    enabled=self.amp_dtype is not None):
                    loss, phase_logs = self.task.loss(ph.name, batch, self.step)
                scaler.scale(loss / cfg.accumulate).backward()
                logs.update(phase_logs)
            params = list(self.task.modules[ph.module].parameters())
            D.all_reduce_grads(params, self.dist)
            if cfg.grad_clip > 0:
                scaler.unscale_(opt)
                torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            scaler.step(opt)
            scaler.update()
        return logs

    def _to_device(self, batch: torch.Tensor) -> torch.Tensor:
        fmt = self.memory_format if batch.dim() == 4 else torch.contiguous_format  # images only
        return batch.to(self.device, memory_format=fmt, non_blocking=True)

    def run(self) -> None:
        """Train up to `config.steps`; a run already there does nothing (no callbacks, nothing written)."""
        cfg = self.config
        if self.step >= cfg.steps:
            return
        bar = tqdm(total=cfg.steps, initial=self.step, disable=self.quiet or not self.dist.is_main, unit="step",
                   dynamic_ncols=True, desc="training")
        try:
            with self._signals():
                self._each_callback("on_start")
                self._steps(bar)
                self.checkpoint()
                bar.close()
                self._each_callback("on_end")
        except (TrainingInterrupted, TrainingDiverged):
            bar.close()
            D.finish(self.dist)
            raise
        D.finish(self.dist)

    def _each_callback(self, hook: str, *args) -> None:
        if self.dist.is_main:
            for cb in self.callbacks:
                getattr(cb, hook)(self, *args)

    def _steps(self, bar) -> None:
        cfg = self.config
        t_last_ckpt = t_log = self.clock()
        steps_since_log, timed = 0, []
        while self.step < cfg.steps:
            t0, c0 = self.clock(), time.process_time()
            logs = self._train_step()
            self._check_losses(logs)
            self.step += 1
            self.nimg += cfg.batch_size
            steps_since_log += 1
            if self.ema:
                self.ema.update(self.task.modules[self.task.ema_module], self.nimg, cfg.batch_size)
            extra = self.task.end_step(cfg.batch_size)
            self.elapsed_s += self.clock() - t0
            self.cpu_s += time.process_time() - c0
            timed.append(self.clock() - t0)
            if len(timed) == ESTIMATE_STEPS + 1:
                self._say_estimate(timed[1:])
            bar.update(1)
            if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                self._check_weights()
                now = self.clock()
                self._log(logs, extra, now - t_log, steps_since_log, bar)
                t_log, steps_since_log = now, 0
            self._each_callback("on_step")
            stop = D.any_rank(self._stop is not None, self.dist, self.device)
            spent = D.any_rank(self._budget_spent(), self.dist, self.device)
            due = (self.clock() - t_last_ckpt) / 60 >= cfg.checkpoint_minutes or (
                cfg.checkpoint_every > 0 and self.step % cfg.checkpoint_every == 0)
            if stop or (due and self.step < cfg.steps):
                self.checkpoint()
                t_last_ckpt = self.clock()
            if stop:
                raise TrainingInterrupted(self.step, self._stop or "another rank")
            if spent:
                self.last_logs = {**self.last_logs, "budget_spent_at_step": self.step}
                return

    def _log(self, logs: dict, extra: dict, seconds: float, steps: int, bar) -> None:
        cfg = self.config
        rec = {"step": self.step, "kimg": self.nimg / 1000, **{k: float(v) for k, v in logs.items()}, **extra,
               "sec_per_step": seconds / steps, "img_per_s": cfg.batch_size * steps / max(seconds, 1e-9),
               "elapsed_s": self.elapsed_s, "cpu_s": self.cpu_s}
        if self.dist.enabled:
            rec["world"] = self.dist.world
            rec["ranks_in_sync"] = all(D.params_agree(m, self.dist, self.device) for m in self.task.modules.values())
        self.last_logs = rec
        bar.set_postfix({k: f"{v:.3g}" for k, v in rec.items() if k.startswith(("loss", "aug"))})
        self.log(rec)

    def log(self, record: dict) -> None:
        """Hand a record (step, kimg and figures) to every callback's `on_log`: metrics.jsonl, TensorBoard.
        Callbacks log what they measure (KID, held-out accuracy) through here, beside the losses."""
        self._each_callback("on_log", record)

    def _say_estimate(self, seconds: list[float]) -> None:
        """One line, a few steps in: how long the rest takes at the pace of those steps (the first step,
        which pays one-off costs, left out), and where train.budget_minutes cuts it short."""
        if self.quiet or not self.dist.is_main:
            return
        per_step = sum(seconds) / len(seconds)
        left = self.config.steps - self.step
        msg = (f"estimate: {per_step:.2g} s per step (timed over {len(seconds)} steps), so the remaining "
               f"{left:,} steps take about {duration(per_step * left)}")
        budget = self.config.budget_minutes
        if budget > 0 and per_step * left > budget * 60 - self.elapsed_s:
            msg += f"; train.budget_minutes={budget:g} stops it after {duration(budget * 60)} of training"
        tqdm.write(msg, file=sys.stderr)

    def _budget_spent(self) -> bool:
        cfg = self.config
        used = self.cpu_s if cfg.budget_clock == "cpu" else self.elapsed_s
        return cfg.budget_minutes > 0 and used >= cfg.budget_minutes * 60

    @contextlib.contextmanager
    def _signals(self):
        """SIGINT/SIGTERM ask for a clean stop: the current step finishes, then a checkpoint is written."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum, frame):
            if self._stop is not None:  # a second Ctrl-C stops at once
                raise KeyboardInterrupt
            self._stop = signal.Signals(signum).name

        old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for s, h in old.items():
                signal.signal(s, h)


__all__ = ["Callback", "Loop", "Phase", "Task", "TrainConfig", "TrainingInterrupted", "pick_device",
           "pick_precision"]
