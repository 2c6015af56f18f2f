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
    if VERSION_RE.match(task_id):
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
