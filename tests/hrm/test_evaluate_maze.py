"""``arcdata evaluate`` on mazes, end to end: the valid-shortest-path rate it reports is the one
a plain breadth-first search over the predicted grids gives."""

from __future__ import annotations

import json
from collections import deque

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from arcdata.cli import main

WALL, OPEN, START, GOAL, PATH = 0, 1, 2, 3, 4  # "# SGo", written out here on purpose
STEPS = ((-1, 0), (1, 0), (0, -1), (0, 1))


def bfs(grid: np.ndarray, passable: set[int]) -> dict[tuple[int, int], int]:
    """Steps from S to every cell reachable through cells whose value is in ``passable``."""
    (start,) = zip(*np.nonzero(grid == START), strict=True)
    dist = {start: 0}
    todo = deque([start])
    while todo:
        r, c = todo.popleft()
        for dr, dc in STEPS:
            nxt = (r + dr, c + dc)
            inside = 0 <= nxt[0] < grid.shape[0] and 0 <= nxt[1] < grid.shape[1]
            if inside and nxt not in dist and int(grid[nxt]) in passable:
                dist[nxt] = dist[(r, c)] + 1
                todo.append(nxt)
    return dist


def goal_of(grid: np.ndarray) -> tuple[int, int]:
    (goal,) = zip(*np.nonzero(grid == GOAL), strict=True)
    return goal


def is_shortest_path(question: np.ndarray, answer: np.ndarray) -> bool:
    """``answer`` is ``question`` with o drawn on open cells only, exactly (d - 1) of them for
    the shortest S-G distance d, and S reaches G stepping on o cells alone."""
    if answer.shape != question.shape:
        return False
    drawn = answer == PATH
    if not np.all((answer == question) | (drawn & (question == OPEN))):
        return False
    best = bfs(question, {OPEN, START, GOAL}).get(goal_of(question))
    along = bfs(answer, {PATH, GOAL}).get(goal_of(question))
    return best is not None and along == best and int(drawn.sum()) == best - 1


def other_shortest_path(question: np.ndarray) -> np.ndarray:
    """A shortest path walked back from G preferring right, left, down, up: often not the
    label's (which prefers up, down, left, right), yet just as valid."""
    dist = bfs(question, {OPEN, START, GOAL})
    answer = question.copy()
    here = goal_of(question)
    while dist[here] > 1:
        for dr, dc in STEPS[::-1]:
            prev = (here[0] + dr, here[1] + dc)
            if dist.get(prev) == dist[here] - 1:
                break
        answer[prev] = PATH
        here = prev
    return answer


def grid(row: dict, name: str) -> np.ndarray:
    return np.frombuffer(row[name], np.uint8).reshape(row[f"{name}_h"], row[f"{name}_w"])


@pytest.fixture(scope="module")
def maze_run(tmp_path_factory):
    from arcdata.builder.driver import build
    from arcdata.config import resolve

    root = tmp_path_factory.mktemp("maze")
    config = resolve({
        "name": "tiny-maze", "codec": "maze", "ids": "none",
        "sources": {"gen": {"type": "maze_generated", "size": 7, "count": 16, "test_count": 6,
                            "min_path": 5, "seed": 3}},
        "augment": {"versions": 0, "translate": False},
    })  # fmt: skip
    build(config, root / "ds", workers=1, progress=False)
    tiny = {
        "max_steps": 3, "global_batch_size": 8, "eval_interval": -1, "model.hidden_size": 32,
        "model.num_heads": 2, "model.h_layers": 1, "model.l_layers": 1,
        "model.puzzle_emb_ndim": 0, "model.halt_max_steps": 2, "progress": "false",
    }  # fmt: skip
    sets = [a for k, v in tiny.items() for a in ("--set", f"{k}={v}")]
    res = CliRunner().invoke(main, ["train", str(root / "ds"), "--out", str(root / "run"), *sets])
    assert res.exit_code == 0, res.output
    return root / "ds", root / "run"


def test_maze_rate_is_the_share_of_predicted_grids_a_bfs_accepts(maze_run, tmp_path):
    dataset, run = maze_run
    out = tmp_path / "report"
    args = ["evaluate", str(run), str(dataset), "--out", str(out), "--batch-size", "4"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    metrics = json.loads((out / "metrics.json").read_text())
    frame = pl.read_parquet(out / "predictions.parquet")
    assert metrics["codec"] == "maze" and len(frame) == metrics["examples"] == 6
    rows = list(frame.iter_rows(named=True))
    for row in rows:  # the stored labels are shortest paths by this check too
        assert is_shortest_path(grid(row, "input"), grid(row, "target"))
    ours = np.mean([is_shortest_path(grid(r, "input"), grid(r, "prediction")) for r in rows])
    assert metrics["valid_shortest_path"] == pytest.approx(ours)

    # A barely trained model rarely draws a path, so give the report known answers too: the
    # label, another shortest path, a path with a cell missing, one with a cell too many, and
    # the model's own for the rest; `arcdata report` rescores the edited table.
    edited = []
    for i, row in enumerate(rows):
        q, target = grid(row, "input"), grid(row, "target")
        if i == 0:
            answer = target
        elif i == 1:
            answer = other_shortest_path(q)
        elif i == 2:
            answer = target.copy()
            answer[tuple(np.argwhere(target == PATH)[0])] = OPEN
        elif i == 3:
            answer = target.copy()
            answer[tuple(np.argwhere(target == OPEN)[0])] = PATH
        else:
            answer = grid(row, "prediction")
        edited.append(answer)
    expected = [is_shortest_path(grid(r, "input"), a) for r, a in zip(rows, edited, strict=True)]
    assert expected[:4] == [True, True, False, False]
    assert not np.array_equal(edited[1], grid(rows[1], "target"))  # a path of its own
    frame.with_columns(
        pl.Series("prediction", [a.tobytes() for a in edited], pl.Binary)
    ).write_parquet(out / "predictions.parquet")
    res = CliRunner().invoke(main, ["report", str(out)])
    assert res.exit_code == 0, res.output
    rescored = json.loads((out / "metrics.json").read_text())
    assert rescored["valid_shortest_path"] == pytest.approx(np.mean(expected))
    assert rescored["valid_shortest_path"] >= 2 / 6
