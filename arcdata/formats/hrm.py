"""Export to, and import from, the HRM reference's npy layout.

Why: the reference trainer (and its successors) read exactly this layout, and released HRM
datasets exist only in it. Export lets an arcdata build feed the reference unchanged; import
brings reference datasets into arcdata's Parquet form (and so into the stream, the viewer and
the evaluator). Both directions are byte-exact: export -> import -> export reproduces every
file, and importing a reference output then exporting it gives back its bytes.

Layout (``hrm-reference.md`` section 4)::

    OUT/identifiers.json                  ["<blank>", name of id 1, ...]
    OUT/<split>/dataset.json              metadata, set "all"
    OUT/<split>/all__inputs.npy           uint8 [N, seq_len]   tokens (PAD 0)
    OUT/<split>/all__labels.npy           uint8 [N, seq_len]   tokens (PAD 0 = ignored)
    OUT/<split>/all__puzzle_identifiers.npy  int32 [P]
    OUT/<split>/all__puzzle_indices.npy   int32 [P+1]  example offsets per puzzle
    OUT/<split>/all__group_indices.npy    int32 [G+1]  puzzle offsets per group

Mapping: a group is a task in a split; a puzzle is a run of rows of one (task, version) with one
embedding id (so under ``ids: pair`` every example is its own puzzle); rows keep dataset order.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import arcdata
from arcdata import jsonio
from arcdata.builder.manifest import FORMAT, write_json
from arcdata.builder.shards import binary_column, file_sha256, repeat_strings, write_parquet
from arcdata.errors import DatasetError
from arcdata.paths import safe_member
from arcdata.schema import IDENTIFIER_SCHEMA, ROW_SCHEMA
from arcdata.stream.store import Dataset, SplitArrays, open_split, run_starts
from arcdata.tokens import Canvas, Codec, decode_rows, get_codec

SET_NAME = "all"
ARRAYS = ("inputs", "labels", "puzzle_identifiers", "puzzle_indices", "group_indices")
BLANK = "<blank>"
NAME_RE = re.compile(r"^(?P<task>.+)_t(?P<dihedral>[0-7])_(?P<cmap>[0-9]{10})$")
PAIR_RE = re.compile(r"^(?P<base>.+)_(?:train|test)[0-9]+$")  # ids: pair names
IDENTITY_MAP = "0123456789"


@dataclass
class NpyStructure:
    """Puzzle and group offsets of a split in the npy sense."""

    puzzle_indices: np.ndarray  # int64 [P+1] row offsets
    group_indices: np.ndarray  # int64 [G+1] puzzle offsets
    puzzle_identifiers: np.ndarray  # int32 [P]


def npy_structure(arrays: SplitArrays) -> NpyStructure:
    """Puzzles = runs of (task, version, embedding id); groups = tasks."""
    puzzles = run_starts(arrays.task_index, arrays.version, arrays.embedding_id)
    groups = np.searchsorted(puzzles, arrays.group_starts).astype(np.int64)
    ids = np.asarray(arrays.embedding_id)[puzzles[:-1]].astype(np.int32)
    return NpyStructure(puzzles, groups, ids)


def metadata(codec: Codec, num_ids: int, structure: NpyStructure) -> dict:
    """dataset.json, with the reference's keys in the reference's order."""
    n_rows = int(structure.puzzle_indices[-1])
    n_puzzles = len(structure.puzzle_identifiers)
    return {
        "pad_id": 0,
        "ignore_label_id": 0,
        "blank_identifier_id": 0,
        "vocab_size": codec.vocab_size,
        "seq_len": codec.seq_len,
        "num_puzzle_identifiers": num_ids,
        "total_groups": len(structure.group_indices) - 1,
        "mean_puzzle_examples": n_rows / n_puzzles if n_puzzles else 0.0,
        "sets": [SET_NAME],
    }


# ----------------------------------------------------------------------------- export


def identifier_names(dataset: Dataset) -> list[str]:
    """identifiers.json: index = embedding id, ``<blank>`` at 0 and for ids without a row."""
    count = int(dataset.manifest["embedding_ids"]["count"])
    rel = dataset.manifest["embedding_ids"].get("file", "identifiers.parquet")
    path = safe_member(dataset.root, rel, "embedding_ids.file")
    names = [BLANK] * max(count, 1)
    if path.exists():
        try:
            table = pq.read_table(path, columns=["embedding_id", "name"])
        except (pa.ArrowException, OSError) as e:
            raise DatasetError(f"{path}: unreadable identifiers: {e}") from None
        ids = table.column("embedding_id").to_numpy()
        if len(ids) and (ids.min() < 0 or ids.max() >= len(names)):
            raise DatasetError(f"{path}: embedding ids outside 0..{len(names) - 1}")
        for i, name in zip(ids.tolist(), table.column("name").to_pylist(), strict=True):
            names[i] = name
    names[0] = BLANK
    return names


def _write_npy(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.save(f, array, allow_pickle=False)


def _write_tokens(
    paths: dict[str, Path], arrays: SplitArrays, canvas: Canvas, chunk_rows: int
) -> None:
    """Stream inputs and labels to .npy in chunks: memory stays at one chunk."""
    n, length = arrays.num_rows, canvas.codec.seq_len
    files = {k: open(p, "wb") for k, p in paths.items()}  # noqa: SIM115
    try:
        for f in files.values():
            np.lib.format.write_array_header_1_0(
                f, {"descr": np.dtype(np.uint8).str, "fortran_order": False, "shape": (n, length)}
            )
        windows = {k: canvas.windows(getattr(arrays, f"{k}_cells")) for k in ("input", "output")}
        scratch = np.zeros((min(chunk_rows, max(n, 1)), length), np.uint8)
        for lo in range(0, n, chunk_rows):
            sl = slice(lo, min(lo + chunk_rows, n))
            out = scratch[: sl.stop - sl.start]
            for kind, key in (("input", "inputs"), ("output", "labels")):
                out.fill(0)
                canvas.encode(
                    windows[kind],
                    getattr(arrays, f"{kind}_start")[sl],
                    getattr(arrays, f"{kind}_h")[sl],
                    getattr(arrays, f"{kind}_w")[sl],
                    arrays.offset_r[sl],
                    arrays.offset_c[sl],
                    out,
                )
                files[key].write(memoryview(out).cast("B"))
    finally:
        for f in files.values():
            f.close()


def export_hrm(
    dataset_dir: str | os.PathLike,
    out: str | os.PathLike,
    *,
    overwrite: bool = False,
    chunk_rows: int = 32768,
    cache_dir: str | os.PathLike | None = None,
) -> dict:
    """Write a built dataset in the reference's npy layout; returns per-split counts.

    Written under ``.<name>.partial`` beside ``out`` and renamed into place when complete.
    """
    dataset = Dataset.open(dataset_dir)
    codec = dataset.codec
    canvas = Canvas.of(codec)
    out = Path(out)
    if out.exists() and not overwrite:
        raise DatasetError(f"{out} already exists; pass --overwrite to replace it")
    tmp = out.parent / f".{out.name}.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    names = identifier_names(dataset)
    (tmp / "identifiers.json").write_text(jsonio.dumps(names))
    summary = {}
    for split in sorted(dataset.manifest["splits"]):
        arrays = open_split(dataset, split, cache_dir=cache_dir)
        structure = npy_structure(arrays)
        folder = tmp / split
        folder.mkdir()
        prefix = folder / f"{SET_NAME}__"
        _write_tokens(
            {"inputs": Path(f"{prefix}inputs.npy"), "labels": Path(f"{prefix}labels.npy")},
            arrays,
            canvas,
            chunk_rows,
        )
        _write_npy(Path(f"{prefix}puzzle_identifiers.npy"), structure.puzzle_identifiers)
        _write_npy(Path(f"{prefix}puzzle_indices.npy"), structure.puzzle_indices.astype(np.int32))
        _write_npy(Path(f"{prefix}group_indices.npy"), structure.group_indices.astype(np.int32))
        meta = metadata(codec, len(names), structure)
        (folder / "dataset.json").write_text(jsonio.dumps(meta))
        summary[split] = {
            "examples": arrays.num_rows,
            "puzzles": len(structure.puzzle_identifiers),
            "groups": meta["total_groups"],
        }
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return summary


# ----------------------------------------------------------------------------- import


def codec_for(vocab_size: int, seq_len: int) -> Codec:
    """The codec a reference dataset's (vocab_size, seq_len) implies."""
    for name in ("arc", "maze", "sudoku"):
        c = get_codec(name)
        if (c.vocab_size, c.seq_len) == (vocab_size, seq_len):
            return c
    side = int(round(seq_len**0.5))
    if side * side == seq_len and vocab_size == side + 2:
        return get_codec(f"sudoku{side}")
    raise DatasetError(f"no codec has vocab_size {vocab_size} and seq_len {seq_len}")


