"""Hypothesis fuzzing of the Sudoku / maze readers (``sudoku_csv``, ``maze_csv``,
``sudoku_list``): one defect among good rows gives an ``InputError`` naming the file, line and
field under ``fail``, and under ``skip`` the good rows are kept with read = built + rejected.
Defects that make the whole file unreadable (wrong encoding, extra columns) name the file and
are fatal under both policies."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arcdata.errors import InputError
from arcdata.sources import Rejects, read_source
from tests.reliability.helpers import scratch

FUZZ = settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
HEADER = "source,question,answer,rating"


@st.composite
def sudokus(draw) -> tuple[str, str]:
    """(question, answer): a valid 9x9 solution with at most one blank per row, so the puzzle
    has exactly one solution (each row's missing digit is forced)."""
    digits = draw(st.permutations(range(1, 10)))
    answer = "".join(str(digits[(r * 3 + r // 3 + c) % 9]) for r in range(9) for c in range(9))
    blanks = draw(st.lists(st.integers(0, 8), min_size=9, max_size=9))
    cells = list(answer)
    for r, c in enumerate(blanks):
        if c % 2 == 0:  # about half the rows get a blank
            cells[r * 9 + c] = draw(st.sampled_from(".0"))
    return "".join(cells), answer


@st.composite
def mazes(draw, side: int = 6) -> tuple[str, str]:
    """(question, answer): S and G on one open row, walls elsewhere, the straight path as 'o'."""
    row = draw(st.integers(0, side - 1))
    c1, c2 = sorted(draw(st.lists(st.integers(0, side - 1), min_size=2, max_size=2, unique=True)))
    walls = draw(st.lists(st.booleans(), min_size=side * side, max_size=side * side))
    q = ["#" if w and i // side != row else " " for i, w in enumerate(walls)]
    q[row * side + c1], q[row * side + c2] = "S", "G"
    a = list(q)
    for c in range(c1 + 1, c2):
        a[row * side + c] = "o"
    return "".join(q), "".join(a)


ROW_DEFECTS = [
    "question_length",
    "question_char",
    "answer_char",
    "answer_missing",
    "rating",
    "fewer_fields",
    "answer_changes_given",
    "answer_invalid",
    "multibyte",
]
FILE_DEFECTS = ["latin1", "more_fields", "utf16"]


def row_defect(draw, family: str, q: str, a: str, how: str) -> str:
    """One CSV row (source,question,answer,rating) with defect ``how``."""
    rating = "5"
    if how == "question_length":
        q = q[:-1] if draw(st.booleans()) else q + q[0]
    elif how == "question_char":
        i = draw(st.integers(0, len(q) - 1))
        q = q[:i] + draw(st.sampled_from("xZ!9" if family == "maze" else "xZ!a")) + q[i + 1 :]
    elif how == "answer_char":
        a = draw(st.sampled_from("xZ.")) + a[1:] if family == "sudoku" else "x" + a[1:]
    elif how == "answer_missing":
        a = ""
    elif how == "rating":
        rating = draw(st.sampled_from(["high", "1.5", "x1"]))
    elif how == "fewer_fields":
        return f"src,{q},{a}"
    elif how == "answer_changes_given":
        if family == "sudoku":
            i = next(k for k, ch in enumerate(q) if ch not in ".0")
            a = a[:i] + str(int(a[i]) % 9 + 1) + a[i + 1 :]
        else:  # a wall turned open
            i = next((k for k, ch in enumerate(q) if ch == "#"), None)
            if i is None:
                i = q.index("S")
            a = a[:i] + ("o" if q[i] == "#" else " ") + a[i + 1 :]
    elif how == "answer_invalid":
        if family == "sudoku":  # swap two cells of row 0: rows stay valid, columns do not
            a = a[1] + a[0] + a[2:]
            q = "." * 2 + q[2:]
        else:  # drop one path cell: no longer a path
            i = a.find("o")
            a = a[:i] + " " + a[i + 1 :] if i >= 0 else a.replace("G", " ")
    elif how == "multibyte":
        q = "\u00e9" + q[1:]
    return f"src,{q},{a},{rating}"


def csv_spec(family: str, path: Path) -> dict:
    if family == "sudoku":
        return {"type": "sudoku_csv", "path": str(path)}
    return {"type": "maze_csv", "path": str(path), "size": 6}


@FUZZ
@given(
    family=st.sampled_from(["sudoku", "maze"]),
    how=st.sampled_from(ROW_DEFECTS + FILE_DEFECTS),
    data=st.data(),
)
def test_puzzle_csv_any_defect(family, how, data):
    draw = data.draw
    make = sudokus() if family == "sudoku" else mazes()
    good = [draw(make) for _ in range(3)]
    bad_at = draw(st.integers(0, 3))
    lines = [f"src,{q},{a},1" for q, a in good]
    q, a = draw(make)
    lines.insert(
        bad_at, row_defect(draw, family, q, a, how) if how in ROW_DEFECTS else f"src,{q},{a},1"
    )
    text = "\n".join([HEADER, *lines]) + "\n"
    if how == "more_fields":
        text = text.replace(lines[bad_at], lines[bad_at] + ",extra,fields")
    with scratch() as root:
        path = root / f"{family}.csv"
        if how == "latin1":
            path.write_bytes(
                text.replace(lines[bad_at], lines[bad_at] + "\u00e9").encode("latin-1")
            )
        elif how == "utf16":
            path.write_bytes(text.encode("utf-16"))
        else:
            path.write_text(text)
        spec = csv_spec(family, path)
        with pytest.raises(InputError) as info:
            read_source(spec, Rejects("fail"))
        err = info.value
        assert err.file == str(path) and str(path) in str(err)
        if how in FILE_DEFECTS and err.line in (None, 1):  # the file, or its header line
            with pytest.raises(InputError):
                read_source(spec, Rejects("skip"))
            return
        assert how in ROW_DEFECTS or how == "latin1", err
        assert err.line == bad_at + 2 and err.field in ("question", "answer", "rating"), err
        rejects = Rejects("skip")
        res = read_source(spec, rejects)
        assert (res.read, res.rejected, len(res.tasks)) == (4, 1, 3)
        assert [r.line for r in rejects.items] == [bad_at + 2]


LIST_DEFECTS = ["char", "length", "conflict", "several", "truncated"]


@FUZZ
@given(how=st.sampled_from(LIST_DEFECTS + ["latin1"]), data=st.data())
def test_sudoku_list_any_defect(how, data):
    draw = data.draw
    puzzles = [draw(sudokus())[0] for _ in range(3)]
    bad_at = 3 if how == "truncated" else draw(st.integers(0, 3))
    q = draw(sudokus())[0]
    if how == "char":
        q = "x" + q[1:]
    elif how == "length":
        q = q + "1" if draw(st.booleans()) else q[:-3]
    elif how == "conflict":  # the first two cells equal: a given repeats in row 0
        q = q[1] + q[1:] if q[1] not in ".0" else "1" + "1" + q[2:]
    elif how == "several":
        q = "." * 81
    elif how == "truncated":
        q = q[: draw(st.integers(1, 80))]
    lines = ["# hardest list", *puzzles]
    lines.insert(bad_at + 1, q)
    with scratch() as root:
        path = root / "list.txt"
        text = "\n".join(lines) + ("" if how == "truncated" else "\n")
        if how == "latin1":
            path.write_bytes(("# caf\u00e9\n" + text).encode("latin-1"))
        else:
            path.write_text(text)
        spec = {"type": "sudoku_list", "path": str(path)}
        with pytest.raises(InputError) as info:
            read_source(spec, Rejects("fail"))
        err = info.value
        assert err.file == str(path)
        if how == "latin1":
            assert err.line is None and "UTF-8" in str(err)
            return
        assert err.line == bad_at + 2 and err.field == "puzzle", err
        res = read_source(spec, Rejects("skip"))
        assert (res.read, res.rejected, len(res.tasks)) == (4, 1, 3)
