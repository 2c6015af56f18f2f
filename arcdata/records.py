"""The records every source produces and every later stage consumes.

One shape for all puzzle families keeps the build, the stream and the evaluator generic: an ARC
task, a Sudoku puzzle and a maze are all a ``Task`` holding demonstration and test ``Pair``s of
small uint8 grids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Pair:
    """One input/output example. Grids are 2-D uint8 arrays holding cell values (not tokens)."""

    input: np.ndarray
    output: np.ndarray


@dataclass(frozen=True)
class Task:
    """A puzzle: demonstration pairs (``train``) and test pairs (``test``).

    ``evaluation`` marks tasks of an evaluation set; the split rule decides where their pairs go.
    ``subset`` names where the task came from (``arc-agi-1/training``, ``conceptarc``...), and
    ``origin`` is the file (and line) it was read from, for error messages.
    """

    id: str
    train: tuple[Pair, ...]
    test: tuple[Pair, ...]
    subset: str = ""
    evaluation: bool = False
    origin: str = ""
    meta: dict = field(default_factory=dict, compare=False)

    def pairs(self) -> list[tuple[str, int, Pair]]:
        """All pairs as (role, index within role, pair), demonstrations first."""
        return [("train", i, p) for i, p in enumerate(self.train)] + [
            ("test", i, p) for i, p in enumerate(self.test)
        ]
