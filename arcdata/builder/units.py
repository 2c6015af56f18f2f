"""The work a Dask worker does: plan a unit's versions, then write its shards.

A unit is a run of consecutive tasks (in task-id order) sized to about ``shards.rows`` rows.
Unit boundaries depend only on the data and config, never on the worker count, which is what
makes shards byte-identical however many workers build them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from arcdata import ids as idlayout
from arcdata.augment.plan import plan_dihedral_colour
from arcdata.augment.sudoku import plan_sudoku
from arcdata.augment.transform import Transform, map_strings
from arcdata.builder.rows import Ids, task_rows
from arcdata.builder.shards import assemble
from arcdata.records import Task
from arcdata.schema import IDENTIFIER_SCHEMA
from arcdata.storage.parquet import repeat_strings, write_parquet


@dataclass(frozen=True)
class Unit:
    index: int
    task_ids: tuple[str, ...]
    estimated_rows: int


def pack_units(tasks: list[Task], versions: int, target_rows: int) -> list[Unit]:
    """Consecutive tasks grouped until their (upper-bound) row count reaches the target."""
    units, current, rows = [], [], 0
    for task in tasks:
        n = len(task.pairs()) * (versions + 1)
        if current and rows + n > target_rows:
            units.append(Unit(len(units), tuple(current), rows))
            current, rows = [], 0
        current.append(task.id)
        rows += n
    if current:
        units.append(Unit(len(units), tuple(current), rows))
    return units


def plan_task(task: Task, config: dict) -> Transform:
    aug = config["augment"]
    frozen = task.evaluation and not aug["evaluation"]
    if aug.get("sudoku"):
        return plan_sudoku(
            task,
            versions=0 if frozen else aug["versions"],
            seed=config["seed"],
            draws_factor=aug["draws_factor"],
        )
    if frozen:
        return Transform.identity()
    colours = aug["colours"]
    return plan_dihedral_colour(
        task,
        versions=aug["versions"],
        dihedral=list(aug["dihedral"]),
        permute_colours=colours["permute"],
        fixed_colours=list(colours["fixed"]),
        seed=config["seed"],
        draws_factor=aug["draws_factor"],
    )


def plan_unit(tasks: list[Task], config: dict) -> list[Transform]:
    return [plan_task(t, config) for t in tasks]


@dataclass(frozen=True)
class PlannedUnit:
    """A unit's tasks with their plans: what the planning stage leaves on its worker.

    The writing stage depends on this result, so the tasks travel to a worker once (with the
    planning task) and the writing task runs where they already are; a lost worker's result is
    recomputed from the planning task's inputs.
    """

    tasks: list[Task]
    plans: list[Transform]


def plan_unit_kept(tasks: list[Task], config: dict) -> PlannedUnit:
    return PlannedUnit(tasks, plan_unit(tasks, config))


def count_versions(plans: list[Transform] | PlannedUnit) -> list[int]:
    if isinstance(plans, PlannedUnit):
        plans = plans.plans
    return [len(p) for p in plans]


def build_unit(
    unit: Unit,
    tasks: list[Task] | None,
    plans: list[Transform] | PlannedUnit | None,
    id_bases: list[int],
    config: dict,
    tmp_dir: str,
) -> dict:
    """Materialise and write one unit's shards (one file per split) and identifier rows.

    ``plans`` is None when no planning stage ran (ids that do not depend on version counts);
    a :class:`PlannedUnit` carries the tasks too (then ``tasks`` is None).
    ``id_bases`` holds each task's first id, or its [V, P] id table under an identifier map,
    whose identifiers.parquet the driver writes whole (so units write no identifier rows).
    """
    if isinstance(plans, PlannedUnit):
        tasks, plans = plans.tasks, plans.plans
    elif plans is None:
        plans = plan_unit(tasks, config)
    blocks: dict[str, list] = {}
    for task, versions, base in zip(tasks, plans, id_bases, strict=True):
        per_split = task_rows(
            task,
            versions,
            split_rule=config["split"],
            translate=config["augment"]["translate"],
            seed=config["seed"],
            ids=Ids.of(config["ids"], base),
        )
        for split, cols in per_split.items():
            blocks.setdefault(split, []).append((task, versions, cols))
    root = Path(tmp_dir)
    stats = {"unit": unit.index, "splits": {}}
    for split, split_blocks in sorted(blocks.items()):
        table = assemble(split, split_blocks)
        path = root / "units" / split / f"unit-{unit.index:05d}.parquet"
        stats["splits"][split] = {
            **write_parquet(table, path, config["shards"]),
            "path": str(path.relative_to(root)),
            "tasks": len(split_blocks),
            "versions": int(sum(len(v) for _, v, _ in split_blocks)),
        }
    mapped = config.get("identifiers") is not None
    ident = identifier_table(tasks, plans, id_bases, "none" if mapped else config["ids"])
    if ident.num_rows:
        path = root / "units" / "identifiers" / f"unit-{unit.index:05d}.parquet"
        write_parquet(ident, path, {"compression": "zstd", "row_group": 1 << 20})
    stats["versions"] = [len(p) for p in plans]
    return stats


def identifier_table(tasks, plans, id_bases, granularity: str) -> pa.Table:
    """The id -> (task, version, pair, transform) map for this unit's tasks, named by the
    grammar of :mod:`arcdata.ids`."""
    if granularity == "none" or not tasks:
        return IDENTIFIER_SCHEMA.empty_table()
    task_ids = [t.id for t in tasks]
    if granularity == "task":
        n = len(tasks)
        return pa.Table.from_arrays(
            [
                pa.array(id_bases, pa.int32()),
                pa.array(task_ids),
                pa.array(task_ids),
                pa.nulls(n, pa.int32()),
                pa.nulls(n, pa.string()),
                pa.nulls(n, pa.int16()),
                pa.nulls(n, pa.int8()),
                pa.nulls(n, pa.string()),
            ],
            schema=IDENTIFIER_SCHEMA,
        )

    counts = np.array([len(p) for p in plans], dtype=np.int64)
    per_version = (
        np.array([len(t.pairs()) for t in tasks])
        if granularity == "pair"
        else np.ones(len(tasks), dtype=np.int64)
    )
    reps = np.repeat(per_version, counts)  # rows per version
    version = np.concatenate([np.arange(c, dtype=np.int32) for c in counts])
    transform = Transform.concat(plans)
    task_col = repeat_strings(task_ids, counts)
    names = idlayout.version_names(task_col, version, transform)
    take = pa.array(np.repeat(np.arange(len(version)), reps))
    ids = np.concatenate(
        [b + np.arange(c * k) for b, c, k in zip(id_bases, counts, per_version, strict=True)]
    )
    role = pa.nulls(len(ids), pa.string())
    index = pa.nulls(len(ids), pa.int16())
    names, task_col = names.take(take), task_col.take(take)
    if granularity == "pair":
        roles = [[r for r, _, _ in t.pairs()] for t in tasks]
        idx = [[i for _, i, _ in t.pairs()] for t in tasks]
        role = pa.array(np.concatenate([np.tile(r, c) for r, c in zip(roles, counts, strict=True)]))
        index = pa.array(
            np.concatenate(
                [np.tile(np.array(i, np.int16), c) for i, c in zip(idx, counts, strict=True)]
            )
        )
        names = idlayout.pair_names(names, role, index)
    return pa.Table.from_arrays(
        [
            pa.array(ids.astype(np.int32)),
            names,
            task_col,
            pa.array(version).take(take),
            role,
            index,
            pa.array(transform.dihedral).take(take),
            map_strings(transform.colour_maps).take(take),
        ],
        schema=IDENTIFIER_SCHEMA,
    )


def id_bases(tasks: list[Task], counts: list[int], granularity: str) -> list[int]:
    """Dense id ranges in task-id order (:func:`arcdata.ids.id_bases`); 0 stays the blank."""
    return idlayout.id_bases([len(t.pairs()) for t in tasks], counts, granularity)