@dataclass(frozen=True)
class IdentifierInfo:
    """What an identifier name says: task, version within the task, dihedral, colour map."""

    task: list[str | None]  # None: blank or unknown
    version: np.ndarray  # int64, -1 where unknown
    dihedral: np.ndarray  # int8
    colour_map: list[str]

    @classmethod
    def parse(cls, names: list[str]) -> IdentifierInfo:
        """``<task>`` is version 0 of its task, ``<task>_t<d>_<map>`` a version (either may end in
        ``_train<i>`` / ``_test<i>`` under pair granularity); versions are numbered in id order
        within each task, as arcdata assigns them."""
        task: list[str | None] = [None] * len(names)
        dihedral = np.zeros(len(names), np.int8)
        cmap = [IDENTITY_MAP] * len(names)
        version = np.full(len(names), -1, np.int64)
        bases: dict[str, dict[str, int]] = {}  # task -> version name -> version number
        for i, name in enumerate(names):
            if i == 0 or name == BLANK:
                continue
            pair = PAIR_RE.match(name)
            base = pair["base"] if pair else name
            m = NAME_RE.match(base)
            if m:
                task[i], dihedral[i], cmap[i] = m["task"], int(m["dihedral"]), m["cmap"]
            else:
                task[i] = base
            seen = bases.setdefault(task[i], {})
            version[i] = seen.setdefault(base, len(seen))
        return cls(task, version, dihedral, cmap)


