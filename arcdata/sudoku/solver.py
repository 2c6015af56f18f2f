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
  bit) are found for every constraint at once with SWAR arithmetic on that int, and each is
  placed with two ANDs (the single's bit indexes the masks directly, whatever its layout),
* a dead end (an open field with no bit left) shows up among the singles,
* branching takes the open constraint with the fewest options (MRV over all four families, so
  hidden pairs are branched on as readily as bivalue cells).

A propagation sweep is seven big-int operations plus three per single placed, so a search node
costs a few microseconds (``benchmarks/sudoku_solver.py``: a "hardest" puzzle visits ~600
nodes). The search, hence every rating, is node for node that of placing one single at a time
with a dead-end check after each (``tests/sudoku/test_sudoku_solver.py`` holds that plain
version).

The state is two immutable ints (live options, top bits of the open constraints), so branching
needs no copying or undo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, reduce
from operator import and_

import numpy as np

from arcdata.sudoku.board import box_side


@dataclass(frozen=True)
class Tables:
    """Precomputed masks for side n; built once per size.

    The four layouts are concatenated into one int of 4 n^3 bits (layout k at bit k n^3), so
    one SWAR expression examines every constraint of every family at once. Masks are indexed
    by option and by bit position (an option has one bit in each layout), so a single found in
    any layout is placed without translating it back to its option.
    """

    n: int
    full: int  # all 4 n^3 bits
    top: int  # the top bit of every field
    low: int  # every bit of every field except the top one
    ones: int  # the bottom bit of every field
    field_mask: int  # (1 << n) - 1
    cells_top: int  # the top bits of the cell fields (layout 0): all clear in ``open`` = solved
    option_at: tuple[int, ...]  # bit -> option id (cell * n + digit - 1)
    keep: tuple[int, ...]  # option -> live bits compatible with it
    close: tuple[int, ...]  # option -> ``full`` without the top bits of its 4 fields
    keep_at: tuple[int, ...]  # bit -> keep of its option
    close_at: tuple[int, ...]  # bit -> close of its option
    field_at: tuple[int, ...]  # b -> the mask of the field whose top bit is bit b - 1 (else 0)


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
    keep, close = [], []
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
        close.append(full & ~mark)
    top = sum(1 << (f * n + n - 1) for f in range(all_fields))
    ones = sum(1 << (f * n) for f in range(all_fields))
    low = sum(((1 << (n - 1)) - 1) << (f * n) for f in range(all_fields))
    cells_top = sum(1 << (f * n + n - 1) for f in range(cells))
    option_at = tuple(int(v) for v in option_at)
    return Tables(
        n,
        full,
        top,
        low,
        ones,
        (1 << n) - 1,
        cells_top,
        option_at,
        tuple(keep),
        tuple(close),
        tuple(keep[o] for o in option_at),
        tuple(close[o] for o in option_at),
        tuple(
            ((1 << n) - 1) << (b - n) if b % n == 0 and b > 0 else 0 for b in range(4 * n_opt + 1)
        ),
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


def _search(
    t: Tables, live: int, open_: int, limit: int, rng: np.random.Generator | None
) -> tuple[list[int], int]:
    """Depth-first search from a start state: (solved states, up to ``limit``; guesses).

    One node: place every forced option until none is left (propagation), stop on a dead end
    or a solved grid, else branch on the open constraint with the fewest options. ``open_``
    holds the top bits of the unsatisfied fields. Propagation and choice are written inline
    in one closure: a hard puzzle visits hundreds of nodes, each only a few dozen big-int
    operations, so call overhead would be a large share of the time.
    """
    top, low, ones, fmask, n = t.top, t.low, t.ones, t.field_mask, t.n
    cells_top, option_at = t.cells_top, t.option_at
    keep, close, keep_at, close_at, field_at = t.keep, t.close, t.keep_at, t.close_at, t.field_at
    solutions: list[int] = []
    guesses = 0

    def node(live: int, open_: int) -> None:
        nonlocal guesses
        # propagation: place every single of a sweep (highest field first); placing one
        # closes its option's four fields, so the same option found in another layout is not
        # placed twice. An open field without options is a dead end, met in this loop (it
        # counts as a single); a closed field never empties, as only live options are placed
        # and a live option has no placed rival. So the fixed point and every dead end are
        # those of one-at-a-time placement with a check after each.
        while True:
            # every field loses its lowest bit; an empty field borrows from the one above, but
            # stays empty itself, so it is still a single, the dead end met below
            y = live & (live - ones)
            z = ((y & low) + low) | y  # top bit set in every field with two or more options
            single = (open_ | z) ^ z  # open fields with at most one option
            if not single:
                break
            while single:
                f = live & field_at[single.bit_length()]
                if not f:
                    return  # an open constraint has no option left
                i = f.bit_length() - 1
                live &= keep_at[i]
                closed = close_at[i]
                open_ &= closed
                single &= closed
        if not open_ & cells_top:
            solutions.append(live)
            return
        # choice: every open field holds two or more options; each round removes one more
        # lowest bit per field, and the first round that empties an open field found the
        # minimum (the lowest such field breaks ties)
        for _ in range(n):
            y &= (y | top) - ones  # no borrow out of fields already empty
            z = ((y & low) + low) | y
            emptied = (open_ | z) ^ z
            if emptied:
                break
        else:
            raise AssertionError("no open constraint on an unsolved grid")
        start = (emptied ^ (emptied - 1)).bit_length() - n
        f = (live >> start) & fmask
        opts = []
        while f:
            lsb = f & -f
            f ^= lsb
            opts.append(option_at[start + lsb.bit_length() - 1])
        if rng is not None:
            opts = [opts[i] for i in rng.permutation(len(opts))]
        for o in opts:
            guesses += 1
            node(live & keep[o], open_ & close[o])
            if len(solutions) >= limit:
                return

    node(live, open_)
    return solutions, guesses


def _initial(t: Tables, cells: list[int]) -> tuple[int, int] | None:
    """The state after placing the givens (``cells`` row-major, 0 = blank), or None when two
    givens clash: each given's keep mask clears its rivals, so a clashing given loses its own
    bit."""
    n = t.n
    options = [cell * n + v - 1 for cell, v in enumerate(cells) if v]
    live = reduce(and_, [t.keep[o] for o in options], t.full)
    given = sum(1 << o for o in options)  # layout 0 bit of option o is bit o
    if live & given != given:
        return None
    return live, reduce(and_, [t.close[o] for o in options], t.top)


def _decode(t: Tables, live: int) -> np.ndarray:
    """The digits of a solved state, read from its cell layout (one bit per cell field)."""
    n = t.n
    width = n**3
    raw = (live & ((1 << width) - 1)).to_bytes((width + 7) // 8, "little")
    bits = np.unpackbits(np.frombuffer(raw, np.uint8), bitorder="little")[:width]
    return (bits.reshape(n * n, n).argmax(axis=1) + 1).astype(np.uint8).reshape(n, n)


def solve(grid: np.ndarray, limit: int = 2, rng: np.random.Generator | None = None) -> SolveResult:
    """Search ``grid`` (0 = blank) for up to ``limit`` solutions.

    ``limit=2`` answers "is it unique" and rates it; ``rng`` shuffles branch order, which the
    generator uses to draw random full grids from an empty one.
    """
    g = np.asarray(grid)
    n = g.shape[0] if g.ndim else 0
    cells = g.ravel().tolist()
    if g.shape != (n, n) or max(cells, default=0) > n or min(cells, default=0) < 0:
        raise ValueError(f"expected an n x n grid with values 0..n, got shape {g.shape}")
    t = tables(n)
    start = _initial(t, cells)
    if start is None:
        return SolveResult([], 0)
    solutions, guesses = _search(t, *start, limit, rng)
    return SolveResult([_decode(t, live) for live in solutions], guesses)


def count_solutions(grid: np.ndarray, limit: int = 2) -> int:
    """Number of solutions, counted up to ``limit``."""
    return len(solve(grid, limit).solutions)


def rate(grid: np.ndarray) -> int:
    """Guesses needed to solve and prove unique (see :class:`SolveResult`)."""
    return solve(grid, 2).guesses
