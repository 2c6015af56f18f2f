"""The ``sudoku_csv`` source."""

from __future__ import annotations

import numpy as np
import pytest

from arcdata.errors import ConfigError, InputError
from arcdata.sources.base import Rejects, read_source
from arcdata.sudoku import board as sudoku_board
from tests.sources.puzzle_helpers import HEADER, PUZZLE, SOLUTION, swap_blanks, write


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
