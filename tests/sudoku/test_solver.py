"""The Sudoku board helpers and the bit-parallel solver, checked against independent references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arcdata.sudoku import board
from arcdata.sudoku.solver import count_solutions, rate, solve
from tests.conftest import SHARED_DATA

DATA = SHARED_DATA / "sudoku"

# a classic puzzle and its published solution
PUZZLE = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"
SOLUTION = "534678912672195348198342567859761423426853791713924856961537284287419635345286179"


def load_list(name: str) -> list[str]:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"real data not present: {path}")
    lines = path.read_text().splitlines()
    return [line.split()[0] for line in lines if line.strip() and not line.startswith("#")]


def brute_count(grid: np.ndarray, limit: int = 10**9) -> int:
    """Plain backtracking over the first blank: slow, obviously correct (for 4x4)."""
    n = grid.shape[0]
    b = board.box_side(n)
    g = grid.copy()

    def ok(r, c, v):
        br, bc = r - r % b, c - c % b
        return v not in g[r] and v not in g[:, c] and v not in g[br : br + b, bc : bc + b]

    def rec() -> int:
        blanks = np.argwhere(g == 0)
        if not len(blanks):
            return 1
        r, c = blanks[0]
        total = 0
        for v in range(1, n + 1):
            if ok(r, c, v):
                g[r, c] = v
                total += rec()
                g[r, c] = 0
                if total >= limit:
                    break
        return total

    if board.has_conflict(grid):
        return 0
    return rec()


def test_parse_and_to_string_round_trip():
    grid = board.parse(PUZZLE)
    assert grid.shape == (9, 9) and grid.dtype == np.uint8
    assert grid[0, 0] == 5 and grid[0, 2] == 0
    assert board.to_string(grid) == PUZZLE
    assert board.to_string(board.parse(PUZZLE.replace(".", "0")), blank="0") == PUZZLE.replace(
        ".", "0"
    )


def test_parse_rejects_bad_text():
    with pytest.raises(ValueError, match="expected 81 characters"):
        board.parse(PUZZLE[:-1], 9)
    with pytest.raises(ValueError, match="character 3 is 'x'"):
        board.parse(PUZZLE[:2] + "x" + PUZZLE[3:])
    with pytest.raises(ValueError, match="allowed"):
        board.parse("1234123412345123"[:15] + "5", 4)  # digit 5 on a 4x4
    with pytest.raises(ValueError):
        board.parse(SOLUTION[:10] + "." + SOLUTION[11:], blanks=False)


def test_validity_checks():
    sol = board.parse(SOLUTION)
    assert board.is_valid_solution(sol)
    assert not board.has_conflict(sol)
    assert board.agrees(board.parse(PUZZLE), sol)
    swapped = sol.copy()
    swapped[0, [0, 1]] = swapped[0, [1, 0]]  # rows still fine, columns and box break
    assert not board.is_valid_solution(swapped)
    assert board.has_conflict(swapped)
    holey = sol.copy()
    holey[4, 4] = 0
    assert not board.is_valid_solution(holey)
    assert not board.has_conflict(holey)
    stack = np.stack([sol, swapped, holey])
    assert board.is_valid_solution(stack).tolist() == [True, False, False]


def set_based_valid(g: np.ndarray) -> bool:
    n = g.shape[0]
    b = board.box_side(n)
    boxes = [g[r : r + b, c : c + b].ravel() for r in range(0, n, b) for c in range(0, n, b)]
    return all(set(u.tolist()) == set(range(1, n + 1)) for u in [*g, *g.T, *boxes])


@pytest.mark.parametrize("n", [4, 9])
def test_is_valid_solution_matches_a_set_based_check(n):
    rng = np.random.default_rng(n)
    base = solve(np.zeros((n, n), np.uint8), limit=1, rng=rng).solutions[0]
    grids = np.stack([base] * 3000)
    noise = rng.random(grids.shape) < 0.03
    grids[noise] = rng.integers(0, n + 2, noise.sum())  # includes 0 and n + 1
    expect = np.array([set_based_valid(g) for g in grids])
    assert 0 < expect.sum() < len(grids)
    assert np.array_equal(board.is_valid_solution(grids), expect)


def test_solves_a_classic_puzzle():
    result = solve(board.parse(PUZZLE))
    assert result.unique
    assert board.to_string(result.solutions[0]) == SOLUTION
    assert result.guesses == 0  # singles alone solve it
    assert rate(board.parse(PUZZLE)) == 0


def test_no_solution_and_several_solutions():
    clash = board.parse(PUZZLE)
    clash[0, 2] = 5  # two 5s in row 0
    assert count_solutions(clash) == 0
    dead = board.parse(PUZZLE)
    dead[0, 2] = 1  # legal-looking given that the solution contradicts
    assert board.to_string(dead) != PUZZLE and not board.has_conflict(dead)
    assert count_solutions(dead) == 0
    open_ = board.parse(PUZZLE)
    open_[board.parse(PUZZLE) > 0] = 0
    open_[0, :] = board.parse(SOLUTION)[0]
    assert count_solutions(open_) == 2
    assert count_solutions(np.zeros((4, 4), np.uint8), limit=1000) == 288


def test_4x4_counts_match_brute_force_on_random_clue_patterns():
    """Random clue subsets of one 4x4 solution: counts agree with plain backtracking."""
    sol = board.parse("1234341221434321", 4)
    rng = np.random.default_rng(0)
    for _ in range(300):
        keep = rng.random(16) < rng.uniform(0.1, 0.6)
        puzzle = np.where(keep.reshape(4, 4), sol, 0).astype(np.uint8)
        expect = brute_count(puzzle)
        got = solve(puzzle, limit=1000)
        assert len(got.solutions) == expect
        assert all(board.is_valid_solution(s) and board.agrees(puzzle, s) for s in got.solutions)
        assert len({s.tobytes() for s in got.solutions}) == expect


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), clues=st.integers(17, 60))
def test_random_9x9_puzzles_solve_consistently(seed, clues):
    rng = np.random.default_rng(seed)
    full = solve(np.zeros((9, 9), np.uint8), limit=1, rng=rng).solutions[0]
    assert board.is_valid_solution(full)
    puzzle = full.copy().ravel()
    puzzle[rng.permutation(81)[clues:]] = 0
    puzzle = puzzle.reshape(9, 9)
    result = solve(puzzle, limit=2)
    assert 1 <= len(result.solutions) <= 2  # ``full`` is always a solution
    for s in result.solutions:
        assert board.is_valid_solution(s) and board.agrees(puzzle, s)
    if result.unique:
        assert np.array_equal(result.solutions[0], full)


def test_rng_changes_the_grid_but_not_validity():
    grids = {
        solve(np.zeros((9, 9), np.uint8), 1, rng=np.random.default_rng(s)).solutions[0].tobytes()
        for s in range(5)
    }
    assert len(grids) == 5


def test_published_hard_puzzles_are_unique_and_correct():
    """All 1465 of magictour_top1465 go through the sudoku_list reader test and the benchmark;
    here a slice of each published list, solved directly."""
    puzzles = load_list("magictour_top1465.txt")[:150] + load_list("forum_hardest_1106.txt")[:25]
    for text in puzzles:
        grid = board.parse(text)
        result = solve(grid)
        assert result.unique, text
        assert board.is_valid_solution(result.solutions[0]) and board.agrees(
            grid, result.solutions[0]
        )
        assert result.guesses > 0  # these are all beyond singles


def test_box_side():
    assert [board.box_side(n) for n in (4, 9, 16)] == [2, 3, 4]
    for bad in (3, 8, 1):
        with pytest.raises(ValueError):
            board.box_side(bad)


def reference_search(grid: np.ndarray, limit: int = 2) -> tuple[list[np.ndarray], int]:
    """The rating's definition, written plainly with sets: place one forced option at a time
    (a constraint with one option left), a dead end as soon as an open constraint has none,
    then branch on the open constraint with the fewest options (first in field order: cells,
    then (row, digit), (column, digit), (box, digit)), options in bit order."""
    n = grid.shape[0]
    b = board.box_side(n)
    fields: list[list[tuple[int, int]]] = []  # options (cell, digit) of each field, bit order
    for lay in range(4):
        for f in range(n * n):
            a, d = divmod(f, n)
            if lay == 0:
                fields.append([(f, v) for v in range(1, n + 1)])
            elif lay == 1:
                fields.append([(a * n + c, d + 1) for c in range(n)])
            elif lay == 2:
                fields.append([(r * n + a, d + 1) for r in range(n)])
            else:
                r0, c0 = (a // b) * b, (a % b) * b
                fields.append([((r0 + k // b) * n + c0 + k % b, d + 1) for k in range(n)])
    member = {}
    for index, options in enumerate(fields):
        for o in options:
            member.setdefault(o, []).append(index)

    def place(live: set, open_: set, o) -> tuple[set, set]:
        rivals = {p for f in member[o] for p in fields[f] if p != o}
        return live - rivals, open_ - set(member[o])

    solutions, guesses = [], 0

    def node(live: set, open_: set) -> None:
        nonlocal guesses
        while True:
            counts = {f: [o for o in fields[f] if o in live] for f in sorted(open_)}
            if any(not opts for opts in counts.values()):
                return
            single = next((opts[0] for opts in counts.values() if len(opts) == 1), None)
            if single is None:
                break
            live, open_ = place(live, open_, single)
        if not any(f < n * n for f in open_):
            solved = np.zeros(n * n, np.uint8)
            for cell, v in live:
                solved[cell] = v
            solutions.append(solved.reshape(n, n))
            return
        best = min(counts, key=lambda f: (len(counts[f]), f))
        for o in counts[best]:
            guesses += 1
            node(*place(live, open_, o))
            if len(solutions) >= limit:
                return

    live, open_ = {o for o in member}, set(range(len(fields)))
    for cell, v in enumerate(grid.ravel().tolist()):
        if v:
            if (cell, v) not in live:
                return [], 0
            live, open_ = place(live, open_, (cell, v))
    node(live, open_)
    return solutions, guesses


@pytest.mark.parametrize(
    "puzzle",
    [
        PUZZLE,
        # AI Escargot and two 17-clue puzzles: dozens to hundreds of guesses
        "1....7.9..3..2...8..96..5....53..9...1..8...26....4...3......1..4......7..7...3..",
        "...8.1..........435............7.8........1...2..3....6......75..34........2..6..",
        ".......12.5.4............3.7..6..4....1..........8....92....8.....51.7.......3...",
        # several solutions: the search stops at the limit
        PUZZLE[:40] + "." * 41,
    ],
)
def test_search_and_rating_match_one_placement_at_a_time(puzzle):
    grid = board.parse(puzzle)
    expected, guesses = reference_search(grid)
    result = solve(grid, limit=2)
    assert result.guesses == guesses
    assert len(result.solutions) == len(expected)
    assert all(np.array_equal(a, b) for a, b in zip(result.solutions, expected, strict=True))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 16))
def test_4x4_search_matches_one_placement_at_a_time(seed, clues):
    rng = np.random.default_rng(seed)
    solution = solve(np.zeros((4, 4), np.uint8), limit=1, rng=rng).solutions[0]
    grid = solution.copy()
    grid.flat[rng.permutation(16)[clues:]] = 0
    expected, guesses = reference_search(grid, limit=3)
    result = solve(grid, limit=3)
    assert result.guesses == guesses and len(result.solutions) == len(expected)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), keep=st.floats(0.0, 1.0), noise=st.booleans())
def test_4x4_property_solutions_valid_and_uniqueness_matches_brute_force(seed, keep, noise):
    """Any partial 4x4 grid (clues of a solution, optionally one wrong clue): every solution
    found is valid and keeps the givens, and limit=2's verdict (none / unique / several) is
    the brute-force count's."""
    rng = np.random.default_rng(seed)
    full = solve(np.zeros((4, 4), np.uint8), limit=1, rng=rng).solutions[0]
    grid = np.where(rng.random((4, 4)) < keep, full, 0).astype(np.uint8)
    if noise:
        grid.flat[rng.integers(16)] = rng.integers(1, 5)
    result = solve(grid, limit=2)
    for s in result.solutions:
        assert board.is_valid_solution(s) and board.agrees(grid, s)
    assert len(result.solutions) == min(brute_count(grid, limit=2), 2)
    assert result.unique == (brute_count(grid) == 1)
