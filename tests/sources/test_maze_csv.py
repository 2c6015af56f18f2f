"""The ``maze_csv`` source."""

from __future__ import annotations

import numpy as np

from arcdata.maze import board as maze_board
from arcdata.maze.paths import valid_shortest_paths
from arcdata.sources.base import Rejects, read_source
from tests.sources.puzzle_helpers import HEADER, data, write


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
