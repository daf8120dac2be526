"""Where the PyTorch references run, and how arrays cross between NumPy and PyTorch.

References run on CUDA when a GPU is available, else on the CPU. Set the
environment variable ``DLCOURSE_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``) to
choose explicitly. Everything is float64 by default, which also keeps TF32
matrix products out of the comparison on GPUs.
"""

from __future__ import annotations

import os
from functools import cache

import numpy as np
import torch


@cache
def get_device() -> torch.device:
    """The device every PyTorch reference uses: ``$DLCOURSE_DEVICE``, else CUDA if available, else CPU."""
    wanted = os.environ.get("DLCOURSE_DEVICE", "").strip()
    if wanted:
        device = torch.device(wanted)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"DLCOURSE_DEVICE={wanted!r} but PyTorch sees no CUDA device")
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def to_tensor(x, *, dtype=torch.float64, requires_grad: bool = False) -> torch.Tensor:
    """A copy of a NumPy array (or number) as a tensor on :func:`get_device`, float64 unless told otherwise.

    Integer and boolean arrays keep their kind (labels stay int64, masks stay bool)
    unless ``dtype`` is given explicitly as something other than the default.
    """
    array = np.asarray(x)
    if array.dtype == object:
        raise TypeError(f"to_tensor expects numbers, got an array of Python objects: {x!r:.80}")
    # torch.tensor copies: an in-place PyTorch operation never changes the caller's NumPy array
    if array.dtype.kind in "iub" and dtype is torch.float64:
        return torch.tensor(array.astype(np.int64) if array.dtype.kind in "iu" else array, device=get_device())
    tensor = torch.tensor(np.ascontiguousarray(array), dtype=dtype, device=get_device())
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


def to_numpy(t: torch.Tensor) -> np.ndarray:
    """A tensor (on any device, with or without grad) as a NumPy array."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"to_numpy expects a torch.Tensor, got {type(t).__name__}")
    return t.detach().cpu().numpy()


def describe() -> str:
    """One line saying where the references run, for the top of a notebook."""
    device = get_device()
    if device.type == "cuda":
        return f"PyTorch {torch.__version__} on {torch.cuda.get_device_name(device)} ({device})"
    return f"PyTorch {torch.__version__} on the CPU (no GPU found; everything here runs fine without one)"
