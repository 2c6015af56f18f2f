"""A bit-parallel propagate-and-branch Sudoku solver that counts solutions and guesses.

Sudoku is an exact-cover problem: n^3 options (cell, digit), 4 n^2 constraints (each cell
filled, each digit once per row, column and box), each satisfied by n options. The live options
are written four times, once per constraint family (*layout*), each layout grouping its bits
into n-bit fields, one field per constraint (cell: field = cell, bit = digit; row: field =
(row, digit), bit = column; column and box alike). The four layouts are concatenated into one
Python int of 4 n^3 bits (2916 for 9x9). Then

* placing an option is one AND with a precomputed mask that clears every rival in all four
  layouts at once (no per-peer loop),
* naked singles (a cell field with one bit) and hidden singles (a row/column/box field with one
  bit) are found for every constraint at once with SWAR arithmetic on that int,
* a dead end (an empty field) is one compare,
* branching takes the open constraint with the fewest options (MRV over all four families, so
  hidden pairs are branched on as readily as bivalue cells).

A whole propagation sweep is a dozen big-int operations, so a search node costs microseconds:
the 1465 magictour puzzles are solved and proved unique in ~1.5 s on one core.

The state is two immutable ints (live options, satisfied constraints), so branching needs no
copying or undo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np

from arcdata.sudoku.board import box_side


@dataclass(frozen=True)
class Tables:
    """Precomputed masks for side n; built once per size.

    The four layouts are concatenated into one int of 4 n^3 bits (layout k at bit k n^3), so
    one SWAR expression examines every constraint of every family at once.
    """

    n: int
    full: int  # all 4 n^3 bits
    top: int  # the top bit of every field
    low: int  # every bit of every field except the top one
    ones: int  # the bottom bit of every field
    field_mask: int  # (1 << n) - 1
    cells_top: int  # the top bits of the cell fields (layout 0): all set = solved
    option_at: tuple[int, ...]  # bit -> option id (cell * n + digit - 1)
    keep: tuple[int, ...]  # option -> live bits compatible with it
    done: tuple[int, ...]  # option -> top bits of its 4 fields


@cache
def tables(n: int) -> Tables:
    b = box_side(n)
    cells = n * n
    n_opt = cells * n
    cell_of = np.repeat(np.arange(cells), n)
    digit = np.tile(np.arange(n), cells)
    r, c = cell_of // n, cell_of % n
    box = (r // b) * b + c // b
    inbox = (r % b) * b + c % b
    # field (constraint) and bit position of every option in each layout
    fields = np.stack([cell_of, r * n + digit, c * n + digit, box * n + digit])
    within = np.stack([digit, c, r, inbox])
    pos = (np.arange(4)[:, None] * cells + fields) * n + within
    option_at = np.empty(4 * n_opt, dtype=np.int64)
    for lay in range(4):
        option_at[pos[lay]] = np.arange(n_opt)
    members = [[np.flatnonzero(fields[lay] == f) for f in range(cells)] for lay in range(4)]
    all_fields = 4 * cells
    full = (1 << (all_fields * n)) - 1
    keep, done = [], []
    for o in range(n_opt):
        rivals = np.unique(np.concatenate([members[lay][fields[lay, o]] for lay in range(4)]))
        rivals = rivals[rivals != o]
        kill = 0
        for p in pos[:, rivals].ravel().tolist():
            kill |= 1 << p
        keep.append(full & ~kill)
        mark = 0
        for lay in range(4):
            mark |= 1 << int((lay * cells + fields[lay, o]) * n + n - 1)
        done.append(mark)
    top = sum(1 << (f * n + n - 1) for f in range(all_fields))
    ones = sum(1 << (f * n) for f in range(all_fields))
    low = sum(((1 << (n - 1)) - 1) << (f * n) for f in range(all_fields))
    cells_top = sum(1 << (f * n + n - 1) for f in range(cells))
    return Tables(
        n,
        full,
        top,
        low,
        ones,
        (1 << n) - 1,
        cells_top,
        tuple(int(v) for v in option_at),
        tuple(keep),
        tuple(done),
    )


@dataclass
class SolveResult:
    """Solutions found (at most the limit asked for) and the guesses the search made.

    ``guesses`` counts tentative placements over the whole search: 0 means propagation alone
    solved (or refuted) the puzzle. With ``limit=2`` on a unique puzzle the whole tree is
    searched, so the count does not depend on luck in branch order: it is the puzzle's rating.
    """

    solutions: list[np.ndarray] = field(default_factory=list)
    guesses: int = 0

    @property
    def unique(self) -> bool:
        return len(self.solutions) == 1


def _propagate(t: Tables, live: int, done: int) -> tuple[int, int] | None:
    """Place every forced option until none is left; None on a dead end."""
    top, low, ones, fmask, n = t.top, t.low, t.ones, t.field_mask, t.n
    option_at, keep, mark = t.option_at, t.keep, t.done
    while True:
        if (((live & low) + low) | live) & top != top:
            return None  # some constraint has no option left
        y = live & (live - ones)  # every field loses its lowest bit
        single = top & ~((((y & low) + low) | y) & top) & ~done
        if not single:
            return live, done
        while single:
            bit = single & -single
            single ^= bit
            start = bit.bit_length() - n
            f = (live >> start) & fmask
            if not f:
                return None  # emptied by a placement made in this sweep
            if (done >> (start + n - 1)) & 1:
                continue  # satisfied by a placement made in this sweep
            o = option_at[start + (f & -f).bit_length() - 1]
            live &= keep[o]
            done |= mark[o]


def _choose(t: Tables, live: int, done: int) -> list[int]:
    """Options of the open constraint with the fewest options (lowest such field)."""
    top, low, ones, n, fmask = t.top, t.low, t.ones, t.n, t.field_mask
    # satisfied fields are filled with n bits so they are never the minimum
    cur = live | ((done >> (n - 1)) * fmask)
    for _ in range(n):
        y = cur & (cur - ones)
        emptied = top & ~((((y & low) + low) | y) & top) & ~done
        if emptied:
            start = (emptied & -emptied).bit_length() - n
            f = (live >> start) & fmask
            opts = []
            while f:
                lsb = f & -f
                f ^= lsb
                opts.append(t.option_at[start + lsb.bit_length() - 1])
            return opts
        cur = y
    raise AssertionError("no open constraint on an unsolved grid")


class _Search:
    __slots__ = ("t", "limit", "solutions", "guesses", "rng")

    def __init__(self, t: Tables, limit: int, rng: np.random.Generator | None) -> None:
        self.t = t
        self.limit = limit
        self.solutions: list[int] = []
        self.guesses = 0
        self.rng = rng

    def run(self, live: int, done: int) -> None:
        t = self.t
        state = _propagate(t, live, done)
        if state is None:
            return
        live, done = state
        if done & t.cells_top == t.cells_top:
            self.solutions.append(live)
            return
        opts = _choose(t, live, done)
        if self.rng is not None:
            opts = [opts[i] for i in self.rng.permutation(len(opts))]
        for o in opts:
            self.guesses += 1
            self.run(live & t.keep[o], done | t.done[o])
            if len(self.solutions) >= self.limit:
                return


def _initial(t: Tables, grid: np.ndarray) -> tuple[int, int] | None:
    live, done = t.full, 0
    n = t.n
    for cell, v in enumerate(np.asarray(grid).ravel().tolist()):
        if v:
            o = cell * n + v - 1
            if not (live >> o) & 1:  # layout 0 bit of option o is bit o
                return None  # a given clashes with an earlier given
            live &= t.keep[o]
            done |= t.done[o]
    return live, done


def _decode(t: Tables, live: int) -> np.ndarray:
    n = t.n
    out = np.zeros(n * n, dtype=np.uint8)
    for cell in range(n * n):
        out[cell] = ((live >> (cell * n)) & t.field_mask).bit_length()
    return out.reshape(n, n)


def solve(grid: np.ndarray, limit: int = 2, rng: np.random.Generator | None = None) -> SolveResult:
    """Search ``grid`` (0 = blank) for up to ``limit`` solutions.

    ``limit=2`` answers "is it unique" and rates it; ``rng`` shuffles branch order, which the
    generator uses to draw random full grids from an empty one.
    """
    g = np.asarray(grid)
    n = g.shape[0]
    if g.shape != (n, n) or g.max(initial=0) > n or g.min(initial=0) < 0:
        raise ValueError(f"expected an n x n grid with values 0..n, got shape {g.shape}")
    t = tables(n)
    search = _Search(t, limit, rng)
    start = _initial(t, g)
    if start is not None:
        search.run(*start)
    return SolveResult([_decode(t, live) for live in search.solutions], search.guesses)


def count_solutions(grid: np.ndarray, limit: int = 2) -> int:
    """Number of solutions, counted up to ``limit``."""
    return len(solve(grid, limit).solutions)


def rate(grid: np.ndarray) -> int:
    """Guesses needed to solve and prove unique (see :class:`SolveResult`)."""
    return solve(grid, 2).guesses
