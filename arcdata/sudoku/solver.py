"""A bit-parallel propagate-and-branch Sudoku solver that counts solutions and guesses.

Sudoku is an exact-cover problem: n^3 options (cell, digit), 4 n^2 constraints (each cell
filled, each digit once per row, column and box), each satisfied by n options. The live options
are written four times, once per constraint family (*layout*), each layout grouping its bits
into fields of n + 1 bits, one field per constraint (cell: field = cell, bit = digit; row: field
= (row, digit), bit = column; column and box alike), the top bit of a field set while its
constraint is open. The four layouts are concatenated into one Python int of 4 n^2 (n + 1) bits
(3240 for 9x9), the whole search state. Then

* placing an option is one AND with a precomputed mask that clears every rival in all four
  layouts and the open bits of its four constraints at once (no per-peer loop),
* naked singles (a cell field with one bit) and hidden singles (a row/column/box field with one
  bit) are found for every constraint at once with SWAR arithmetic on that int (six
  operations), and each is placed with three (the single's bit indexes the masks directly,
  whatever its layout),
* a dead end (an open field with no bit left) shows up among the singles,
* branching takes the open constraint with the fewest options (MRV over all four families, so
  hidden pairs are branched on as readily as bivalue cells).

A search node costs about fifty big-int operations (``benchmarks/sudoku_solver.py``: a
"hardest" puzzle visits ~700 nodes). The search, hence every rating, is node for node that of
placing one single at a time with a dead-end check after each (``tests/sudoku/test_solver.py``
holds that plain version). The state is one immutable int, so branching needs no copying or
undo.
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

    Each constraint is a field of n + 1 bits: its n options, then one *open* bit, set while the
    constraint is unsatisfied. The four layouts are concatenated into one int of 4 n^2 (n + 1)
    bits (layout k at field k n^2), so one SWAR expression examines every constraint of every
    family at once, and the whole search state is that one int. Masks are indexed by option and
    by bit position (an option has one bit in each layout), so a single found in any layout is
    placed without translating it back to its option.
    """

    n: int
    width: int  # bits per field: n options and the open bit
    full: int  # every bit: all options live, every constraint open
    top: int  # the open bit of every field
    low: int  # the option bits of every field
    ones: int  # the bottom bit of every field
    field_mask: int  # (1 << n) - 1
    cells_top: int  # the open bits of the cell fields (layout 0): all clear = solved
    given_bit: tuple[int, ...]  # option -> its bit position in the cell layout
    option_at: tuple[int, ...]  # bit -> option id (cell * n + digit - 1); -1 for open bits
    keep: tuple[int, ...]  # option -> the state bits that survive placing it
    keep_after: tuple[int, ...]  # b -> keep of the option at bit b - 1 (0 for open bits)
    options_at: tuple[int, ...]  # b -> the option bits of the field whose open bit is b - 1


