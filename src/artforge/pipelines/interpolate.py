"""Walk through latent space: spherical interpolation between the latents of a list of seeds."""

from __future__ import annotations

import torch

from ..errors import UserError
from ..io.images import to_pil
from .base import Output, Pipeline, latents, slerp
from .specs import INTERPOLATE


class InterpolatePipeline(Pipeline):
    """`frames` frames that pass through each seed's image in order (and back to the first with `loop`)."""

    needs_gan = True
    spec = INTERPOLATE

    def path(self, seeds: list[int], frames: int, loop: bool) -> torch.Tensor:
        """(frames, z_dim) latents along the slerp path through the seeds' latents."""
        keys = latents(seeds, self.model.z_dim)
        if len(seeds) == 1:
            return keys.repeat(frames, 1)
        if loop:
            keys = torch.cat([keys, keys[:1]])
        segments = len(keys) - 1
        # A loop leaves out the last frame, which would repeat the first.
        span = frames if loop else frames - 1
        out = []
        for f in range(frames):
            u = f * segments / span
            k = min(int(u), segments - 1)
            out.append(slerp(keys[k], keys[k + 1], u - k))
        return torch.stack(out)

    def run(self, seeds: list[int], frames: int, loop: bool, truncation: float, fps: int,
            batch_size: int) -> Output:
        if len(seeds) < 2:
            raise UserError(f"seeds: give two or more seeds to morph between, e.g. {seeds[0]},{seeds[0] + 1} (one "
                            f"seed is a still picture: artforge generate MODEL -n 1 --seed {seeds[0]})")
        return self.animate(seeds, frames, loop, truncation, fps, batch_size)

    @torch.no_grad()
    def animate(self, seeds: list[int], frames: int, loop: bool, truncation: float, fps: int,
                batch_size: int) -> Output:
        """The frames and their recipe (a recipe of one seed, from before `run` refused them, still replays)."""
        z = self.path(seeds, frames, loop).to(self.model.device) * truncation
        x = torch.cat([self.model.module(z[i:i + batch_size]).float().cpu() for i in range(0, frames, batch_size)])
        params = {"seeds": seeds, "frames": frames, "loop": loop, "truncation": truncation, "fps": fps,
                  "batch_size": batch_size}
        return Output(to_pil(x), [self.recipe("animation", params)], kind="animation")

    def replay(self, recipe: dict) -> Output:
        out = self.animate(**self.replay_params(recipe))
        frame = recipe["params"].get("frame")              # one frame kept as a picture (the studio's morphs)
        if type(frame) is int and 0 <= frame < len(out.images):
            return Output([out.images[frame]], [recipe])
        return Output(out.images, [recipe], kind="animation")