def _locate(src: Path) -> tuple[Path, list[str]]:
    if (src / "identifiers.json").is_file():
        splits = sorted(p.name for p in src.iterdir() if (p / "dataset.json").is_file())
        if not splits:
            raise DatasetError(f"{src}: no <split>/dataset.json found")
        return src, splits
    if (src / "dataset.json").is_file() and (src.parent / "identifiers.json").is_file():
        return src.parent, [src.name]
    raise DatasetError(
        f"{src}: not an HRM npy dataset (no identifiers.json, or no <split>/dataset.json)"
    )


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise DatasetError(f"{path}: unreadable JSON: {e}") from None


def _load_npy(path: Path, dtype, ndim: int) -> np.ndarray:
    if not path.is_file():
        raise DatasetError(f"{path}: missing")
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as e:
        raise DatasetError(f"{path}: unreadable npy: {e}") from None
    if arr.ndim != ndim or not np.can_cast(arr.dtype, dtype, "same_kind"):
        raise DatasetError(
            f"{path}: expected a {ndim}-d {np.dtype(dtype)} array, found {arr.ndim}-d {arr.dtype}"
        )
    return arr


@dataclass
class _NpySet:
    name: str
    inputs: np.ndarray
    labels: np.ndarray
    puzzle_identifiers: np.ndarray
    puzzle_indices: np.ndarray
    group_indices: np.ndarray


def _load_set(folder: Path, name: str, seq_len: int, num_ids: int) -> _NpySet:
    p = {k: folder / f"{name}__{k}.npy" for k in ARRAYS}
    s = _NpySet(
        name,
        _load_npy(p["inputs"], np.uint8, 2),
        _load_npy(p["labels"], np.uint8, 2),
        np.asarray(_load_npy(p["puzzle_identifiers"], np.int64, 1), dtype=np.int64),
        np.asarray(_load_npy(p["puzzle_indices"], np.int64, 1), dtype=np.int64),
        np.asarray(_load_npy(p["group_indices"], np.int64, 1), dtype=np.int64),
    )
    n = len(s.inputs)
    if s.inputs.shape != (n, seq_len) or s.labels.shape != (n, seq_len):
        raise DatasetError(f"{p['inputs']}: inputs/labels must both be [N, {seq_len}]")

    def check(arr: np.ndarray, key: str, end: int) -> None:
        if len(arr) < 1 or arr[0] != 0 or arr[-1] != end or (np.diff(arr) < 0).any():
            raise DatasetError(f"{p[key]}: offsets must rise from 0 to {end}")

    check(s.puzzle_indices, "puzzle_indices", n)
    if len(s.puzzle_identifiers) != len(s.puzzle_indices) - 1:
        raise DatasetError(f"{p['puzzle_identifiers']}: one id per puzzle expected")
    check(s.group_indices, "group_indices", len(s.puzzle_identifiers))
    ids = s.puzzle_identifiers
    if len(ids) and (ids.min() < 0 or ids.max() >= num_ids):
        raise DatasetError(f"{p['puzzle_identifiers']}: ids outside 0..{num_ids - 1}")
    return s


