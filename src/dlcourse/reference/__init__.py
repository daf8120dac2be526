"""PyTorch references, one module per chapter topic.

Every reference takes and returns NumPy arrays, runs in float64 on
:func:`dlcourse.device.get_device`, and uses PyTorch's own functions
(``torch.sigmoid``, ``F.linear``, ``nn.Sequential``, autograd), never a
re-implementation of the exercise.
"""
