"""Embedding ids and their names: the one home of the id layout and the name grammar.

Layout. Every row carries an ``embedding_id``; the granularity says what shares one:

- ``version``: every version of every task gets its own id (the reference's choice);
- ``task``: all versions of a task share one;
- ``pair``: every pair of every version gets its own;
- ``none``: every row has id 0.

Id 0 is the blank (named :data:`BLANK`); real ids are dense from 1, laid out in task-id order,
each task's block version-major (then pair order under ``pair``).

Names. The id -> name table (``identifiers.parquet``, ``identifiers.json`` in the reference
layout) follows the reference's grammar:

- ``<task>``: version 0 (the original) of a task, and the task under ``task`` granularity;
- ``<task>_t<d>_<colour map>``: a version (dihedral id d, the 10-digit colour map);
  Sudoku versions add ``_r<row map>_c<column map>``, since their moves are more than that;
- ``<version name>_<role><index>``: one pair (``_train0``, ``_test1``) under ``pair``.

The names are unique because a task id may not itself read as a version or pair name
(:func:`task_id_problem`; the build refuses such ids, naming the task): so the suffixes parse
back unambiguously, and within a task two versions never share a transform.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from arcdata.augment.transform import Transform, map_strings

GRANULARITIES = ("version", "task", "pair", "none")
BLANK_ID = 0
BLANK = "<blank>"

VERSION_RE = re.compile(
    r"^(?P<task>.+)_t(?P<dihedral>[0-7])_(?P<colour_map>[0-9]{10})"
    r"(?:_r(?P<row_map>[0-9]+)_c(?P<col_map>[0-9]+))?$"
)
PAIR_RE = re.compile(r"^(?P<base>.+)_(?P<role>train|test)(?P<index>[0-9]+)$")


# layout -------------------------------------------------------------------------------------


def ids_needed(granularity: str, n_versions: int, n_pairs: int) -> int:
    """How many ids a task consumes (so dense ranges can be laid out before writing)."""
    if granularity == "version":
        return n_versions
    if granularity == "task":
        return 1
    if granularity == "pair":
        return n_versions * n_pairs
    if granularity == "none":
        return 0
    raise ValueError(f"ids must be one of {', '.join(GRANULARITIES)}, got {granularity!r}")


def id_bases(pair_counts: list[int], version_counts: list[int], granularity: str) -> list[int]:
    """First id of each task (tasks in id order): dense ranges from 1; 0 stays the blank."""
    needed = np.array(
        [ids_needed(granularity, v, p) for p, v in zip(pair_counts, version_counts, strict=True)],
        dtype=np.int64,
    )
    starts = BLANK_ID + 1 + np.cumsum(needed) - needed
    if granularity == "none":
        starts[:] = BLANK_ID
    return starts.tolist()


def embedding_ids(granularity: str, base: int, n_versions: int, n_pairs: int) -> np.ndarray:
    """[V, P] int32 id of every (version, pair) of a task whose first id is ``base``."""
    v = np.arange(n_versions, dtype=np.int64)[:, None]
    p = np.arange(n_pairs, dtype=np.int64)[None, :]
    if granularity == "version":
        out = base + v + 0 * p
    elif granularity == "task":
        out = np.full((n_versions, n_pairs), base, dtype=np.int64)
    elif granularity == "pair":
        out = base + v * n_pairs + p
    elif granularity == "none":
        out = np.full((n_versions, n_pairs), BLANK_ID, dtype=np.int64)
    else:
        raise ValueError(f"ids must be one of {', '.join(GRANULARITIES)}, got {granularity!r}")
    return out.astype(np.int32)


# names --------------------------------------------------------------------------------------


def task_id_problem(task_id: str) -> str | None:
    """Why ``task_id`` cannot be a task's name (it would collide with a generated one), or None."""
    if not task_id:
        return "task id is empty"
    if task_id == BLANK:
        return f"task id {BLANK!r} is the blank id's name"
    if VERSION_RE.match(task_id) or SUSPECT_VERSION_RE.search(task_id):
        return (
            "task id reads as a version name (<task>_t<d>_<colour map>), so its name could "
            "collide with another task's version; rename the task"
        )
    if PAIR_RE.match(task_id):
        return (
            "task id reads as a pair name (<name>_train<i> / _test<i>), so its name could "
            "collide with another task's pair; rename the task"
        )
    return None