@dataclass
class _Puzzles:
    """Per-puzzle facts of a set: its group's task id and its version number."""

    group_task: list[str]  # per group
    group: np.ndarray  # int64 [P]
    version: np.ndarray  # int64 [P]
    shared_ids: bool  # some group repeats an id across its puzzles (ids per task, or none)


def _puzzles(s: _NpySet, info: IdentifierInfo, split: str, used: set[str]) -> _Puzzles:
    """Task of each group from its puzzles' names (else ``<set>-<split>-gNNNNNN``); version
    from the names when a group's ids are distinct, else the puzzle's position in the group."""
    counts = np.diff(s.group_indices)
    group = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    position = np.arange(len(group), dtype=np.int64) - s.group_indices[group]
    ids = s.puzzle_identifiers
    tasks, shared = [], False
    by_name = np.zeros(len(counts), dtype=bool)
    for g in range(len(counts)):
        gids = ids[s.group_indices[g] : s.group_indices[g + 1]].tolist()
        names = {info.task[i] for i in gids}
        task = names.pop() if len(names) == 1 else None
        if task is None or task in used:
            task = f"{s.name}-{split}-g{g:06d}"
        used.add(task)
        tasks.append(task)
        distinct = len(set(gids)) == len(gids)
        shared |= not distinct
        by_name[g] = distinct and info.version[gids].min(initial=0) >= 0
    version = np.where(by_name[group], info.version[ids], position)
    return _Puzzles(tasks, group, version, shared)


def _decode(canvas: Canvas, tokens: np.ndarray, path: Path, row0: int):
    tokens = np.asarray(tokens)
    if tokens.dtype != np.uint8 and len(tokens):  # e.g. the reference's int64 Sudoku arrays
        fits = (tokens.min(axis=1) >= 0) & (tokens.max(axis=1) < canvas.codec.vocab_size)
        if not fits.all():
            bad = int(np.flatnonzero(~fits)[0]) + row0
            raise DatasetError(f"{path}: row {bad} has tokens outside the vocabulary")
    dec, ok = decode_rows(canvas, tokens)
    if not ok.all():
        bad = int(np.flatnonzero(~ok)[0]) + row0
        raise DatasetError(f"{path}: row {bad} is not a well-formed encoded grid")
    return dec


def _rows_table(
    s: _NpySet,
    split: str,
    canvas: Canvas,
    info: IdentifierInfo,
    puzzles: _Puzzles,
    lo: int,
    hi: int,
    folder: Path,
) -> pa.Table:
    """ROW_SCHEMA rows lo..hi of a set, grids decoded from the tokens."""
    n = hi - lo
    puzzle = np.searchsorted(s.puzzle_indices, np.arange(lo, hi), side="right") - 1
    group = puzzles.group[puzzle]
    ids = s.puzzle_identifiers[puzzle]
    version = puzzles.version[puzzle]
    pair = np.arange(lo, hi) - s.puzzle_indices[puzzle]
    inp = _decode(canvas, s.inputs[lo:hi], folder / f"{s.name}__inputs.npy", lo)
    out = _decode(canvas, s.labels[lo:hi], folder / f"{s.name}__labels.npy", lo)
    if (inp.rows != out.rows).any() or (inp.cols != out.cols).any():
        bad = int(np.flatnonzero((inp.rows != out.rows) | (inp.cols != out.cols))[0]) + lo
        raise DatasetError(f"{folder}: row {bad}: input and label grids sit at different offsets")
    task_labels = pa.array(puzzles.group_task, pa.string())
    cmap_labels = pa.array(info.colour_map, pa.string())
    n_u = np.array([n])
    columns = {
        "task_id": task_labels.take(pa.array(group)),
        "subset": repeat_strings([s.name], n_u),
        "split": repeat_strings([split], n_u),
        "version": pa.array(version.astype(np.int32)),
        "dihedral": pa.array(info.dihedral[ids]),
        "colour_map": cmap_labels.take(pa.array(ids)),
        "row_map": pa.nulls(n, pa.string()),
        "col_map": pa.nulls(n, pa.string()),
        "role": repeat_strings(["test" if split == "test" else "train"], n_u),
        "pair_index": pa.array(pair.astype(np.int16)),
        "embedding_id": pa.array(ids.astype(np.int32)),
        "input_h": pa.array(inp.heights),
        "input_w": pa.array(inp.widths),
        "output_h": pa.array(out.heights),
        "output_w": pa.array(out.widths),
        "offset_r": pa.array(inp.rows),
        "offset_c": pa.array(inp.cols),
        "input": binary_column(inp.cells, inp.heights.astype(np.int64) * inp.widths),
        "output": binary_column(out.cells, out.heights.astype(np.int64) * out.widths),
    }
    return pa.Table.from_arrays([columns[f.name] for f in ROW_SCHEMA], schema=ROW_SCHEMA)


