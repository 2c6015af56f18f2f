"""What ``verify`` re-derives from the rows themselves, so a manifest cannot vouch for bad data.

Checksums prove that files are the ones the manifest names, not that the manifest is right: a
writer bug, a hand-edited manifest or a shard rewritten with its checksum fixed up all pass
them. So every row is read once, in Arrow batches, and checked against the rules its pipeline
implies (cells in the codec's range, shapes that fit its canvas, colour maps that are
permutations fixing the fixed colours, dihedral ids the pipeline can draw, version 0 the
identity), and every count the manifest records is recomputed from the rows' keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from arcdata.config import mapped_versions
from arcdata.ids import id_count
from arcdata.tokens import Codec, get_codec

IDENTITY_MAP = "0123456789"
KEY_COLUMNS = ["task_id", "version", "embedding_id"]
ROW_COLUMNS = [
    "task_id",
    "split",
    "version",
    "dihedral",
    "colour_map",
    "embedding_id",
    "input_h",
    "input_w",
    "output_h",
    "output_w",
    "offset_r",
    "offset_c",
    "input",
    "output",
]


@dataclass(frozen=True)
class Rules:
    """What the manifest's pipeline allows a row to hold."""

    codec: Codec
    fixed_colours: frozenset[int]
    dihedral: frozenset[int]
    id_count: int
    granularity: str

    @classmethod
    def of(cls, manifest: dict) -> Rules:
        """The rules of a schema-valid manifest; KeyError when its codec is unknown."""
        codec = get_codec(manifest["codec"])
        aug = manifest["config"].get("augment", {})
        if aug.get("sudoku"):  # digits 1..n move, blank and unused values stay (plan_sudoku)
            fixed = {0, *range(codec.side + 1, 10)}
            dihedral = {0, 6}
        else:
            colours = aug.get("colours", {})
            fixed = (
                set(colours.get("fixed", [0])) if colours.get("permute", True) else set(range(10))
            )
            dihedral = set(aug.get("dihedral", range(8))) | {0}
        ids = manifest["embedding_ids"]
        return cls(codec, frozenset(fixed), frozenset(dihedral), ids["count"], ids["granularity"])


@dataclass
class _Tally:
    """Rows failing each check, with the first one's task and version to show where."""

    counts: dict[str, int] = field(default_factory=dict)
    first: dict[str, str] = field(default_factory=dict)

    def add(self, check: str, bad: np.ndarray, batch: pa.RecordBatch) -> None:
        n = int(np.count_nonzero(bad))
        if not n:
            return
        if check not in self.first:
            i = int(np.flatnonzero(bad)[0])
            task = batch.column(0)[i].as_py()
            version = batch.column(2)[i].as_py()
            self.first[check] = f"first: task {task} version {version}"
        self.counts[check] = self.counts.get(check, 0) + n

    def messages(self) -> list[str]:
        return [f"{self.counts[c]} rows: {c} ({self.first[c]})" for c in self.counts]


