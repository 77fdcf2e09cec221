"""torch.distributed set-up for data-parallel training under torchrun (NCCL on GPUs, gloo on CPUs).

Gradients are all-reduced by hand after each phase's backward (as StyleGAN3 does; stylegan2-ada-pytorch wraps its modules in DDP) instead of wrapping
networks in DistributedDataParallel: a GAN step trains G and D in turn with the other frozen, which DDP's
per-parameter hooks do not handle without `find_unused_parameters` and its cost.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class Dist:
    rank: int = 0
    local_rank: int = 0
    world: int = 1

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launch_rank() -> int:
    """This process's global rank as torchrun announces it (0 when not launched by torchrun).

    Readable before the process group exists, so set-up work (creating a run folder) can be left to rank 0.
    """
    return int(os.environ.get("RANK", "0"))


def init_from_env(device_kind: str) -> Dist:
    """Join the process group that torchrun describes in the environment; a single process otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    if not dist.is_initialized():
        backend = "nccl" if device_kind == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
    return Dist(rank=dist.get_rank(), local_rank=int(os.environ.get("LOCAL_RANK", "0")), world=dist.get_world_size())


def finish(d: Dist) -> None:
    """Leave together: wait for every rank (rank 0 may still be writing files), then close the group. A
    process that exits while its peers still hold the connection can abort in gloo's teardown."""
    if d.enabled and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def all_reduce_grads(params: list[torch.nn.Parameter], d: Dist) -> None:
    """Average gradients over ranks in one flat buffer (one collective per phase, not per tensor)."""
    grads = [p.grad for p in params if p.grad is not None]
    if not d.enabled or not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= d.world
    offset = 0
    for g in grads:
        n = g.numel()
        g.copy_(flat[offset:offset + n].view_as(g))
        offset += n


def broadcast_module(module: torch.nn.Module, d: Dist) -> None:
    """Make every rank start from rank 0's weights and buffers."""
    if not d.enabled:
        return
    for t in list(module.parameters()) + list(module.buffers()):
        dist.broadcast(t.data, src=0)


def any_rank(flag: bool, d: Dist, device: torch.device) -> bool:
    """True on every rank when `flag` is true on any rank (a stop request must stop all ranks together)."""
    if not d.enabled:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def params_agree(module: torch.nn.Module, d: Dist, device: torch.device) -> bool:
    """Whether every rank holds the same weights (a check that gradient sync really happened)."""
    if not d.enabled:
        return True
    with torch.no_grad():
        checksum = torch.stack([p.double().sum() for p in module.parameters()]).sum().reshape(1).to(device)
    gathered = [torch.zeros_like(checksum) for _ in range(d.world)]
    dist.all_gather(gathered, checksum)
    return all(torch.equal(g, gathered[0]) for g in gathered)
