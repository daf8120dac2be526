"""Benchmarks of the course: its NumPy solutions against PyTorch, its notebooks' run time, and how
fast a class is graded. Run ``python -m benchmarks`` (or ``--quick``) from the repository root;
``benchmarks/RESULTS.md`` holds the last full run."""
