"""Embedding ids and names: dense layout, names that parse back, and names that never collide."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arcdata import ids
from arcdata.augment import colour
from arcdata.augment import sudoku as aug
from arcdata.augment.transform import Transform
from arcdata.builder.units import identifier_table
from arcdata.records import Pair, Task

# task ids built from the pieces generated names are made of, so collisions are likely to be
# tried: "_t1_", digits, "_train", "_r", "_c"
pieces = st.sampled_from(["x", "_t", "1", "_", "0123456789", "_train", "_test", "0", "_r", "_c"])
task_ids = st.lists(pieces, min_size=1, max_size=6).map("".join)


def test_layout_is_dense_from_one_with_zero_blank():
    pairs, versions = [2, 3, 1], [4, 1, 2]
    assert ids.id_bases(pairs, versions, "version") == [1, 5, 6]
    assert ids.id_bases(pairs, versions, "task") == [1, 2, 3]
    assert ids.id_bases(pairs, versions, "pair") == [1, 9, 12]
    assert ids.id_bases(pairs, versions, "none") == [0, 0, 0]
    assert ids.embedding_ids("pair", 9, 1, 3).tolist() == [[9, 10, 11]]
    assert ids.embedding_ids("version", 5, 2, 2).tolist() == [[5, 5], [6, 6]]
    assert ids.embedding_ids("task", 2, 2, 2).tolist() == [[2, 2], [2, 2]]
    assert (ids.embedding_ids("none", 7, 2, 2) == ids.BLANK_ID).all()
    with pytest.raises(ValueError, match="ids must be one of"):
        ids.ids_needed("pairs", 1, 1)


def test_the_issue_collision_is_refused():
    """Task ``x`` version ``x_t1_0123456789`` vs a task literally named so."""
    t = Transform([1], colour.IDENTITY[None])
    assert ids.version_name("x", t, 0, version=1) == "x_t1_0123456789"
    assert "version name" in ids.task_id_problem("x_t1_0123456789")
    assert "pair name" in ids.task_id_problem("x_train0")
    assert "version name" in ids.task_id_problem("_t0_1")  # a malformed version suffix too
    assert ids.task_id_problem(ids.BLANK) and ids.task_id_problem("")
    assert ids.task_id_problem("007bbfc7") is None
    assert ids.task_id_problem("sudoku-extreme-s0-train-17") is None


def random_transform(seed: int, sudoku: bool) -> Transform:
    """One random version: Sudoku moves (4x4) or a D4 transform with a colour map."""
    rng = np.random.default_rng(seed)
    if sudoku:
        return aug.random_moves(rng, 1, 4)
    return Transform(rng.integers(0, 8, 1), colour.random_maps(rng, 1))


@settings(max_examples=200, deadline=None)
@given(task_id=task_ids, seed=st.integers(0, 2**32 - 1), sudoku=st.booleans())
def test_names_parse_back(task_id, seed, sudoku):
    if ids.task_id_problem(task_id):
        return
    t = random_transform(seed, sudoku)
    name = ids.version_name(task_id, t, 0, version=1)
    parsed = ids.parse_name(name)
    assert parsed.task == task_id and parsed.transform.equals(t) and parsed.role is None
    assert parsed.base == name
    pair = ids.parse_name(ids.pair_name(name, "test", 12))
    assert (pair.task, pair.role, pair.index) == (task_id, "test", 12)
    assert pair.transform.equals(t)
    own = ids.parse_name(ids.pair_name(task_id, "train", 0))
    assert (own.task, own.transform, own.role, own.index) == (task_id, None, "train", 0)


def tasks_named(names: list[str]) -> list[Task]:
    rng = np.random.default_rng(0)
    out = []
    for name in names:
        g = rng.integers(1, 10, (2, 3)).astype(np.uint8)
        out.append(Task(name, (Pair(g, g), Pair(g.T.copy(), g)), (Pair(g, g),)))
    return out


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(task_ids, min_size=1, max_size=5, unique=True),
    granularity=st.sampled_from(["version", "task", "pair"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_allowed_task_ids_never_give_colliding_names(names, granularity, seed):
    names = sorted(n for n in names if ids.task_id_problem(n) is None)
    if not names:
        return
    tasks = tasks_named(names)
    rng = np.random.default_rng(seed)
    plans = []
    for _ in tasks:
        v = int(rng.integers(1, 6))  # distinct transforms within a task, as the planner gives
        maps = np.unique(colour.random_maps(rng, 3 * v), axis=0)[: v - 1]
        dih = rng.integers(0, 8, len(maps))
        plans.append(Transform.concat([Transform.identity(), Transform(dih, maps)]))
    bases = ids.id_bases([len(t.pairs()) for t in tasks], [len(p) for p in plans], granularity)
    table = identifier_table(tasks, plans, bases, granularity)
    names_col = table.column("name").combine_chunks()
    assert ids.duplicate_names(names_col) == []
    assert ids.BLANK not in names_col.to_pylist()
    got = table.column("embedding_id").to_numpy()
    assert np.array_equal(np.sort(got), np.arange(1, 1 + len(got)))  # dense from 1
    for name, task in zip(names_col.to_pylist(), table.column("task_id").to_pylist(), strict=True):
        assert ids.parse_name(name).task == task


def test_duplicate_names_are_found():
    assert ids.duplicate_names(pa.array(["a", "b", "a", "c", "b"])) == ["a", "b"]
    assert ids.duplicate_names(["a"]) == []


def test_sudoku_versions_are_named_by_their_whole_move():
    """A 4x4 puzzle has 48 (transpose, digit map) choices but 3072 moves: names must tell
    every version apart, so they carry the row and column maps too."""
    full = np.array([[1, 2, 3, 4], [3, 4, 1, 2], [2, 1, 4, 3], [4, 3, 2, 1]], np.uint8)
    task = Task("s", (Pair(np.where(full > 2, full, 0).astype(np.uint8), full),), ())
    plan = aug.plan_sudoku(task, versions=200, seed=0)
    assert len(plan) > 100
    table = identifier_table([task], [plan], [1], "version")
    names = table.column("name").combine_chunks()
    assert ids.duplicate_names(names) == []
    back = ids.parse_name(names[5].as_py()).transform
    assert back.equals(plan.take(5))


@settings(max_examples=100, deadline=None)
@given(
    task_id=task_ids,
    seed=st.integers(0, 2**32 - 1),
    sudoku=st.booleans(),
    pair=st.sampled_from([None, ("train", 0), ("test", 3)]),
)
def test_parse_names_agrees_with_parse_name(task_id, seed, sudoku, pair):
    """The vectorised reader of a whole map reads every written name as parse_name does."""
    if ids.task_id_problem(task_id):
        return
    t = random_transform(seed, sudoku)
    names = [task_id, ids.version_name(task_id, t, 0, version=1)]
    if pair:
        names = [ids.pair_name(n, *pair) for n in names]
    assert ids.name_problems(names) == {}
    cols = ids.parse_names(names)
    for i, name in enumerate(names):
        one = ids.parse_name(name)
        assert cols.task[i].as_py() == one.task and cols.base[i].as_py() == one.base
        assert bool(cols.is_version[i]) == (one.transform is not None)
        assert cols.role[i].as_py() == one.role and (cols.index[i] if pair else None) == one.index
        if one.transform is not None:
            assert cols.transform([i]).equals(one.transform)


def test_name_problems_say_why():
    bad = ids.name_problems(
        [
            "",
            ids.BLANK,
            "a_t8_0123456789",
            "a_t1_1123456789",
            "a_train01",
            "x_t1_0123456789_t2_0123456789",
        ]
    )
    assert list(bad) == [0, 1, 2, 3, 4, 5]
    assert "empty" in bad[0] and "id 0" in bad[1] and "0..7" in bad[2]
    assert "permutation" in bad[3] and "leading 0" in bad[4] and "version name" in bad[5]
    assert ids.name_problems(["a", "a_t1_0123456789", "a_t1_0123456789_test2"]) == {}
