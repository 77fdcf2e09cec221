"""Convolution and activation in one pass, for inference on a CPU.

oneDNN (PyTorch's CPU convolution library) can apply ReLU, ReLU6 or a sigmoid to each output as it
writes it (`torch.ops.mkldnn._convolution_pointwise`, the op torch.compile emits for the same pattern),
which saves one read and one write of the whole activation (docs/benchmarks.md). The op has no backward, so
anything that needs gradients, any other device or dtype, or a PyTorch without the op takes
`F.conv2d` followed by the activation, which gives the same numbers.

    >>> conv = torch.nn.Conv2d(3, 4, 3, padding=1)
    >>> x = torch.rand(1, 3, 8, 8)
    >>> with torch.inference_mode():
    ...     torch.allclose(conv_act(conv, x, "relu6"), F.relu6(conv(x)), atol=1e-6)
    True
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

_ACTS = {"relu": ("relu", []), "relu6": ("hardtanh", [0.0, 6.0]), "sigmoid": ("sigmoid", [])}
_PLAIN = {"relu": F.relu, "relu6": F.relu6, "sigmoid": torch.sigmoid}
_OP = getattr(getattr(torch.ops, "mkldnn", None), "_convolution_pointwise", None)


def _fusable(conv: nn.Conv2d, x: torch.Tensor) -> bool:
    """The op exists, the tensors suit it, and nothing asks for a gradient through this convolution."""
    wants_grad = torch.is_grad_enabled() and (x.requires_grad or conv.weight.requires_grad)
    return (_OP is not None and x.device.type == "cpu" and x.dtype == torch.float32 and x.dim() == 4
            and conv.padding_mode == "zeros" and not wants_grad and torch.backends.mkldnn.is_available())


def conv_act(conv: nn.Conv2d, x: torch.Tensor, act: str, padding: tuple | None = None) -> torch.Tensor:
    """act(conv(x)) for act in relu, relu6, sigmoid; `padding` overrides the module's (zero padding only)."""
    pad = tuple(conv.padding) if padding is None else tuple(padding)
    if _fusable(conv, x):
        name, scalars = _ACTS[act]
        try:
            return _OP(x, conv.weight, conv.bias, list(pad), list(conv.stride), list(conv.dilation), conv.groups,
                       name, scalars, "")
        except RuntimeError:          # a build or shape oneDNN turns down: the plain way below
            pass
    return _PLAIN[act](F.conv2d(x, conv.weight, conv.bias, conv.stride, pad, conv.dilation, conv.groups))