def _cells(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, values) of a binary column without copying: row i is values[o[i]:o[i+1]]."""
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int32)[
        column.offset : column.offset + len(column) + 1
    ]
    data = column.buffers()[2]
    values = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return offsets, values


def _check_grids(batch: pa.RecordBatch, rules: Rules, tally: _Tally) -> None:
    side, top = rules.codec.side, rules.codec.max_value
    col = {name: batch.column(i) for i, name in enumerate(batch.schema.names)}
    off_r = col["offset_r"].to_numpy().astype(np.int64)
    off_c = col["offset_c"].to_numpy().astype(np.int64)
    for kind in ("input", "output"):
        h = col[f"{kind}_h"].to_numpy().astype(np.int64)
        w = col[f"{kind}_w"].to_numpy().astype(np.int64)
        outside = (h < 1) | (w < 1) | (off_r + h > side) | (off_c + w > side)
        tally.add(
            f"{kind} shape outside the {side}x{side} canvas of codec {rules.codec.name}",
            outside,
            batch,
        )
        offsets, values = _cells(col[kind])
        tally.add(
            f"{kind} holds a number of cells other than its height x width",
            np.diff(offsets) != h * w,
            batch,
        )
        used = values[offsets[0] : offsets[-1]]
        hot = np.flatnonzero(used > top)
        if hot.size:
            rows = np.unique(np.searchsorted(offsets, hot + offsets[0], side="right") - 1)
            bad = np.zeros(len(h), dtype=bool)
            bad[rows] = True
            tally.add(f"{kind} cells outside 0..{top} (codec {rules.codec.name})", bad, batch)


def colour_map_problem(text: str, fixed: frozenset[int]) -> str | None:
    """Why a stored colour map is not a permutation of 0..9 fixing ``fixed``, or None."""
    if len(text) != 10 or not text.isdigit() or sorted(text) != list(IDENTITY_MAP):
        return "colour map is not a permutation of the 10 digits"
    moved = sorted(c for c in fixed if text[c] != str(c))
    if moved:
        return f"colour map moves fixed colour(s) {moved}"
    return None


def _check_transforms(batch: pa.RecordBatch, rules: Rules, tally: _Tally) -> None:
    names = batch.schema.names
    maps = batch.column(names.index("colour_map"))
    for text in pc.unique(maps).to_pylist():
        why = colour_map_problem(text, rules.fixed_colours)
        if why:
            bad = pc.equal(maps, pa.scalar(text)).to_numpy(zero_copy_only=False)
            tally.add(why, bad, batch)
    dihedral = batch.column(names.index("dihedral")).to_numpy()
    tally.add("dihedral id outside 0..7", (dihedral < 0) | (dihedral > 7), batch)
    allowed = np.array(sorted(rules.dihedral), dtype=dihedral.dtype)
    tally.add(
        f"dihedral id not one the pipeline draws {sorted(rules.dihedral)}",
        (dihedral >= 0) & (dihedral <= 7) & ~np.isin(dihedral, allowed),
        batch,
    )
    version = batch.column(names.index("version")).to_numpy()
    identity = pc.equal(maps, pa.scalar(IDENTITY_MAP)).to_numpy(zero_copy_only=False)
    tally.add(
        "version 0 is not the identity transform",
        (version == 0) & ((dihedral != 0) | ~identity),
        batch,
    )


def _check_ids(ids: np.ndarray, rules: Rules) -> list[str]:
    if not len(ids):
        return []
    lo, hi = int(ids.min()), int(ids.max())
    if rules.granularity == "none":
        if (lo, hi) != (0, 0):
            return [f"embedding ids {lo}..{hi}, but granularity none means all 0"]
    elif lo <= 0 or hi >= rules.id_count:
        return [
            f"embedding ids {lo}..{hi} outside 1..{rules.id_count - 1} "
            f"(embedding_ids.count {rules.id_count})"
        ]
    return []


def check_rows(pf: pq.ParquetFile, split: str, rules: Rules) -> tuple[list[str], pa.Table]:
    """Problems of one shard's rows, and its distinct (task_id, version, embedding_id) keys."""
    tally = _Tally()
    bad_split, keys, ids = 0, [], []
    for batch in pf.iter_batches(batch_size=65536, columns=ROW_COLUMNS):
        bad_split += int(pc.sum(pc.not_equal(batch.column(1), pa.scalar(split))).as_py() or 0)
        _check_grids(batch, rules, tally)
        _check_transforms(batch, rules, tally)
        ids.append(batch.column(5).to_numpy())
        keys.append(pa.table(batch.select(KEY_COLUMNS)).group_by(KEY_COLUMNS).aggregate([]))
    out = []
    if bad_split:
        out.append(f"{bad_split} rows have a split other than {split!r} (its folder)")
    out += _check_ids(np.concatenate(ids) if ids else np.zeros(0, np.int32), rules)
    out += tally.messages()
    table = pa.concat_tables(keys) if keys else _empty_keys()
    return out, table.group_by(KEY_COLUMNS).aggregate([]).select(KEY_COLUMNS)


def _empty_keys() -> pa.Table:
    return pa.table(
        {
            "task_id": pa.array([], pa.string()),
            "version": pa.array([], pa.int32()),
            "embedding_id": pa.array([], pa.int32()),
        }
    )


def _distinct(table: pa.Table, columns: list[str]) -> pa.Table:
    return table.group_by(columns).aggregate([]).select(columns)


def check_counts(manifest: dict, keys: dict[str, list[pa.Table]]) -> list[str]:
    """Every count the manifest records, recomputed from the shards' keys (split -> tables)."""
    out = []
    per_split = {s: pa.concat_tables(t) if t else _empty_keys() for s, t in keys.items()}
    for split, table in sorted(per_split.items()):
        record = manifest["splits"][split]
        groups = pc.count_distinct(table["task_id"]).as_py()
        puzzles = _distinct(table, ["task_id", "version"]).num_rows
        for name, derived in (("groups", groups), ("puzzles", puzzles)):
            if record[name] != derived:
                out.append(f"split {split}: {name} {record[name]} but its rows hold {derived}")
    everything = pa.concat_tables(per_split.values()) if per_split else _empty_keys()
    versions = _distinct(everything, ["task_id", "version"])
    per_task = versions.group_by("task_id").aggregate(
        [("version", "count"), ("version", "min"), ("version", "max")]
    )
    tasks = per_task["task_id"].to_pylist()
    count = per_task["version_count"].to_numpy()
    lo, hi = per_task["version_min"].to_numpy(), per_task["version_max"].to_numpy()
    gaps = [t for t, n, a, b in zip(tasks, count, lo, hi, strict=True) if a != 0 or b != n - 1]
    if gaps:
        out.append(f"versions are not numbered 0..n-1 for {len(gaps)} task(s), first {gaps[0]}")
    out += _check_versions(manifest, per_split, dict(zip(tasks, count.tolist(), strict=True)))
    totals = manifest["totals"]
    for name, derived in (("tasks", len(tasks)), ("versions", versions.num_rows)):
        if totals[name] != derived:
            out.append(f"totals.{name} {totals[name]} but the rows hold {derived}")
    out += _check_id_count(manifest, len(tasks), versions.num_rows)
    return out