def _shard_bounds(s: _NpySet, shard_rows: int) -> list[tuple[int, int]]:
    """Row ranges of at least ``shard_rows`` rows (except the last), cut at group boundaries."""
    group_rows = s.puzzle_indices[s.group_indices]
    n = int(group_rows[-1])
    bounds, lo = [], 0
    while lo < n:
        k = int(np.searchsorted(group_rows, lo + shard_rows, side="left"))
        hi = n if k >= len(group_rows) else int(group_rows[k])
        bounds.append((lo, hi))
        lo = hi
    return bounds


def _identifier_table(names: list[str], info: IdentifierInfo) -> pa.Table:
    n = len(names)
    known = np.array([t is not None for t in info.task])
    return pa.Table.from_arrays(
        [
            pa.array(np.arange(n, dtype=np.int32)),
            pa.array(names, pa.string()),
            pa.array([t or "" for t in info.task], pa.string()),
            pa.array(np.where(known, info.version, 0).astype(np.int32), mask=~known),
            pa.nulls(n, pa.string()),
            pa.nulls(n, pa.int16()),
            pa.array(info.dihedral, mask=~known),
            pa.array(
                [c if k else None for c, k in zip(info.colour_map, known, strict=True)], pa.string()
            ),
        ],
        schema=IDENTIFIER_SCHEMA,
    )


def import_hrm(
    src: str | os.PathLike,
    out: str | os.PathLike,
    *,
    name: str | None = None,
    overwrite: bool = False,
    shard_rows: int = 131072,
) -> dict:
    """Read a reference npy dataset into arcdata's Parquet form; returns the manifest.

    Grids, shapes and offsets come back from the tokens (every row is checked to re-encode
    exactly). Task ids, dihedral ids and colour maps come from identifier names
    ``<task>_t<d>_<map>`` where they parse; otherwise dihedral 0 and the identity map. Roles are
    not in the npy layout: rows of a ``test`` split get role ``test``, all others ``train``;
    ``pair_index`` is the example's position in its puzzle. Several sets are concatenated
    (``subset`` keeps the set name); export writes them back as one set ``all``.
    """
    src, out = Path(src), Path(out)
    root, splits = _locate(src)
    if out.exists() and not overwrite:
        raise DatasetError(f"{out} already exists; pass --overwrite to replace it")
    names = _read_json(root / "identifiers.json")
    if not isinstance(names, list) or not all(isinstance(x, str) for x in names) or not names:
        raise DatasetError(f"{root / 'identifiers.json'}: expected a list of names")
    info = IdentifierInfo.parse(names)
    tmp = out.parent / f".{out.name}.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    shards_cfg = {"compression": "zstd", "row_group": 16384, "compression_level": 1}
    codec: Codec | None = None
    split_entries: dict[str, dict] = {}
    stats = _ImportStats()
    for split in splits:
        folder = root / split
        meta = _read_json(folder / "dataset.json")
        try:
            split_codec = codec_for(int(meta["vocab_size"]), int(meta["seq_len"]))
            sets = list(meta["sets"])
        except (KeyError, TypeError, ValueError) as e:
            raise DatasetError(f"{folder / 'dataset.json'}: bad metadata: {e}") from None
        if codec is not None and split_codec != codec:
            raise DatasetError(f"{folder / 'dataset.json'}: codec differs from other splits")
        codec = split_codec
        canvas = Canvas.of(codec)
        entries, groups, n_puzzles, rows, used = [], 0, 0, 0, set()
        stats.files.append(folder / "dataset.json")
        for set_name in sets:
            s = _load_set(folder, set_name, codec.seq_len, len(names))
            stats.files += [folder / f"{set_name}__{k}.npy" for k in ARRAYS]
            puzzles = _puzzles(s, info, split, used)
            stats.add(s, puzzles)
            for lo, hi in _shard_bounds(s, shard_rows):
                table = _rows_table(s, split, canvas, info, puzzles, lo, hi, folder)
                rel = f"{split}/part-{len(entries):05d}.parquet"
                entries.append({"path": rel, **write_parquet(table, tmp / rel, shards_cfg)})
            groups += len(s.group_indices) - 1
            n_puzzles += len(s.puzzle_identifiers)
            rows += len(s.inputs)
        split_entries[split] = {
            "rows": rows,
            "groups": groups,
            "puzzles": n_puzzles,
            "shards": entries,
        }
    assert codec is not None
    ident_path = tmp / "identifiers.parquet"
    pq.write_table(_identifier_table(names, info), ident_path, compression="zstd")
    stats.files.insert(0, root / "identifiers.json")
    name = name or re.sub(r"[^A-Za-z0-9._-]", "_", out.name)
    manifest = _import_manifest(
        src, root, name, codec, split_entries, names, stats, file_sha256(ident_path)
    )
    write_json(tmp / "manifest.json", manifest)
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return manifest


