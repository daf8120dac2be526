"""Chapter 5 (RNN)'s demos: the notebook runs on one thread (its matrices are tiny)."""

from __future__ import annotations

import torch


def use_one_thread() -> str:
    """Run PyTorch and NumPy's BLAS on one thread each from now on, and say what was set.

    The matrices of this chapter are small (a few dozen rows), so threads cost more than they save,
    and on a shared machine they wait for each other; one thread each also makes the NumPy vs PyTorch
    speed comparison fair. NumPy's side needs the optional ``threadpoolctl`` package.
    """
    torch.set_num_threads(1)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return "PyTorch: 1 thread; NumPy: its default threads (install threadpoolctl to limit them)"
    threadpool_limits(limits=1, user_api="blas")
    return "PyTorch and NumPy (BLAS): 1 thread each"
