"""Reasoning traces: which examples, the PCA, the captioned strips (Sudoku digits), and a real
tiny Sudoku model traced from the command line."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from arcdata.errors import InputError
from arcdata.hrm.trace import choose, parse_spec, pca_2d


def _frame():
    return pl.DataFrame(
        {
            "example_index": [0, 1, 2, 3, 4, 5],
            "task_id": ["a", "a", "b", "b", "c", "c"],
            "version": [0, 1, 0, 1, 0, 0],
            "role": ["train", "test", "test", "test", "test", "test"],
            "exact": [True, False, True, True, False, False],
        }
    )


def test_specs_pick_the_named_example_test_pairs_first():
    assert parse_spec("abc") == ("abc", None) and parse_spec("x_t1:3") == ("x_t1", 3)
    assert choose(_frame(), ["a"]) == [1]  # the test pair before the train pair
    assert choose(_frame(), ["b:1", "a:0"]) == [3, 0]
    with pytest.raises(InputError, match="task a is present"):
        choose(_frame(), ["a:7"])
    with pytest.raises(InputError, match="task zz is absent"):
        choose(_frame(), ["zz"])
    with pytest.raises(InputError, match="TASK:VERSION"):
        parse_spec("a:x")


def test_default_picks_right_ones_then_wrong_ones():
    assert choose(_frame(), [], per_kind=2) == [2, 3, 1, 4]
    assert choose(_frame(), [], per_kind=1) == [2, 1]


def test_pca_of_points_on_a_line_is_one_axis():
    direction = np.random.default_rng(0).normal(size=50)
    points = np.outer(np.arange(5.0), direction) + 3.0
    coords, share = pca_2d(points)
    assert share[0] == pytest.approx(1.0) and share[1] == 0.0
    np.testing.assert_allclose(np.abs(np.diff(coords[:, 0])), np.linalg.norm(direction))
    assert (coords[:, 1] == 0).all()
    # Two independent directions: both axes used, distances kept.
    plane = (
        np.random.default_rng(1).normal(size=(6, 2))
        @ np.linalg.qr(np.random.default_rng(2).normal(size=(50, 2)))[0].T
    )
    coords, share = pca_2d(plane)
    assert share.sum() == pytest.approx(1.0)
    d = np.linalg.norm(plane[:, None] - plane[None], axis=-1)
    np.testing.assert_allclose(np.linalg.norm(coords[:, None] - coords[None], axis=-1), d)


def test_sudoku_strips_draw_digits_on_box_lines():
    from arcdata.picture import BOX_LINE, Panel, Strip, draw_strips, rgb

    solved = np.array([[1, 2, 3, 4], [3, 4, 1, 2], [2, 1, 4, 3], [4, 3, 2, 1]], np.uint8)
    puzzle = solved * (np.arange(16).reshape(4, 4) % 3 == 0)

    def image(answer):
        strip = Strip("task t", [Panel("input", puzzle), Panel("segment 1", answer, puzzle)])
        fig, lay = draw_strips("t", [strip], "sudoku4")
        return rgb(fig), lay

    with_digits, lay = image(solved)
    blank, _ = image(np.zeros_like(solved))
    p = lay.panels[1]
    for r in range(4):
        for c in range(4):
            y, x = p.y + r * p.cell, p.x + c * p.cell
            cell_now = with_digits[y + 3 : y + p.cell - 2, x + 3 : x + p.cell - 2]
            cell_blank = blank[y + 3 : y + p.cell - 2, x + 3 : x + p.cell - 2]
            assert (cell_now != cell_blank).any(), (r, c)  # a digit is drawn in every cell
    mid = p.y + 2 * p.cell  # the box line between rows 1 and 2
    assert (with_digits[mid, p.x + 2 : p.x + 4 * p.cell - 2] == BOX_LINE).all()


def test_traced_sudoku_from_the_command_line(tiny_sudoku4, tmp_path):
    from PIL import Image

    from arcdata.cli import main

    run = tmp_path / "run"
    tiny = ["max_steps=2", "global_batch_size=8", "eval_interval=-1", "model.hidden_size=32"]
    tiny += ["model.num_heads=2", "model.h_layers=1", "model.l_layers=1", "progress=false"]
    tiny += ["model.halt_max_steps=3", "model.levels=[[1,1],[1,1],[1,1]]"]
    sets = [a for k in tiny for a in ("--set", k)]
    res = CliRunner().invoke(main, ["train", str(tiny_sudoku4), "--out", str(run), *sets])
    assert res.exit_code == 0, res.output
    task = pl.read_parquet(next((tiny_sudoku4 / "test").rglob("*.parquet")))["task_id"][1]
    out = tmp_path / "rep"
    args = ["evaluate", str(run), str(tiny_sudoku4), "--out", str(out), "--trace", task]
    res = CliRunner().invoke(main, [*args, "--halt", "q"])
    assert res.exit_code == 0, res.output
    (t,) = json.loads((out / "trace.json").read_text())
    assert t["task_id"] == task and t["levels"] == ["z_H", "z_M1", "z_L"]
    assert len(t["answers"]) == 3 and np.array(t["answers"][0]).shape == (4, 4)
    assert t["changed"][0] == 16 and all(0 <= c <= 16 for c in t["changed"])
    with Image.open(out / "reasoning_steps.png") as im, Image.open(out / "latents.png") as lat:
        assert im.size[0] > 400 and lat.size[0] > 400
    before = (out / "trace.json").read_text()
    (out / "reasoning_steps.png").unlink()
    res = CliRunner().invoke(main, ["report", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "reasoning_steps.png").is_file() and (out / "trace.json").read_text() == before
    res = CliRunner().invoke(main, [*args[:-1], "no-such-task"])
    assert res.exit_code == 2 and "--trace no-such-task" in res.output
