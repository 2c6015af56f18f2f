"""Sudoku and maze sources: CSV and list readers, validation with line numbers, generators."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from arcdata.errors import ConfigError, InputError
from arcdata.maze import board as maze_board
from arcdata.maze.paths import valid_shortest_paths
from arcdata.sources import puzzles  # noqa: F401  (registers the readers)
from arcdata.sources.base import REGISTRY, Rejects, read_source
from arcdata.sudoku import board as sudoku_board
from arcdata.sudoku.canonical import canonical_form
from arcdata.sudoku.solver import solve

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
PUZZLE = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"
SOLUTION = "534678912672195348198342567859761423426853791713924856961537284287419635345286179"
HEADER = "source,question,answer,rating\n"


def data(*parts: str) -> Path:
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not present: {path}")
    return path


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def swap_blanks(puzzle: str, solution: str) -> str:
    """The solution with two cells that are blank in the puzzle swapped: consistent, invalid."""
    blanks = [i for i, ch in enumerate(puzzle) if ch == "."]
    i, j = next((i, j) for i in blanks for j in blanks if solution[i] != solution[j])
    chars = list(solution)
    chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


def test_all_puzzle_sources_are_registered():
    for name in ("sudoku_csv", "maze_csv", "sudoku_list", "sudoku_generated", "maze_generated"):
        assert name in REGISTRY


# --------------------------------------------------------------------------- sudoku_csv


def sudoku_rows() -> list[str]:
    good = f"x,{PUZZLE},{SOLUTION},3"
    given_changed = "6" + SOLUTION[1:]
    return [
        good,  # line 2
        f"x,{PUZZLE[:-1]},{SOLUTION},1",  # line 3: short question
        f"x,{PUZZLE},{SOLUTION[:5]}.{SOLUTION[6:]},1",  # line 4: '.' in the answer
        f"x,{PUZZLE},{SOLUTION},hard",  # line 5: rating not an integer
        f"x,{PUZZLE},{given_changed},1",  # line 6: answer changes the given 5
        f"x,{PUZZLE},{swap_blanks(PUZZLE, SOLUTION)},1",  # line 7: not a valid solution
        f"y,{PUZZLE.replace('.', '0')},{SOLUTION},0",  # line 8: '0' blanks are fine
        f"x,{PUZZLE[:3]}x{PUZZLE[4:]},{SOLUTION},1",  # line 9: bad character
    ]


def test_sudoku_csv_rejects_bad_rows_with_line_and_field(tmp_path):
    path = write(tmp_path, "mini.csv", HEADER + "\n".join(sudoku_rows()) + "\n")
    rejects = Rejects("skip")
    result = read_source({"type": "sudoku_csv", "path": str(path)}, rejects)
    assert result.read == 8 and result.rejected == 6 == len(rejects.items)
    got = [(e.line, e.field, e.file) for e in rejects.items]
    assert got == [
        (3, "question", str(path)),
        (4, "answer", str(path)),
        (5, "rating", str(path)),
        (6, "answer", str(path)),
        (7, "answer", str(path)),
        (9, "question", str(path)),
    ]
    messages = [e.message for e in rejects.items]
    assert "expected 81 characters, got 80" in messages[0]
    assert "character 6 is '.'" in messages[1]
    assert "not an integer" in messages[2]
    assert "changes the given at cell (0, 0)" in messages[3]
    assert "not a valid Sudoku solution" in messages[4]
    assert "character 4 is 'x'" in messages[5]
    assert [t.id for t in result.tasks] == ["mini-0", "mini-6"]
    task = result.tasks[0]
    assert task.train and not task.test and not task.evaluation
    assert sudoku_board.to_string(task.train[0].input) == PUZZLE
    assert sudoku_board.to_string(task.train[0].output) == SOLUTION
    assert task.meta == {"rating": 3, "source": "x"}
    assert task.origin.endswith("mini.csv:2")
    assert np.array_equal(result.tasks[1].train[0].input, task.train[0].input)
    assert result.files[0]["path"] == str(path) and len(result.files[0]["sha256"]) == 64


def test_sudoku_csv_fail_policy_raises_first_bad_line(tmp_path):
    path = write(tmp_path, "mini.csv", HEADER + "\n".join(sudoku_rows()) + "\n")
    with pytest.raises(InputError) as info:
        read_source({"type": "sudoku_csv", "path": str(path)}, Rejects("fail"))
    assert info.value.line == 3 and info.value.field == "question"
    assert "mini.csv:3" in str(info.value)


def test_sudoku_csv_subsample_rating_and_evaluation(tmp_path):
    rng = np.random.default_rng(0)
    rows = [f"s,{PUZZLE},{SOLUTION},{int(r)}" for r in rng.integers(0, 10, size=300)]
    path = write(tmp_path, "many.csv", HEADER + "\n".join(rows) + "\n")
    spec = {"type": "sudoku_csv", "path": str(path), "subsample": 20, "seed": 5}
    a = read_source(spec, Rejects())
    b = read_source(spec, Rejects())
    c = read_source({**spec, "seed": 6}, Rejects())
    assert [t.id for t in a.tasks] == [t.id for t in b.tasks]
    assert [t.id for t in a.tasks] != [t.id for t in c.tasks]
    assert len(a.tasks) == 20 and a.read == 300
    ids = [int(t.id.split("-")[1]) for t in a.tasks]
    assert ids == sorted(ids)  # file order kept
    hard = read_source({**spec, "min_rating": 7, "subsample": None}, Rejects())
    ratings = [int(r.rsplit(",", 1)[1]) for r in rows]
    assert len(hard.tasks) == sum(r >= 7 for r in ratings)
    assert all(t.meta["rating"] >= 7 for t in hard.tasks)
    ev = read_source({**spec, "evaluation": True}, Rejects())
    assert all(t.evaluation and t.test and not t.train for t in ev.tasks)
    big = read_source({**spec, "subsample": 1000}, Rejects())
    assert len(big.tasks) == 300


def test_sudoku_csv_bad_specs_and_files(tmp_path):
    path = write(tmp_path, "ok.csv", HEADER + f"x,{PUZZLE},{SOLUTION},1\n")
    for key, value in (("subsample", 0), ("evaluation", "yes"), ("size", 5), ("seed", 1.5)):
        with pytest.raises(ConfigError, match=key):
            read_source({"type": "sudoku_csv", "path": str(path), key: value}, Rejects())
    with pytest.raises(InputError, match="does not exist"):
        read_source({"type": "sudoku_csv", "path": str(tmp_path / "nope.csv")}, Rejects())
    wrong = write(tmp_path, "wrong.csv", "puzzle,solution\n1,2\n")
    with pytest.raises(InputError, match="missing column 'question'"):
        read_source({"type": "sudoku_csv", "path": str(wrong)}, Rejects())


def test_sudoku_csv_4x4(tmp_path):
    path = write(tmp_path, "four.csv", HEADER + "g,1.3..4.22..3.3..,1234341221434321,0\n")
    result = read_source({"type": "sudoku_csv", "path": str(path), "size": 4}, Rejects())
    assert result.tasks[0].train[0].input.shape == (4, 4)


# --------------------------------------------------------------------------- maze_csv


def test_maze_csv_reads_maze_hard_and_validates_every_answer():
    train = data("maze-30x30-hard-1k", "train.csv")
    result = read_source({"type": "maze_csv", "path": str(train)}, Rejects())
    assert len(result.tasks) == 1000 and result.read == 1000 and result.rejected == 0
    task = result.tasks[0]
    assert task.id == "train-0" and task.subset == "maze-30x30-hard-1k/train"
    pair = task.train[0]
    assert pair.input.shape == (30, 30) and pair.input.dtype == np.uint8
    assert task.meta["rating"] == int((pair.output == maze_board.PATH).sum())
    test = data("maze-30x30-hard-1k", "test.csv")
    spec = {
        "type": "maze_csv",
        "path": str(test),
        "evaluation": True,
        "subsample": 10,
        "seed": 1,
        "min_rating": 115,
    }
    ev = read_source(spec, Rejects())
    assert len(ev.tasks) == 10
    assert all(t.evaluation and len(t.test) == 1 and not t.train for t in ev.tasks)
    assert all(t.meta["rating"] >= 115 for t in ev.tasks)
    assert [t.id for t in read_source(spec, Rejects()).tasks] == [t.id for t in ev.tasks]
    qs = np.stack([t.test[0].input for t in ev.tasks])
    ans = np.stack([t.test[0].output for t in ev.tasks])
    assert valid_shortest_paths(qs, ans).all()


def test_maze_csv_rejects_bad_rows(tmp_path):
    q = "S   " + " ## " + "    " + "G   "
    a = "S   " + "o## " + "o   " + "G   "
    detour = "Sooo" + " ##o" + " ooo" + "Go  "
    rows = [
        f"m,{q},{a},2",  # line 2: fine
        f"m,{q[:-1]},{a},2",  # line 3: short
        f"m,{q.replace('S', 'o')},{a},2",  # line 4: 'o' in the question
        f"m,{q.replace('G', 'S')},{a.replace('G', 'S')},2",  # line 5: two S, no G
        f"m,{q},{a.replace('S', ' ')},2",  # line 6: answer moves S
        f"m,{q},{detour},7",  # line 7: a path, not a shortest one
        f"m,{q},{a[:3]}#{a[4:]},2",  # line 8: answer adds a wall
    ]
    path = write(tmp_path, "mini.csv", HEADER + "\n".join(rows) + "\n")
    rejects = Rejects("skip")
    result = read_source({"type": "maze_csv", "path": str(path), "size": 4}, rejects)
    assert [t.id for t in result.tasks] == ["mini-0"]
    assert result.rejected == 6
    got = [(e.line, e.field) for e in rejects.items]
    assert got == [
        (3, "question"),
        (4, "question"),
        (5, "question"),
        (6, "answer"),
        (7, "answer"),
        (8, "answer"),
    ]
    assert "exactly one S and one G" in rejects.items[2].message
    assert "not a shortest path" in rejects.items[4].message
    loose = read_source(
        {"type": "maze_csv", "path": str(path), "size": 4, "check_paths": False}, Rejects("skip")
    )
    assert [t.id for t in loose.tasks] == ["mini-0", "mini-5"]


# --------------------------------------------------------------------------- sudoku_list


def test_sudoku_list_solves_rates_and_rejects(tmp_path):
    several = PUZZLE[:9] + "." * 72
    clash = "55" + PUZZLE[2:]
    no_solution = PUZZLE[:2] + "1" + PUZZLE[3:]
    text = (
        "\n".join(
            [
                "# a comment",
                "",
                PUZZLE,  # line 3
                several,  # line 4
                clash,  # line 5
                no_solution,  # line 6
                PUZZLE.replace(".", "0") + "  trailing text",  # line 7
                PUZZLE[:40],  # line 8
            ]
        )
        + "\n"
    )
    path = write(tmp_path, "list.txt", text)
    rejects = Rejects("skip")
    result = read_source({"type": "sudoku_list", "path": str(path)}, rejects)
    assert result.read == 6 and result.rejected == 4
    assert [(e.line, e.field) for e in rejects.items] == [
        (4, "puzzle"),
        (5, "puzzle"),
        (6, "puzzle"),
        (8, "puzzle"),
    ]
    assert "several solutions" in rejects.items[0].message
    assert "no solution" in rejects.items[1].message
    assert "no solution" in rejects.items[2].message
    assert "expected 81 characters" in rejects.items[3].message
    assert [t.id for t in result.tasks] == ["list-3", "list-7"]
    task = result.tasks[0]
    assert sudoku_board.to_string(task.train[0].output) == SOLUTION
    assert task.meta == {"rating": 0, "clues": 30}
    with pytest.raises(InputError) as info:
        read_source({"type": "sudoku_list", "path": str(path)}, Rejects("fail"))
    assert info.value.line == 4


def test_sudoku_list_reads_the_published_lists():
    path = data("sudoku", "magictour_top1465.txt")
    result = read_source({"type": "sudoku_list", "path": str(path), "evaluation": True}, Rejects())
    assert len(result.tasks) == 1465 and result.rejected == 0
    assert result.tasks[0].id == "magictour_top1465-3"  # two comment lines first
    assert all(t.meta["rating"] > 0 for t in result.tasks)  # none falls to singles alone
    givens = np.stack([t.test[0].input for t in result.tasks])
    solutions = np.stack([t.test[0].output for t in result.tasks])
    assert sudoku_board.is_valid_solution(solutions).all()
    assert sudoku_board.agrees(givens, solutions).all()


def test_sudoku_list_rating_filter_and_subsample(tmp_path):
    source = data("sudoku", "magictour_top1465.txt")
    lines = [ln for ln in source.read_text().splitlines() if ln and not ln.startswith("#")]
    path = write(tmp_path, "some.txt", "\n".join(lines[:40]) + "\n")
    spec = {"type": "sudoku_list", "path": str(path)}
    every = read_source(spec, Rejects())
    ratings = {t.id: t.meta["rating"] for t in every.tasks}
    cut = int(np.median(list(ratings.values())))
    hard = read_source({**spec, "min_rating": cut}, Rejects())
    assert {t.id for t in hard.tasks} == {k for k, v in ratings.items() if v >= cut}
    picked = read_source({**spec, "min_rating": cut, "subsample": 5, "seed": 2}, Rejects())
    assert len(picked.tasks) == 5 and {t.id for t in picked.tasks} <= {t.id for t in hard.tasks}


# --------------------------------------------------------------------------- generators


def test_sudoku_generated_splits_are_disjoint_classes():
    spec = {"type": "sudoku_generated", "count": 4, "test_count": 2, "min_rating": 2, "seed": 9}
    result = read_source(spec, Rejects())
    train = [t for t in result.tasks if not t.evaluation]
    test = [t for t in result.tasks if t.evaluation]
    assert len(train) == 4 and len(test) == 2
    assert all(t.train and not t.test for t in train)
    assert all(t.test and not t.train for t in test)
    forms = [canonical_form(t.pairs()[0][2].input) for t in result.tasks]
    assert len(set(forms)) == 6
    for t in result.tasks:
        pair = t.pairs()[0][2]
        res = solve(pair.input)
        assert res.unique and np.array_equal(res.solutions[0], pair.output)
        assert t.meta["rating"] == res.guesses >= 2
    again = read_source(spec, Rejects())
    assert [t.id for t in again.tasks] == [t.id for t in result.tasks]
    assert all(
        np.array_equal(x.pairs()[0][2].input, y.pairs()[0][2].input)
        for x, y in zip(again.tasks, result.tasks, strict=True)
    )
    assert result.files[0]["path"] == "generated:sudoku_generated"


def test_sudoku_generated_4x4_and_errors():
    result = read_source({"type": "sudoku_generated", "count": 3, "size": 4}, Rejects())
    assert [t.train[0].input.shape for t in result.tasks] == [(4, 4)] * 3
    with pytest.raises(ConfigError, match="min_rating"):
        read_source(
            {
                "type": "sudoku_generated",
                "count": 1,
                "size": 4,
                "min_rating": 40,
                "max_attempts": 5,
            },
            Rejects(),
        )
    with pytest.raises(ConfigError, match="count"):
        read_source({"type": "sudoku_generated", "count": -1}, Rejects())


def test_maze_generated():
    spec = {
        "type": "maze_generated",
        "count": 2,
        "test_count": 1,
        "size": 10,
        "min_path": 16,
        "seed": 4,
    }
    result = read_source(spec, Rejects())
    assert [t.evaluation for t in result.tasks] == [False, False, True]
    qs = np.stack([t.pairs()[0][2].input for t in result.tasks])
    ans = np.stack([t.pairs()[0][2].output for t in result.tasks])
    assert qs.shape == (3, 10, 10)
    assert valid_shortest_paths(qs, ans).all()
    assert all(t.meta["path_length"] > 16 for t in result.tasks)
    with pytest.raises(ConfigError, match="wall"):
        read_source({**spec, "wall_min": 0.6, "wall_max": 0.4}, Rejects())