@cache
def tables(n: int) -> Tables:
    b = box_side(n)
    w = n + 1
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
    field_index = np.arange(4)[:, None] * cells + fields
    pos = field_index * w + within
    all_fields = 4 * cells
    option_at = np.full(all_fields * w, -1, dtype=np.int64)
    for lay in range(4):
        option_at[pos[lay]] = np.arange(n_opt)
    members = [[np.flatnonzero(fields[lay] == f) for f in range(cells)] for lay in range(4)]
    full = (1 << (all_fields * w)) - 1
    keep = []
    for o in range(n_opt):
        rivals = np.unique(np.concatenate([members[lay][fields[lay, o]] for lay in range(4)]))
        rivals = rivals[rivals != o]
        kill = 0
        for p in pos[:, rivals].ravel().tolist():
            kill |= 1 << p
        for f in field_index[:, o].tolist():
            kill |= 1 << (f * w + n)  # its four constraints are satisfied
        keep.append(full & ~kill)
    top = sum(1 << (f * w + n) for f in range(all_fields))
    ones = sum(1 << (f * w) for f in range(all_fields))
    low = sum(((1 << n) - 1) << (f * w) for f in range(all_fields))
    cells_top = sum(1 << (f * w + n) for f in range(cells))
    option_at_t = tuple(int(v) for v in option_at)
    return Tables(
        n,
        w,
        full,
        top,
        low,
        ones,
        (1 << n) - 1,
        cells_top,
        tuple(int(v) for v in pos[0]),
        option_at_t,
        tuple(keep),
        (0,) + tuple(keep[o] if o >= 0 else 0 for o in option_at_t),
        tuple(
            ((1 << n) - 1) << (k - 1 - n) if k % w == 0 and k > 0 else 0
            for k in range(all_fields * w + 1)
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
    t: Tables, live: int, limit: int, rng: np.random.Generator | None
) -> tuple[list[int], int]:
    """Depth-first search from a start state: (solved states, up to ``limit``; guesses).

    One node: place every forced option until none is left (propagation), stop on a dead end
    or a solved grid, else branch on the open constraint with the fewest options. The search
    is one loop over an explicit stack of states, propagation and choice written inline, all
    tables in local variables: a hard puzzle visits hundreds of nodes, each only a few dozen
    big-int operations, so call and closure-lookup overhead would be a large share of the
    time. Children are pushed in reverse branch order, so they are popped (and counted as
    guesses) in the order a recursive search would visit them, and the search stops as soon
    as ``limit`` solutions are found, as a recursive one returning all the way up would.
    """
    top, low, ones, fmask, n = t.top, t.low, t.ones, t.field_mask, t.n
    cells_top, option_at = t.cells_top, t.option_at
    keep, keep_after, options_at = t.keep, t.keep_after, t.options_at
    solutions: list[int] = []
    guesses = -1  # the start state is popped too, but is no guess
    stack = [live]
    pop, push, bits = stack.pop, stack.append, int.bit_length
    while stack:
        live = pop()
        guesses += 1
        # propagation: place every single of a sweep (highest field first); placing one
        # clears its option's four open bits, so the same option found in another layout is
        # not placed twice. An open field without options is a dead end, met in this loop (it
        # counts as a single); a closed field never empties, as only live options are placed
        # and a live option has no placed rival. So the fixed point and every dead end are
        # those of one-at-a-time placement with a check after each.
        while True:
            # every field loses its lowest bit: an open field keeps its open bit and its
            # options but the lowest, a closed field (one option, no open bit) and an open
            # field without options become empty; no field is ever empty, so nothing borrows
            y = live & (live - ones)
            # open bit of z set in every open field with two or more options, so single
            # holds the open fields with at most one option
            single = (live ^ ((y & low) + low)) & top
            if not single:
                break
            while single:
                # an open constraint with no option left gives f = 0, whose keep is 0: the
                # state empties, which ends the sweep and marks the dead end
                f = live & options_at[bits(single)]
                live &= keep_after[bits(f)]
                single &= live
            if not live:
                break
        if not live:
            continue
        if not live & cells_top:
            solutions.append(live)
            if len(solutions) >= limit:
                break
            continue
        # choice: every open field holds its open bit and one option fewer than it has (two or
        # more); each round removes one more lowest option, and the first round that leaves
        # an open field with its open bit alone found the minimum (the lowest such field
        # breaks ties)
        for _ in range(n):
            y &= (y | top) - ones  # no borrow out of the closed fields, already empty
            emptied = (y ^ ((y & low) + low)) & top  # open fields left with their open bit alone
            if emptied:
                break
        else:
            raise AssertionError("no open constraint on an unsolved grid")
        start = (emptied & -emptied).bit_length() - 1 - n
        f = (live >> start) & fmask
        if rng is None:
            # highest option pushed first, so the lowest is popped (tried) first
            while f:
                k = f.bit_length()
                f ^= 1 << (k - 1)
                push(live & keep_after[start + k])
        else:
            opts = []
            while f:
                lsb = f & -f
                f ^= lsb
                opts.append(option_at[start + lsb.bit_length() - 1])
            for i in rng.permutation(len(opts))[::-1].tolist():
                push(live & keep[opts[i]])
    return solutions, guesses


def _initial(t: Tables, cells: list[int]) -> int | None:
    """The state after placing the givens (``cells`` row-major, 0 = blank), or None when two
    givens clash: each given's keep mask clears its rivals, so a clashing given loses its own
    bit."""
    n = t.n
    options = [cell * n + v - 1 for cell, v in enumerate(cells) if v]
    live = reduce(and_, [t.keep[o] for o in options], t.full)
    given = sum(1 << t.given_bit[o] for o in options)
    if live & given != given:
        return None
    return live


def _decode(t: Tables, live: int) -> np.ndarray:
    """The digits of a solved state, read from its cell layout (one bit per cell field)."""
    n, w = t.n, t.width
    width = n * n * w
    raw = (live & ((1 << width) - 1)).to_bytes((width + 7) // 8, "little")
    bits = np.unpackbits(np.frombuffer(raw, np.uint8), bitorder="little")[:width]
    return (bits.reshape(n * n, w)[:, :n].argmax(axis=1) + 1).astype(np.uint8).reshape(n, n)


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
    solutions, guesses = _search(t, start, limit, rng)
    return SolveResult([_decode(t, live) for live in solutions], guesses)


def count_solutions(grid: np.ndarray, limit: int = 2) -> int:
    """Number of solutions, counted up to ``limit``."""
    return len(solve(grid, limit).solutions)


def rate(grid: np.ndarray) -> int:
    """Guesses needed to solve and prove unique (see :class:`SolveResult`)."""
    return solve(grid, 2).guesses