def version_name(task_id: str, transform: Transform, v: int = 0, version: int | None = None) -> str:
    """The name of version ``version`` (default: v) of a task, whose transform is entry v."""
    if (v if version is None else version) == 0:
        return task_id
    s = transform.to_strings(v)
    name = f"{task_id}_t{s['dihedral']}_{s['colour_map']}"
    if s["row_map"] is not None:
        name += f"_r{s['row_map']}_c{s['col_map']}"
    return name


def pair_name(base: str, role: str, index: int) -> str:
    return f"{base}_{role}{index}"


def version_names(task_col: pa.Array, version: np.ndarray, transform: Transform) -> pa.Array:
    """Vectorised :func:`version_name`: row i is version ``version[i]`` of ``task_col[i]`` with
    transform entry i."""
    suffix = pc.binary_join_element_wise(
        pc.binary_join_element_wise("t", map_strings(transform.dihedral[:, None]), ""),
        map_strings(transform.colour_maps),
        "_",
    )
    if transform.row_maps is not None:
        suffix = pc.binary_join_element_wise(
            suffix,
            pc.binary_join_element_wise("r", map_strings(transform.row_maps), ""),
            pc.binary_join_element_wise("c", map_strings(transform.col_maps), ""),
            "_",
        )
    return pc.if_else(
        pa.array(np.asarray(version) == 0),
        task_col,
        pc.binary_join_element_wise(task_col, suffix, "_"),
    )


def pair_names(bases: pa.Array, roles: pa.Array, index: pa.Array) -> pa.Array:
    """Vectorised :func:`pair_name`."""
    return pc.binary_join_element_wise(
        bases, pc.binary_join_element_wise(roles, index.cast(pa.string()), ""), "_"
    )


@dataclass(frozen=True)
class Name:
    """What a name says. ``transform`` is None for a task's own name (version 0)."""

    task: str
    transform: Transform | None = None
    role: str | None = None
    index: int | None = None

    @property
    def base(self) -> str:
        """The version's name (without the pair suffix)."""
        return (
            self.task if self.transform is None else version_name(self.task, self.transform, 0, 1)
        )


def parse_name(name: str) -> Name:
    """Read a name written by this module back (the inverse of the writers above)."""
    if name == BLANK:
        raise ValueError(f"{BLANK!r} names the blank id, not a task")
    role = index = None
    pair = PAIR_RE.match(name)
    if pair:
        name, role, index = pair["base"], pair["role"], int(pair["index"])
    m = VERSION_RE.match(name)
    if not m:
        return Name(name, None, role, index)
    rows, cols = m["row_map"], m["col_map"]
    transform = Transform.from_columns(
        [int(m["dihedral"])],
        [m["colour_map"]],
        None if rows is None else [rows],
        None if cols is None else [cols],
    )
    return Name(m["task"], transform, role, index)


def duplicate_names(names: pa.Array | list[str]) -> list[str]:
    """Names that occur more than once (sorted); empty when the table's names are unique."""
    counts = pc.value_counts(pa.array(names, pa.string()))
    values, n = counts.field("values"), counts.field("counts")
    return sorted(pc.filter(values, pc.greater(n, 1)).to_pylist())


# reading a whole table of names ---------------------------------------------------------------

