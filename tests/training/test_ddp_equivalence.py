"""Two data-parallel ranks (gloo, 127.0.0.1) train exactly like one process on the same global batch."""

from __future__ import annotations

import socket

import pytest
import torch
import torch.multiprocessing as mp

from ddp_toy import Curve, fit, rank_main


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.distributed
def test_two_ranks_give_the_weights_of_one_process_on_the_same_global_batch(tmp_path, monkeypatch):
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(var, raising=False)
    alone = fit(tmp_path / "one")
    mp.spawn(rank_main, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    # Each rank takes its half of the same 16 points (the sampler shards every global batch); the mean of the
    # two half-batch gradients is the full batch's up to float32 rounding: 1e-6 on weights of order 1 after
    # 4 Adam steps.
    for rank in (0, 1):
        got = torch.load(tmp_path / f"rank{rank}.pt", weights_only=True)
        assert got.keys() == alone.keys()
        for k in alone:
            torch.testing.assert_close(got[k], alone[k], rtol=0, atol=1e-6, msg=f"rank {rank}: {k}")
    assert not torch.equal(alone["0.weight"], Curve().modules["net"][0].weight.detach())    # it did train
