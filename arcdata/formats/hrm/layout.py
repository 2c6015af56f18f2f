"""The reference's npy layout: file names, ``dataset.json``, the puzzle/group structure, names.

What both directions share, so export and import cannot drift apart: the arrays a set holds, how
arcdata's rows map to puzzles and groups, the metadata the reference writes, which codec a
(vocab_size, seq_len) pair means, and what an identifier name says about its task and transform.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from arcdata.errors import DatasetError
from arcdata.ids import BLANK, PAIR_RE, VERSION_RE
from arcdata.stream.store import run_starts
from arcdata.tokens import Codec, get_codec

SET_NAME = "all"
ARRAYS = ("inputs", "labels", "puzzle_identifiers", "puzzle_indices", "group_indices")
IDENTITY_MAP = "0123456789"


def array_file(name: str, set_name: str = SET_NAME) -> str:
    """``<set>__<array>.npy``, the name the reference gives each array of a set."""
    return f"{set_name}__{name}.npy"


def layout_problem(root: Path) -> str | None:
    """None when ``root`` holds only this layout (what export writes), else what is foreign:
    ``export --overwrite`` replaces an npy dataset and nothing else."""
    try:
        names = json.loads((root / "identifiers.json").read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return "no readable identifiers.json"
    if not isinstance(names, list) or not names or names[0] != BLANK:
        return f"identifiers.json is not a list of names starting with {BLANK!r}"
    for entry in sorted(root.iterdir()):
        if entry.name == "identifiers.json" and entry.is_file() and not entry.is_symlink():
            continue
        if entry.is_symlink() or not entry.is_dir():
            return f"{entry.name} is not part of the npy layout"
        try:
            sets = json.loads((entry / "dataset.json").read_text())["sets"]
            allowed = {"dataset.json"} | {array_file(a, s) for s in sets for a in ARRAYS}
        except (OSError, ValueError, UnicodeDecodeError, KeyError, TypeError):
            return f"{entry.name}/dataset.json is missing or not the layout's metadata"
        for f in sorted(entry.iterdir()):
            if f.is_symlink() or not f.is_file() or f.name not in allowed:
                return f"{entry.name}/{f.name} is not part of the npy layout"
    return None


@dataclass
class NpyStructure:
    """Puzzle and group offsets of a split in the npy sense."""

    puzzle_indices: np.ndarray  # int64 [P+1] row offsets
    group_indices: np.ndarray  # int64 [G+1] puzzle offsets
    puzzle_identifiers: np.ndarray  # int32 [P]


def npy_structure(
    task_index: np.ndarray, version: np.ndarray, embedding_id: np.ndarray
) -> NpyStructure:
    """Puzzles = runs of (task, version, embedding id); groups = runs of one task."""
    puzzles = run_starts(task_index, version, embedding_id)
    groups = np.searchsorted(puzzles, run_starts(task_index)).astype(np.int64)
    ids = np.asarray(embedding_id)[puzzles[:-1]].astype(np.int32)
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
    """What each identifier name says (the grammar of :mod:`arcdata.ids`): task, version within
    the task, dihedral, colour map, and Sudoku's row/column maps (null where a name has none)."""

    task_names: list[str]  # distinct tasks, in order of first appearance
    task_code: np.ndarray  # int64 [ids] into task_names, -1 for the blank
    version: np.ndarray  # int64 [ids], -1 for the blank
    dihedral: np.ndarray  # int8 [ids]
    colour_map: pa.Array  # string [ids]
    row_map: pa.Array  # string [ids], null where the name has none
    col_map: pa.Array  # string [ids]
    pair_names: bool  # some name is a pair's (``ids: pair``)

    @property
    def known(self) -> np.ndarray:
        return self.task_code >= 0

    def task(self, i: int) -> str | None:
        code = int(self.task_code[i])
        return self.task_names[code] if code >= 0 else None

    @classmethod
    def parse(cls, names: list[str]) -> IdentifierInfo:
        """``<task>`` is version 0 of its task, ``<task>_t<d>_<map>`` a version (either may end in
        ``_train<i>`` / ``_test<i>`` under pair granularity); versions are numbered in id order
        within each task, as arcdata assigns them. Vectorised: ~700k names in well under a
        second, where a Python loop over regex matches takes several."""
        n = len(names)
        all_names = pa.array(names, pa.string())
        real = np.flatnonzero(pc.not_equal(all_names, BLANK).to_numpy(zero_copy_only=False))
        real = real[real > 0]
        named = all_names.take(pa.array(real))
        pair = pc.extract_regex(named, PAIR_RE.pattern)
        base = pc.if_else(pair.is_valid(), pair.field("base"), named)
        version_match = pc.extract_regex(base, VERSION_RE.pattern)
        is_version = version_match.is_valid()
        task = pc.if_else(is_version, version_match.field("task"), base)
        dihedral = np.zeros(n, np.int8)
        digit = pc.if_else(is_version, version_match.field("dihedral"), "0")
        dihedral[real] = pc.cast(digit, pa.int8()).to_numpy(zero_copy_only=False)
        cmap = pc.if_else(is_version, version_match.field("colour_map"), IDENTITY_MAP)
        colour_map = np.full(n, IDENTITY_MAP, dtype=object)
        colour_map[real] = cmap.to_numpy(zero_copy_only=False)
        moves = {}
        for key in ("row_map", "col_map"):
            found = pc.if_else(is_version, version_match.field(key), "")
            values = np.full(n, None, dtype=object)
            values[real] = found.to_numpy(zero_copy_only=False)
            values[values == ""] = None  # an optional group that did not take part
            moves[key] = pa.array(values, pa.string())

        tasks = pc.dictionary_encode(task)
        task_code = np.full(n, -1, np.int64)
        task_code[real] = tasks.indices.to_numpy()
        bases = pc.dictionary_encode(base).indices.to_numpy().astype(np.int64)
        version = np.full(n, -1, np.int64)
        version[real] = _first_seen_rank(bases, task_code[real])
        return cls(
            tasks.dictionary.to_pylist(),
            task_code,
            version,
            dihedral,
            pa.array(colour_map, pa.string()),
            moves["row_map"],
            moves["col_map"],
            bool(pc.any(pair.is_valid()).as_py()),
        )


def _first_seen_rank(codes: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """For each item, how many distinct codes of its group were first seen before its code.

    Codes are numbered by first appearance (as ``dictionary_encode`` does), so within a group
    a code's rank is the count of smaller codes that belong to the same group.
    """
    if len(codes) == 0:
        return np.zeros(0, np.int64)
    _, first = np.unique(codes, return_index=True)
    group_of_code = groups[first]
    order = np.argsort(group_of_code, kind="stable")
    sorted_groups = group_of_code[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order)) - np.repeat(starts, sizes)
    return rank[codes]
