"""Solved NumPy building blocks, chapter by chapter, for later chapters and demos to reuse.

A learner stuck in one chapter can still do the next: later chapters import
what they need from here. Each function matches its chapter's solution notebook
and is tested against the same PyTorch reference.
"""
