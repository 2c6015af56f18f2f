"""Readers of raw puzzle files. Each one turns a raw format into ``Task`` records.

Readers register themselves by ``type`` name (the ``type:`` key of a pipeline's source entry);
importing this package loads all of them.
"""

from arcdata.sources import arc as _arc  # noqa: F401,E402  (registers the ARC readers)
from arcdata.sources import puzzles as _puzzles  # noqa: F401,E402  (Sudoku and Maze readers)
from arcdata.sources.base import REGISTRY, Rejects, SourceResult, read_source, register

__all__ = ["REGISTRY", "Rejects", "SourceResult", "read_source", "register"]
