"""Reconstruction accuracy of a melody autoencoder, as MusicVAE reports it.

Accuracy is the fraction of 16th-note steps whose token (hold, rest, or which note starts) is right,
over every step of every melody. Teacher-forced: the decoder reads the true previous tokens; sampled:
it reads its own argmax choices, which is what a user hears when a melody is encoded and played back.
The music task measures it on held-out melodies while training; metrics/ reports it.

>>> accuracy(torch.tensor([[41, 0, 1, 43]]), torch.tensor([[41, 0, 0, 43]]))
0.75
"""

from __future__ import annotations

import torch


def accuracy(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Fraction of equal tokens between (B, T) predictions and targets."""
    if pred.shape != target.shape:
        raise ValueError(f"shapes differ: {tuple(pred.shape)} vs {tuple(target.shape)}")
    return float((pred == target).float().mean()) if target.numel() else float("nan")


@torch.no_grad()
def reconstruction(model, x: torch.Tensor, batch_size: int = 256) -> dict[str, float]:
    """Teacher-forced and sampled (argmax) reconstruction accuracy of (N, T) melodies, encoded to mu."""
    model.eval()
    tf, sampled = [], []
    for i in range(0, len(x), batch_size):
        xb = x[i:i + batch_size]
        mu, _ = model.encode(xb)
        tf.append(model.decode_logits(mu, model.shifted_inputs(xb)).argmax(-1))
        sampled.append(model.decode(mu))
    tf_t, s_t = torch.cat(tf), torch.cat(sampled)
    return {"acc_teacher_forced": accuracy(tf_t, x), "acc_sampled": accuracy(s_t, x), "melodies": len(x)}
