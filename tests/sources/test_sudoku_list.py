"""The ``sudoku_list`` source."""

from __future__ import annotations

import numpy as np
import pytest

from arcdata.errors import InputError
from arcdata.sources.base import Rejects, read_source
from arcdata.sudoku import board as sudoku_board
from tests.sources.puzzle_helpers import PUZZLE, SOLUTION, data, write


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
