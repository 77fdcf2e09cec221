"""Which dataset items each step uses: a reshuffled pass per epoch, split across ranks, resumable exactly."""

from __future__ import annotations

import torch


class EpochSampler:
    """Yields index lists; each epoch is a permutation drawn from (seed, epoch), so position is all the state.

    >>> s = EpochSampler(n=10, seed=0)
    >>> len(s.next(4))
    4
    """

    def __init__(self, n: int, seed: int, rank: int = 0, world: int = 1):
        if n <= 0:
            raise ValueError("EpochSampler needs at least one item")
        self.n, self.seed, self.rank, self.world = n, seed, rank, world
        self.epoch, self.pos = 0, 0
        self._perm = self._permutation(0)

    def _permutation(self, epoch: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        return torch.randperm(self.n, generator=g)

    def next(self, micro_batch: int) -> list[int]:
        """The indices of this rank's share of the next global batch of `micro_batch * world` items."""
        out: list[int] = []
        need = micro_batch * self.world
        while len(out) < need:
            if self.pos >= self.n:
                self.epoch += 1
                self.pos = 0
                self._perm = self._permutation(self.epoch)
            take = min(need - len(out), self.n - self.pos)
            out += self._perm[self.pos:self.pos + take].tolist()
            self.pos += take
        return out[self.rank * micro_batch:(self.rank + 1) * micro_batch]

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "pos": self.pos}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.pos = int(state["epoch"]), int(state["pos"])
        self._perm = self._permutation(self.epoch)