@dataclass
class _ImportStats:
    """What the manifest reports about an import: tasks, versions, id use, source files."""

    files: list[Path] = field(default_factory=list)
    versions: dict[str, set[int]] = field(default_factory=dict)
    shared_ids: bool = False
    any_id: bool = False

    def add(self, s: _NpySet, puzzles: _Puzzles) -> None:
        tasks = np.array(puzzles.group_task, dtype=object)[puzzles.group]
        for task, version in zip(tasks.tolist(), puzzles.version.tolist(), strict=True):
            self.versions.setdefault(task, set()).add(version)
        self.shared_ids |= puzzles.shared_ids
        self.any_id |= bool((s.puzzle_identifiers > 0).any())

    def granularity(self, names: list[str]) -> str:
        if not self.any_id:
            return "none"
        if any(PAIR_RE.match(n) for n in names[1:]):
            return "pair"
        return "task" if self.shared_ids else "version"


def _import_manifest(src, root, name, codec, splits, names, stats, ident_sha) -> dict:
    shard_hashes = {s: [e["sha256"] for e in v["shards"]] for s, v in sorted(splits.items())}
    digest = hashlib.sha256(
        json.dumps(
            {"import": "hrm", "shards": shard_hashes, "identifiers": ident_sha}, sort_keys=True
        ).encode()
    ).hexdigest()
    n_tasks = len(stats.versions)
    files = [{"path": str(p.relative_to(root)), "sha256": file_sha256(p)} for p in stats.files]
    most = max((len(v) for v in stats.versions.values()), default=1)
    return {
        "format": FORMAT,
        "name": name,
        "codec": codec.name,
        "seq_len": codec.seq_len,
        "vocab_size": codec.vocab_size,
        "code_version": arcdata.__version__,
        "config_hash": digest,
        "config": {
            "name": name,
            "codec": codec.name,
            "sources": {},
            "imported": {"format": "hrm", "path": str(src)},
        },
        "sources": [
            {
                "name": "hrm-npy",
                "type": "hrm_npy",
                "skipped": False,
                "read": n_tasks,
                "built": n_tasks,
                "rejected": 0,
                "files": files,
            }
        ],
        "totals": {
            "tasks": n_tasks,
            "versions": sum(len(v) for v in stats.versions.values()),
            "examples": sum(v["rows"] for v in splits.values()),
            "tasks_read": n_tasks,
            "tasks_rejected": 0,
        },
        "splits": splits,
        "embedding_ids": {
            "granularity": stats.granularity(names),
            "count": len(names),
            "file": "identifiers.parquet",
            "sha256": ident_sha,
        },
        "short_tasks": {"requested_versions": max(most, 1), "count": 0, "tasks": {}},
        "rejects": [],
        "units": sum(len(v["shards"]) for v in splits.values()),
    }
