"""A small public-domain text for chapter 8's character-level language model, and its character vocabulary.

The file ships in ``datasets/`` (provenance, licence and checksum in ``datasets/README.md``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .shipped import DatasetError, datasets_dir, sha256

TEXT_FILE = "pride_and_prejudice_ch1.txt"
TEXT_SHA256 = "cac8e52a332a8c241d154459c2088bfda3ff081ffb820ac0d63c75c0cfb10d9d"


def load_text(folder: Path | None = None) -> str:
    """The opening chapter of Jane Austen's *Pride and Prejudice* (1813), about 4,500 characters, after checking its sha256."""
    path = (folder or datasets_dir()) / TEXT_FILE
    if not path.is_file():
        raise DatasetError(f"dataset file {path} is missing: restore it with `git checkout -- datasets/{TEXT_FILE}`")
    actual = sha256(path)
    if actual != TEXT_SHA256:
        raise DatasetError(
            f"dataset file {path} is corrupted or was changed: its sha256 is {actual}, expected "
            f"{TEXT_SHA256}. Restore it with `git checkout -- datasets/{TEXT_FILE}`."
        )
    return path.read_text(encoding="utf-8")


class CharVocab:
    """The sorted characters of a text, with encode (str -> int64 array) and decode (ints -> str)."""

    def __init__(self, text: str):
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        unknown = sorted(set(text) - set(self.index))
        if unknown:
            raise ValueError(f"characters not in the vocabulary: {unknown}")
        return np.array([self.index[c] for c in text], dtype=np.int64)

    def decode(self, tokens) -> str:
        return "".join(self.chars[int(t)] for t in np.ravel(tokens))
