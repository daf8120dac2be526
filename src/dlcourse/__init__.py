"""dlcourse: deep learning from scratch in NumPy, side by side with PyTorch.

What the course's notebooks and tests import:

- :mod:`dlcourse.device`    where PyTorch references run (CUDA when there is one)
- :mod:`dlcourse.checking`  the one checking helper every test cell calls
- :mod:`dlcourse.reference` PyTorch references, one module per chapter topic
- :mod:`dlcourse.solved`    solved NumPy building blocks that later chapters reuse
- :mod:`dlcourse.data`      seeded toy data and the datasets the course ships
- :mod:`dlcourse.plots`     the plots the chapters draw
"""

__version__ = "0.1.0"
