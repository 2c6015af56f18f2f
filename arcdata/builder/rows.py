"""Materialise the rows of one task: every version x pair, as column arrays per split.

The cells come from :meth:`arcdata.augment.transform.Transform.apply_cells` (one gather per
dihedral id, no Python loop per version or grid); ids from :mod:`arcdata.ids`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arcdata import ids as idlayout
from arcdata.augment import d4
from arcdata.augment.plan import task_grids, task_rng
from arcdata.augment.transform import Transform
from arcdata.records import Task

ARC_CANVAS = 30


@dataclass
class TaskLayout:
    """Where each grid of a task sits in its concatenated cell array."""

    shapes: np.ndarray  # int64 [G, 2] (h, w) of every grid, order of plan.task_grids
    starts: np.ndarray  # int64 [G]
    values: np.ndarray  # uint8 [L]

    @classmethod
    def of(cls, task: Task) -> TaskLayout:
        grids = task_grids(task)
        shapes = np.array([g.shape for g in grids], dtype=np.int64)
        sizes = shapes[:, 0] * shapes[:, 1]
        starts = np.cumsum(sizes) - sizes
        return cls(shapes, starts, np.concatenate([g.ravel() for g in grids]))


def split_of_pairs(task: Task, rule: str) -> list[str]:
    """The split each pair goes to, in ``task.pairs()`` order."""
    out = []
    for role, _, _ in task.pairs():
        if not task.evaluation:
            out.append("train")
        elif role == "test":
            out.append("test")
        else:
            out.append("train" if rule == "hrm" else "eval_demos")
    return out


def translation_offsets(
    task: Task, shapes: np.ndarray, in_train: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """[V, P] random top-left offsets for train-split pairs; one per version stays at (0, 0).

    Bounds follow the reference: r in [0, 30 - max(h_in, h_out)], same for columns.
    """
    n_v, n_grids, _ = shapes.shape
    n_p = n_grids // 2
    rng = task_rng(seed, task.id, stream=1)
    hmax = np.maximum(shapes[:, 0::2, 0], shapes[:, 1::2, 0])
    wmax = np.maximum(shapes[:, 0::2, 1], shapes[:, 1::2, 1])
    u = rng.random((n_v, n_p, 2))
    r = np.floor(u[..., 0] * (ARC_CANVAS - hmax + 1)).astype(np.int64)
    c = np.floor(u[..., 1] * (ARC_CANVAS - wmax + 1)).astype(np.int64)
    r[:, ~in_train] = 0
    c[:, ~in_train] = 0
    train_idx = np.flatnonzero(in_train)
    if train_idx.size:
        keep = train_idx[rng.integers(0, train_idx.size, size=n_v)]
        r[np.arange(n_v), keep] = 0
        c[np.arange(n_v), keep] = 0
    return r, c


@dataclass
class Ids:
    """How this task's rows get embedding ids (bases come from the driver's global count).

    ``table`` is the [V, P] id of every row when an identifier map gives them (a map's ids need
    not be dense per task); then ``base`` is unused.
    """

    granularity: str
    base: int  # first id of this task
    table: np.ndarray | None = None  # int32 [V, P]

    @classmethod
    def of(cls, granularity: str, base: int | np.ndarray) -> Ids:
        """From the driver's per-task entry: a first id, or a map's [V, P] table."""
        if isinstance(base, np.ndarray):
            return cls(granularity, 0, base.astype(np.int32))
        return cls(granularity, base)

    def grid(self, n_versions: int, n_pairs: int) -> np.ndarray:
        """[V, P] int32 id of every row of the task."""
        if self.table is None:
            return idlayout.embedding_ids(self.granularity, self.base, n_versions, n_pairs)
        if self.table.shape != (n_versions, n_pairs):
            raise ValueError(f"id table {self.table.shape} for {n_versions} x {n_pairs} rows")
        return self.table


def task_rows(
    task: Task,
    versions: Transform,
    *,
    split_rule: str,
    translate: bool,
    seed: int,
    ids: Ids,
) -> dict[str, dict[str, np.ndarray]]:
    """Columns of this task's rows, grouped by split, ordered version-major then pair order."""
    layout = TaskLayout.of(task)
    pairs = task.pairs()
    n_v, n_p = len(versions), len(pairs)
    splits = np.array(split_of_pairs(task, split_rule))
    shapes = versions.output_shapes(layout.shapes)
    in_train = splits == "train"
    if translate and in_train.any():
        off_r, off_c = translation_offsets(task, shapes, in_train, seed)
    else:
        off_r = off_c = np.zeros((n_v, n_p), dtype=np.int64)
    ids_vp = ids.grid(n_v, n_p)
    sizes = layout.shapes[:, 0] * layout.shapes[:, 1]
    sources = d4.cell_sources(layout.shapes)  # [8, L], shared by every split and kind

    out: dict[str, dict[str, np.ndarray]] = {}
    for split in dict.fromkeys(splits.tolist()):
        sel = np.flatnonzero(splits == split)
        cols: dict[str, np.ndarray] = {}
        for kind, grid_idx in (("input", 2 * sel), ("output", 2 * sel + 1)):
            idx = np.concatenate(
                [np.arange(layout.starts[g], layout.starts[g] + sizes[g]) for g in grid_idx]
            )
            cols[kind] = versions.apply_cells(layout.values, layout.shapes, idx, sources).ravel()
            cols[kind + "_sizes"] = np.tile(sizes[grid_idx], n_v)
            cols[kind + "_h"] = shapes[:, grid_idx, 0].ravel().astype(np.uint8)
            cols[kind + "_w"] = shapes[:, grid_idx, 1].ravel().astype(np.uint8)
        cols["version"] = np.repeat(np.arange(n_v, dtype=np.int32), sel.size)
        cols["pair_number"] = np.tile(sel, n_v)
        cols["offset_r"] = off_r[:, sel].ravel().astype(np.uint8)
        cols["offset_c"] = off_c[:, sel].ravel().astype(np.uint8)
        cols["embedding_id"] = ids_vp[:, sel].ravel()
        out[split] = cols
    return out