SUSPECT_VERSION_RE = re.compile(r"_t[0-9]+_[0-9]+(?:_r[0-9]*_c[0-9]*)?$")
"""What looks like a version suffix, malformed or not: such a name is refused rather than read
as a task literally called so (a task id may not read as a version name either)."""
_INDEX_RE = r"^(?:0|[1-9][0-9]*)$"


@dataclass(frozen=True)
class NameColumns:
    """:func:`parse_name` of N names at once, column-wise (a map can hold millions of names).

    ``colour_map`` is the identity for a task's own name; ``row_map`` / ``col_map`` / ``role``
    are null where a name has none, ``index`` is -1 there.
    """

    task: pa.Array  # string [N]
    base: pa.Array  # string [N]: the version's name (without the pair suffix)
    is_version: np.ndarray  # bool [N]: the base has a transform suffix
    is_pair: np.ndarray  # bool [N]
    dihedral: np.ndarray  # int8 [N]
    colour_map: pa.Array  # string [N]
    row_map: pa.Array  # string [N]
    col_map: pa.Array  # string [N]
    role: pa.Array  # string [N]
    index: np.ndarray  # int64 [N]

    def transform(self, rows: np.ndarray) -> Transform:
        """The transforms of names ``rows`` (all ARC, or all with row/column maps)."""
        take = pa.array(np.asarray(rows, dtype=np.int64))
        row_maps = self.row_map.take(take)
        has_maps = row_maps.null_count < len(row_maps)
        return Transform.from_columns(
            self.dihedral[np.asarray(rows, dtype=np.int64)],
            self.colour_map.take(take).to_pylist(),
            row_maps.to_pylist() if has_maps else None,
            self.col_map.take(take).to_pylist() if has_maps else None,
        )