def _check_versions(manifest: dict, per_split: dict, counts: dict[str, int]) -> list[str]:
    """Each task's version count against short_tasks (listed) or the requested count."""
    short = manifest["short_tasks"]
    listed, requested = short["tasks"], short["requested_versions"]
    augment_eval = manifest["config"].get("augment", {}).get("evaluation", True)
    augment_eval = augment_eval or mapped_versions(manifest["config"])  # the map names them all
    evaluation = set()
    for split, table in per_split.items():
        if split != "train":  # only evaluation tasks put pairs outside the train split
            evaluation.update(pc.unique(table["task_id"]).to_pylist())
    wrong = []
    for task, n in sorted(counts.items()):
        frozen = task in evaluation and not augment_eval
        expect = listed.get(task, 1 if frozen else requested)
        if n != expect:
            wrong.append(f"{task} has {n} versions in the rows, the manifest implies {expect}")
    missing = sorted(set(listed) - set(counts))
    out = []
    if wrong:
        more = f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""
        out.append(f"versions per task: {wrong[0]}{more}")
    if missing:
        out.append(f"short_tasks lists {len(missing)} task(s) with no rows, first {missing[0]}")
    if short["count"] != len(listed):
        out.append(f"short_tasks.count {short['count']} but it lists {len(listed)} tasks")
    return out


def _check_id_count(manifest: dict, tasks: int, versions: int) -> list[str]:
    ids = manifest["embedding_ids"]
    expect = id_count(ids["granularity"], tasks, versions, manifest["totals"]["examples"])
    reserved = ids.get("reserved", 0)
    if ids["count"] != expect + reserved:
        also = f" and {reserved} reserved by its identifier map" if reserved else ""
        return [
            f"embedding_ids.count {ids['count']} but {ids['granularity']} granularity over the "
            f"rows needs {expect} (with the blank){also}"
        ]
    return []


def check_identifiers(path, granularity: str, keys: list[pa.Table], reserved: int = 0) -> list[str]:
    """Names unique, every id but the blank and the ``reserved`` ones (a map's ids kept with no
    rows) used by a row, and every row's id naming the row's own task (and version)."""
    ident = pq.read_table(path, columns=["embedding_id", "name", "task_id", "version"])
    out = []
    names = ident["name"]
    if pc.count_distinct(names).as_py() != len(names):
        counts = pc.value_counts(names)
        dup = counts.filter(pc.greater(counts.field("counts"), 1)).field("values").to_pylist()
        out.append(f"{len(dup)} name(s) given to more than one id, first {dup[0]!r}")
    if granularity == "none" or not keys:
        return out
    rows = pa.concat_tables(keys)
    used = pc.count_distinct(rows["embedding_id"]).as_py()
    if used != ident.num_rows - 1 - reserved:
        unused = ident.num_rows - 1 - used
        kept = f", the manifest reserves {reserved}" if reserved else ""
        out.append(f"{unused} id(s) besides the blank are used by no row{kept}")
    joined = rows.join(
        ident.rename_columns(["embedding_id", "name", "id_task", "id_version"]),
        "embedding_id",
        join_type="left outer",
    )
    wrong = pc.invert(pc.fill_null(pc.equal(joined["task_id"], joined["id_task"]), False))
    if granularity in ("version", "pair"):
        same = pc.fill_null(pc.equal(joined["version"], joined["id_version"]), False)
        wrong = pc.or_(wrong, pc.invert(same))
    bad = joined.filter(wrong)
    if bad.num_rows:
        first = bad.slice(0, 1).to_pylist()[0]
        out.append(
            f"{bad.num_rows} row key(s) carry an id naming another task or version "
            f"(first: task {first['task_id']} version {first['version']} has id "
            f"{first['embedding_id']}, named {first['name']!r})"
        )
    return out
