"""Sample images from a generator: one latent per seed, optional truncation, a grid of them all.

With `no_copies`, every image goes through a copy check (given by the caller: it lives with the metrics)
and a flagged image is redrawn from a new seed, up to MAX_REDRAWS times; the recipe records the seed
actually used, the number of redraws and the check's verdict, so replay needs no check.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Callable, Iterator

import torch

from ..errors import RecipeError, UserError
from ..io.images import make_grid, to_pil
from .base import ModelHandle, Output, Pipeline, latents
from .specs import GENERATE

MAX_REDRAWS = 8
CopyCheck = Callable[[torch.Tensor], list[dict]]   # (B, 3, H, W) in [-1, 1] -> one verdict per image


def redraw_seed(image_seed: int, attempt: int) -> int:
    """The seed of the attempt-th redraw: above 2**31, so it never collides with a plain image seed."""
    return image_seed + attempt * 2**31


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """torch's intra-op threads set to one for the block, then put back as they were."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


@torch.no_grad()
def batch_invariant_forward(module: torch.nn.Module, z: torch.Tensor) -> torch.Tensor:
    """module(z) on the CPU as float, each image depending on its own latent alone, bit for bit.

    On CPU, oneDNN picks its convolution kernels by batch size, so an image computed in a batch of 7 can
    differ in the last float bits (and, now and then, by one level in a PNG) from the same image alone.
    PyTorch's native CPU kernels loop over the batch one sample at a time, so with oneDNN off for this
    call an image is the same in any batch: what lets the studio batch concurrent requests together.
    The matrix products under those kernels split their sums by thread count (on an AVX-512 CPU two
    threads put a pixel one level away from one thread's), so this runs on one thread: the same image
    from the CLI, the studio's one-thread batcher and a replay on a machine with more cores.
    """
    if z.device.type != "cpu":
        return module(z).float().cpu()
    with warnings.catch_warnings():         # flags() warns about TF32 on Intel GPUs, which we do not use
        warnings.simplefilter("ignore", UserWarning)
        with torch.backends.mkldnn.flags(enabled=False), one_torch_thread():
            return module(z).float()


class GeneratePipeline(Pipeline):
    """Image i uses seed `seed + i`. Images are computed in chunks of `batch_size`, and a replay recomputes
    the same chunk, so a replayed image is bit-identical to the original on the same kind of CPU."""

    needs_gan = True
    spec = GENERATE

    def __init__(self, model: ModelHandle, copy_check: CopyCheck | None = None):
        super().__init__(model)
        self.copy_check = copy_check

    @torch.no_grad()
    def single(self, seed: int, truncation: float) -> torch.Tensor:
        """(1, 3, H, W): one image alone in its batch (how redraws are made and replayed)."""
        z = latents([seed], self.model.z_dim, self.model.device) * truncation
        return batch_invariant_forward(self.model.module, z)

    @torch.no_grad()
    def images(self, seed: int, count: int, truncation: float, batch_size: int, start: int = 0) -> torch.Tensor:
        """(count, 3, H, W) in [-1, 1] for seeds seed+start ..., in chunks aligned to `batch_size`."""
        out = []
        for lo in range(start, start + count, batch_size):
            hi = min(lo + batch_size, start + count)
            z = latents(list(range(seed + lo, seed + hi)), self.model.z_dim, self.model.device) * truncation
            out.append(batch_invariant_forward(self.model.module, z))
        return torch.cat(out)

    def run(self, n: int, seed: int, truncation: float, batch_size: int, no_copies: bool = False,
            grid: bool = True) -> Output:
        """The n images (and, with `grid`, a contact sheet of them last), each with its recipe."""
        x = self.images(seed, n, truncation, batch_size)
        params = {"n": n, "seed": seed, "truncation": truncation, "batch_size": batch_size, "no_copies": no_copies}
        extra: list[dict] = [{"image_seed": seed + i} for i in range(n)]
        if no_copies:
            if self.copy_check is None:
                raise UserError("no_copies needs the copy check of this model (see artforge eval)")
            for i, verdict in enumerate(self.copy_check(x)):
                attempt = 0
                while verdict["flagged"] and attempt < MAX_REDRAWS:
                    attempt += 1
                    xi = self.single(redraw_seed(seed + i, attempt), truncation)
                    verdict = self.copy_check(xi)[0]
                    x[i] = xi[0]
                extra[i] = {"image_seed": redraw_seed(seed + i, attempt), "redraws": attempt, "copy_check": verdict}
        redrawn = {str(i): e["redraws"] for i, e in enumerate(extra) if e.get("redraws")}
        recipes = [self.recipe("image", {**params, "index": i, **e}) for i, e in enumerate(extra)]
        if not grid:
            return Output(to_pil(x), recipes)
        sheet = self.recipe("grid", {**params, "redrawn": redrawn} if redrawn else params)
        return Output(to_pil(x) + [make_grid(x)], recipes + [sheet])

    def replay(self, recipe: dict) -> Output:
        p = {k: recipe["params"][k] for k in ("n", "seed", "truncation", "batch_size")}
        p = self.resolve(**p)
        if recipe.get("output") == "grid":
            x = self.images(p["seed"], p["n"], p["truncation"], p["batch_size"])
            for i, attempt in (recipe["params"].get("redrawn") or {}).items():
                x[int(i)] = self.single(redraw_seed(p["seed"] + int(i), int(attempt)), p["truncation"])[0]
            return Output([make_grid(x)], [recipe])
        i = recipe["params"].get("index")
        if not isinstance(i, int) or not 0 <= i < p["n"]:
            raise RecipeError("the recipe's params.index is missing or out of range")
        attempt = recipe["params"].get("redraws", 0)
        if attempt:
            return Output(to_pil(self.single(redraw_seed(p["seed"] + i, int(attempt)), p["truncation"])), [recipe])
        lo = i // p["batch_size"] * p["batch_size"]
        chunk = self.images(p["seed"], min(p["batch_size"], p["n"] - lo), p["truncation"], p["batch_size"], lo)
        return Output(to_pil(chunk[i - lo:i - lo + 1]), [recipe])