def _bool(array: pa.Array) -> np.ndarray:
    return np.asarray(array.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def parse_names(names: pa.Array | list[str]) -> NameColumns:
    """Vectorised :func:`parse_name` (the blank must not be among ``names``)."""
    names = pa.array(names, pa.string())
    pair = pc.extract_regex(names, PAIR_RE.pattern)
    is_pair = _bool(pair.is_valid())
    base = pc.if_else(pair.is_valid(), pair.field("base"), names)
    m = pc.extract_regex(base, VERSION_RE.pattern)
    is_version = _bool(m.is_valid())
    valid = m.is_valid()
    n = len(names)
    dihedral = np.zeros(n, np.int8)
    if is_version.any():
        digits = pc.fill_null(pc.if_else(valid, m.field("dihedral"), "0"), "0")
        dihedral = pc.cast(digits, pa.int8()).to_numpy(zero_copy_only=False).astype(np.int8)
    maps = {}
    for key in ("row_map", "col_map"):
        found = pc.if_else(valid, m.field(key), pa.scalar(None, pa.string()))
        maps[key] = pc.if_else(pc.equal(found, ""), pa.scalar(None, pa.string()), found)
    index = np.full(n, -1, np.int64)
    if is_pair.any():
        raw = pc.if_else(pair.is_valid(), pair.field("index"), "-1")
        index = pc.cast(raw, pa.int64()).to_numpy(zero_copy_only=False)
    return NameColumns(
        task=pc.if_else(valid, m.field("task"), base),
        base=base,
        is_version=is_version,
        is_pair=is_pair,
        dihedral=dihedral,
        colour_map=pc.if_else(valid, m.field("colour_map"), "0123456789"),
        row_map=maps["row_map"],
        col_map=maps["col_map"],
        role=pc.if_else(pair.is_valid(), pair.field("role"), pa.scalar(None, pa.string())),
        index=index,
    )


def _not_permutation(maps: pa.Array, rows: np.ndarray) -> np.ndarray:
    """Of ``rows`` (where ``maps`` is set), those whose digit string is not a permutation."""
    if not rows.size:
        return rows
    strings = maps.take(pa.array(rows)).to_pylist()
    widths = np.array([len(s) for s in strings])
    bad = np.zeros(rows.size, bool)
    for w in np.unique(widths).tolist():
        sel = np.flatnonzero(widths == w)
        digits = np.frombuffer("".join(strings[i] for i in sel).encode(), np.uint8)
        digits = digits.reshape(sel.size, w) - ord("0")
        bad[sel] = (np.sort(digits, axis=1) != np.arange(w)).any(axis=1)
    return rows[bad]


def name_problems(names: pa.Array | list[str]) -> dict[int, str]:
    """Position -> why the name there cannot be an id's name under the grammar above.

    Refused: empty names, the blank's name (it belongs to id 0 only), a suffix that looks like a
    version's but is malformed (``_t8_...``, a 9-digit map), maps that are not permutations,
    row/column maps of different lengths or with a dihedral id other than 0 or 6, pair indices
    with leading zeros (they would not be written back the same), and a task part that could
    not be a task id (:func:`task_id_problem`).
    """
    names = pa.array(names, pa.string())
    out: dict[int, str] = {}

    def flag(rows, reason) -> None:
        for i in np.asarray(rows, dtype=np.int64).tolist():
            out.setdefault(i, reason(i) if callable(reason) else reason)

    flag(np.flatnonzero(_bool(pc.equal(names, ""))), "empty name")
    flag(np.flatnonzero(_bool(pc.equal(names, BLANK))), f"{BLANK!r} may only name id 0")
    parsed = parse_names(names)
    base = parsed.base
    suspect = _bool(pc.match_substring_regex(base, SUSPECT_VERSION_RE.pattern))
    flag(
        np.flatnonzero(suspect & ~parsed.is_version),
        "looks like <task>_t<d>_<colour map> but d must be 0..7 and the colour map 10 digits",
    )
    versions = np.flatnonzero(parsed.is_version)
    bad_maps = _not_permutation(parsed.colour_map, versions)
    flag(bad_maps, lambda i: f"colour map {parsed.colour_map[i].as_py()} is not a permutation")
    with_maps = np.flatnonzero(_bool(parsed.row_map.is_valid()))
    rows_bad = np.union1d(
        _not_permutation(parsed.row_map, with_maps), _not_permutation(parsed.col_map, with_maps)
    )
    lengths = pc.not_equal(
        pc.utf8_length(parsed.row_map.take(pa.array(with_maps))),
        pc.utf8_length(parsed.col_map.take(pa.array(with_maps))),
    )
    rows_bad = np.union1d(rows_bad, with_maps[_bool(lengths)])
    flag(rows_bad, "row and column maps must be permutations of 0..n-1 of one length")
    flag(
        with_maps[~np.isin(parsed.dihedral[with_maps], (0, 6))],
        "row/column maps combine only with dihedral 0 or 6",
    )
    pairs = np.flatnonzero(parsed.is_pair)
    if pairs.size:
        raw = pc.extract_regex(names.take(pa.array(pairs)), PAIR_RE.pattern).field("index")
        flag(pairs[~_bool(pc.match_substring_regex(raw, _INDEX_RE))], "pair index has a leading 0")
    tasks = pc.dictionary_encode(parsed.task)
    problems = [task_id_problem(t) for t in tasks.dictionary.to_pylist()]
    bad_codes = [c for c, p in enumerate(problems) if p is not None]
    if bad_codes:
        codes = tasks.indices.to_numpy(zero_copy_only=False)
        flag(
            np.flatnonzero(np.isin(codes, bad_codes)),
            lambda i: f"its task part: {problems[codes[i]]}",
        )
    return dict(sorted(out.items()))


def id_count(granularity: str, tasks: int, versions: int, examples: int) -> int:
    """Ids the rows use under a granularity, the blank included; a map may name more (its
    ``missing: blank`` ids, reserved with no rows: the manifest's ``embedding_ids.reserved``)."""
    return {"version": 1 + versions, "pair": 1 + examples, "task": 1 + tasks, "none": 1}[
        granularity
    ]
