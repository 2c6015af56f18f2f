"""Build against a given identifier map (the pipeline key ``identifiers``).

A checkpoint's puzzle embeddings are indexed by the ids of the dataset it trained on. Given that
dataset's map (the reference's ``identifiers.json``, or an arcdata ``identifiers.parquet``), the
build makes exactly the versions the map names, with exactly its ids, so the checkpoint lines up
with no training: a name ``<task>_t<d>_<colour map>`` *is* its transform (:mod:`arcdata.ids`
parses it), so no planner runs. Translation offsets still come from the seed.

What the map and the sources disagree on is an error listing it, unless the pipeline says
otherwise: ``missing: blank`` keeps the ids of names the sources cannot make (their tasks or
pairs are absent) reserved with no rows; ``unmapped: skip`` leaves out source tasks the map
does not name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from arcdata.augment.transform import Transform
from arcdata.builder.collect import ReadResult
from arcdata.errors import ConfigError
from arcdata.ids import BLANK, BLANK_ID, NameColumns, duplicate_names, name_problems, parse_names
from arcdata.records import Task
from arcdata.schema import IDENTIFIER_SCHEMA
from arcdata.storage.hashing import file_sha256

MISSING = ("error", "blank")
UNMAPPED = ("error", "skip")
SHOWN = 5  # names an error lists before "(and N more)"


def listed(items: Iterable[str]) -> str:
    """``a, b, c (and 7 more)``: the first few of a long list, on one line."""
    items = list(items)
    head = ", ".join(repr(i) for i in items[:SHOWN])
    return head + (f" (and {len(items) - SHOWN} more)" if len(items) > SHOWN else "")


def settings(config: dict) -> dict | None:
    """The ``identifiers`` key in its full form (a bare path is the strict default), or None."""
    spec = config.get("identifiers")
    if spec is None:
        return None
    if isinstance(spec, str):
        spec = {"path": spec}
    return {"missing": "error", "unmapped": "error", **spec}


def read_names(path: Path) -> list[str]:
    """A map's names, index = id: a JSON list, or an identifiers.parquet's (id, name) rows."""
    where = f"identifiers {path}"
    if not path.is_file():
        raise ConfigError(f"{where}: file not found (the pipeline key identifiers.path)")
    if path.suffix == ".json":
        try:
            names = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise ConfigError(f"{where}: not a JSON file: {e}") from None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ConfigError(f"{where}: must be a JSON list of names (index = embedding id)")
        return names
    if path.suffix == ".parquet":
        try:
            table = pq.read_table(path, columns=["embedding_id", "name"])
        except (pa.ArrowException, OSError) as e:
            raise ConfigError(f"{where}: not an identifiers table: {e}") from None
        ids = table.column("embedding_id").to_numpy()
        order = np.argsort(ids, kind="stable")
        if not np.array_equal(ids[order], np.arange(len(ids))):
            raise ConfigError(f"{where}: embedding ids must be 0..{len(ids) - 1}, each once")
        return table.column("name").take(pa.array(order)).to_pylist()
    raise ConfigError(f"{where}: expected an identifiers.json or an identifiers.parquet")


def check_names(names: list[str], where: str) -> None:
    """One line for the first kind of bad name: blank not at 0, duplicates, unparseable."""
    if not names or names[0] != BLANK:
        first = repr(names[0]) if names else "nothing"
        raise ConfigError(f"{where}: id 0 must be {BLANK!r}, found {first}")
    blanks = [i for i, n in enumerate(names) if n == BLANK][1:]
    if blanks:
        raise ConfigError(f"{where}: {BLANK!r} may only name id 0, found at id {blanks[0]}")
    dup = duplicate_names(names)
    if dup:
        raise ConfigError(f"{where}: {len(dup)} name(s) given to more than one id: {listed(dup)}")
    bad = name_problems(names[1:])
    if bad:
        shown = "; ".join(f"id {i + 1} {names[i + 1]!r}: {why}" for i, why in list(bad.items())[:3])
        more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
        raise ConfigError(f"{where}: {len(bad)} unparseable name(s): {shown}{more}")


@dataclass
class IdentifierMap:
    """A checked map and what it says per task; ``plan`` fills ``version`` (per id)."""

    path: Path
    names: list[str]  # index = embedding id
    parsed: NameColumns  # of names[1:]
    granularity: str
    missing: str
    unmapped: str
    by_task: dict[str, np.ndarray]  # task -> its ids, ascending
    version: np.ndarray  # int64 [ids]: version of each id's rows, -1 where none

    @classmethod
    def load(cls, spec: dict, granularity: str) -> IdentifierMap:
        path = Path(spec["path"])
        where = f"identifiers {path}"
        names = read_names(path)
        check_names(names, where)
        parsed = parse_names(names[1:])
        _check_granularity(parsed, names, granularity, where)
        tasks = pa.compute.dictionary_encode(parsed.task)
        codes = tasks.indices.to_numpy(zero_copy_only=False)
        order = np.argsort(codes, kind="stable")
        cuts = np.flatnonzero(np.diff(codes[order])) + 1
        groups = np.split(order + 1, cuts) if len(order) else []
        task_names = tasks.dictionary.to_pylist()
        by_task = {task_names[codes[g[0] - 1]]: g for g in groups}
        return cls(
            path,
            names,
            parsed,
            granularity,
            spec["missing"],
            spec["unmapped"],
            by_task,
            np.full(len(names), -1, np.int64),
        )

    @property
    def where(self) -> str:
        return f"identifiers {self.path}"

    def column(self, name: str, ids: np.ndarray):
        """Column ``name`` of :attr:`parsed` at embedding ids ``ids``."""
        value = getattr(self.parsed, name)
        rows = np.asarray(ids, dtype=np.int64) - 1
        return (
            value.take(pa.array(rows)).to_pylist() if isinstance(value, pa.Array) else value[rows]
        )

    # the sources against the map -----------------------------------------------------------

    def keep(self) -> set[str] | None:
        """The task ids :func:`arcdata.builder.collect.read_tasks` keeps (None: all), so the
        tasks ``unmapped: skip`` leaves out are counted as filtered by their own source."""
        return set(self.by_task) if self.unmapped == "skip" else None

    def check(self, read: ReadResult) -> None:
        """Raise, listing them, for the disagreements between the map and the sources that
        the settings do not allow."""
        have = {t.id for t in read.tasks}
        absent = sorted(t for t in self.by_task if t not in have)
        if absent and self.missing == "error":
            names = [self.names[i] for t in absent for i in self.by_task[t]]
            raise ConfigError(
                f"{self.where}: {len(names)} name(s) of {len(absent)} task(s) the sources lack: "
                f"{listed(names)}; add their sources, or set identifiers.missing: blank to keep "
                "their ids with no rows"
            )
        extra = [t.id for t in read.tasks if t.id not in self.by_task]
        if extra:
            raise ConfigError(
                f"{self.where}: {len(extra)} source task(s) the map does not name: "
                f"{listed(extra)}; use the map's own sources, or set identifiers.unmapped: skip"
            )

    # versions and ids ------------------------------------------------------------------------

    def plan(self, tasks: list[Task]) -> tuple[list[Transform], list[np.ndarray]]:
        """Each task's versions (the original first, then the map's order) and the [V, P] ids
        of its rows (``ids: version`` or ``pair``); records every id's version."""
        plans, tables = [], []
        short: list[str] = []
        extra: list[str] = []
        for task in tasks:
            ids = self.by_task[task.id]
            base = self.column("base", ids)
            bases = list(dict.fromkeys(base))
            if task.id not in bases:
                raise ConfigError(
                    f"{self.where}: task {task.id}: the map names versions of it but not the "
                    f"original {task.id!r}, which every task's version 0 is"
                )
            bases.remove(task.id)
            bases.insert(0, task.id)  # version 0 is the original, whatever its id
            first = {b: int(ids[base.index(b)]) for b in bases}
            transform = self._transforms(task.id, [first[b] for b in bases])
            version_of = {b: v for v, b in enumerate(bases)}
            self.version[ids] = [version_of[b] for b in base]
            pairs = task.pairs()
            if self.granularity == "version":
                table = np.repeat(
                    np.array([first[b] for b in bases], np.int32)[:, None], len(pairs), 1
                )
            else:
                roles, index = self.column("role", ids), self.column("index", ids).tolist()
                key = dict(zip(zip(base, roles, index, strict=True), ids.tolist(), strict=True))
                table = np.zeros((len(bases), len(pairs)), np.int32)
                for v, b in enumerate(bases):
                    for p, (role, i, _) in enumerate(pairs):
                        found = key.pop((b, role, i), None)
                        if found is None:
                            short.append(f"{b}_{role}{i}")
                        else:
                            table[v, p] = found
                extra += [self.names[i] for i in key.values()]
                self.version[list(key.values())] = -1
            plans.append(transform)
            tables.append(table)
        if short:
            raise ConfigError(
                f"{self.where}: {len(short)} pair(s) of the sources the map does not name: "
                f"{listed(short)}; a pair map must name every pair of every version it names"
            )
        if extra and self.missing == "error":
            raise ConfigError(
                f"{self.where}: {len(extra)} name(s) of pairs the sources lack: {listed(extra)}; "
                "set identifiers.missing: blank to keep their ids with no rows"
            )
        return plans, tables

    def task_ids(self, tasks: list[Task]) -> list[int]:
        """``ids: task``: each task's one id (its versions come from the planner)."""
        return [int(self.by_task[t.id][0]) for t in tasks]

    def _transforms(self, task_id: str, ids: list[int]) -> Transform:
        rows = np.asarray(ids, dtype=np.int64)
        row_maps = self.column("row_map", rows)
        widths = {len(m) for m in row_maps if m is not None}
        if not widths:
            return self.parsed.transform(rows - 1)
        if len(widths) > 1 or any(m is None for m in row_maps[1:]):
            raise ConfigError(
                f"{self.where}: task {task_id}: its versions mix row/column maps of different "
                "kinds; a task's versions are all ARC moves or all Sudoku moves"
            )
        identity = "".join(map(str, range(widths.pop())))
        cols = self.column("col_map", rows)
        return Transform.from_columns(
            self.parsed.dihedral[rows - 1],
            self.column("colour_map", rows),
            [identity, *row_maps[1:]],
            [identity, *cols[1:]],
        )

    # what the build writes ---------------------------------------------------------------------

    def table(self) -> pa.Table:
        """identifiers.parquet: every id of the map with its name (so the map travels whole),
        task, version (null for ids no row uses, and under ``ids: task``) and transform."""
        n = len(self.names)
        ids = np.arange(1, n)
        task = self.parsed.task
        version = self.version[1:]
        pair = self.granularity == "pair"
        transform = self.granularity != "task"
        null_str = pa.nulls(n - 1, pa.string())
        body = pa.Table.from_arrays(
            [
                pa.array(ids.astype(np.int32)),
                pa.array(self.names[1:], pa.string()),
                task,
                pa.array(version.astype(np.int32), mask=version < 0),
                self.parsed.role if pair else null_str,
                pa.array(self.parsed.index.astype(np.int16), mask=~self.parsed.is_pair)
                if pair
                else pa.nulls(n - 1, pa.int16()),
                pa.array(self.parsed.dihedral) if transform else pa.nulls(n - 1, pa.int8()),
                self.parsed.colour_map if transform else null_str,
            ],
            schema=IDENTIFIER_SCHEMA,
        )
        blank = pa.Table.from_pylist(
            [{"embedding_id": BLANK_ID, "name": BLANK, "task_id": ""}], schema=IDENTIFIER_SCHEMA
        )
        return pa.concat_tables([blank, body])


