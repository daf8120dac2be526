"""Data for the course: seeded 2-D toy problems and the small datasets shipped in ``datasets/``."""

from .shipped import DatasetError, datasets_dir, load_diabetes, load_digits
from .text import CharVocab, load_text
from .toy import make_blobs, make_moons, make_spirals

__all__ = [
    "CharVocab",
    "DatasetError",
    "datasets_dir",
    "load_diabetes",
    "load_digits",
    "load_text",
    "make_blobs",
    "make_moons",
    "make_spirals",
]
