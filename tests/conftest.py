"""Test-wide settings.

The suite runs two pytest workers on a 2-core machine, and each starts Jupyter kernels:
one BLAS/OpenMP thread per process keeps them from fighting over the cores (with the
libraries' default of one thread per core, the small matrix products of the notebooks
ran several times slower). Kernels inherit the environment.
"""

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")