def _check_granularity(parsed: NameColumns, names: list[str], granularity: str, where: str):
    """The map's names must be of the kind ``ids`` lays out."""
    if granularity == "none":
        raise ConfigError(
            f"{where}: ids: none gives every row id 0; a map needs ids: version, "
            "task or pair (whichever its names are)"
        )
    pairs = np.flatnonzero(parsed.is_pair)
    if granularity == "pair":
        if len(pairs) < len(parsed.is_pair):
            first = names[1 + int(np.flatnonzero(~parsed.is_pair)[0])]
            raise ConfigError(
                f"{where}: ids: pair, but {first!r} is no pair's name "
                "(<version>_train<i> / _test<i>); set ids: version for this map"
            )
        return
    if len(pairs):
        raise ConfigError(
            f"{where}: the map names pairs (first {names[1 + int(pairs[0])]!r}); set ids: pair"
        )
    versions = np.flatnonzero(parsed.is_version)
    if granularity == "task" and len(versions):
        raise ConfigError(
            f"{where}: ids: task, but the map names versions (first "
            f"{names[1 + int(versions[0])]!r}); set ids: version"
        )


def attach(config: dict) -> tuple[dict, IdentifierMap | None]:
    """Load the map a config names (None without one) and record its checksum in the config,
    so the manifest says which map and a changed map file changes the build's fingerprint."""
    spec = settings(config)
    if spec is None:
        return config, None
    digest = file_sha256(spec["path"]) if Path(spec["path"]).is_file() else None
    if spec.get("sha256") and digest and spec["sha256"] != digest:
        raise ConfigError(
            f"identifiers {spec['path']}: sha256 {digest} but the pipeline pins "
            f"{spec['sha256']}; the map file changed"
        )
    idmap = IdentifierMap.load(spec, config["ids"])
    return {**config, "identifiers": {**spec, "sha256": digest}}, idmap
