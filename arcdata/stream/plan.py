"""Which rows go into which global batch in an epoch: pure functions of (structure, seed, epoch).

Every rank and every DataLoader worker computes the same plan independently (no communication,
nothing to keep in sync) and takes its share; a resumed run recomputes it and skips ahead. A
plan is one int64 array of row indices, ``-1`` marking padding, so memory is one integer per
example and never grows during the epoch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MODES = ("hrm", "examples", "eval")
_MODE_TAG = {"hrm": 1, "examples": 2, "eval": 3}


@dataclass(frozen=True)
class EpochPlan:
    """Global batches of an epoch: ``order`` is int64 [n_batches * batch_size], -1 = padding."""

    order: np.ndarray
    batch_size: int

    @property
    def num_batches(self) -> int:
        return len(self.order) // self.batch_size

    def batch(self, index: int) -> np.ndarray:
        return self.order[index * self.batch_size : (index + 1) * self.batch_size]

    def rank_slice(self, index: int, rank: int, world_size: int) -> np.ndarray:
        """Rank ``rank``'s contiguous share of global batch ``index``."""
        local = self.batch_size // world_size
        start = index * self.batch_size + rank * local
        return self.order[start : start + local]


def epoch_rng(seed: int, epoch: int, mode: str) -> np.random.Generator:
    """The epoch's generator; independent streams per (seed, epoch, mode)."""
    if seed < 0 or epoch < 0:
        raise ValueError(f"seed and epoch must be >= 0, got seed={seed}, epoch={epoch}")
    return np.random.default_rng(np.random.SeedSequence([seed, epoch, _MODE_TAG[mode]]))


def ranges(starts: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ``arange(starts[i], starts[i] + sizes[i])`` and the owner i of each value."""
    owner = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    first = np.cumsum(sizes) - sizes
    within = np.arange(len(owner), dtype=np.int64) - first[owner]
    return starts[owner] + within, owner


def hrm_plan(
    puzzle_starts: np.ndarray, group_puzzles: np.ndarray, batch_size: int, rng: np.random.Generator
) -> EpochPlan:
    """The reference's sampling: shuffle groups, one random version (puzzle) per group, all of
    its examples together in random order, cut into full global batches (the rest dropped).

    Unlike the reference, a puzzle that straddles a batch boundary continues in the next batch
    instead of being truncated, so every chosen example is used.
    """
    n_groups = len(group_puzzles) - 1
    groups = rng.permutation(n_groups)
    first = group_puzzles[groups]
    count = group_puzzles[groups + 1] - first
    puzzles = first + rng.integers(0, count)  # one version per group
    sizes = puzzle_starts[puzzles + 1] - puzzle_starts[puzzles]
    rows, owner = ranges(puzzle_starts[puzzles], sizes)
    rows = rows[np.lexsort((rng.random(len(rows)), owner))]  # shuffle within each puzzle
    keep = len(rows) // batch_size * batch_size
    return EpochPlan(rows[:keep], batch_size)


def examples_plan(num_rows: int, batch_size: int, rng: np.random.Generator) -> EpochPlan:
    """A shuffled pass over every example; the last batch is padded with -1 (blank rows whose
    labels are all ignored), so no example is skipped."""
    n_batches = -(-num_rows // batch_size)
    order = np.full(n_batches * batch_size, -1, dtype=np.int64)
    order[:num_rows] = rng.permutation(num_rows)
    return EpochPlan(order, batch_size)


def eval_plan(num_rows: int, batch_size: int) -> EpochPlan:
    """Every example once, in order; the last batch padded with -1 to full size."""
    n_batches = -(-num_rows // batch_size)
    order = np.full(n_batches * batch_size, -1, dtype=np.int64)
    order[:num_rows] = np.arange(num_rows)
    return EpochPlan(order, batch_size)


def worker_batches(start: int, num_batches: int, worker: int, num_workers: int) -> range:
    """Batches a DataLoader worker produces: round-robin from ``start``, so the loader, which
    takes one batch from each worker in turn, delivers them in order."""
    return range(start + worker, num_batches, num_workers)
