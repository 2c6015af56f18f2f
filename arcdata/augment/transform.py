"""The one transform record: how every version of a task is made from the raw task, and undone.

A :class:`Transform` holds V transforms column-wise (one per version), so the build, the
planner, voting, ``show`` and the tests apply and invert whole batches with numpy gathers
instead of a Python loop per grid. Each transform is, applied in this order:

1. ``dihedral``: a D4 id (numbering of :mod:`arcdata.augment.d4`);
2. ``row_maps`` / ``col_maps`` (Sudoku only, else None): new row i = old row ``row_map[i]``,
   new column j = old column ``col_map[j]``; they combine with dihedral 0 or 6 only, the two
   D4 moves that keep a Sudoku's rows, columns and boxes as units (and keep the inverse of the
   same kind);
3. ``colour_maps``: a uint8[10] lookup per version, ``new = map[old]`` (for Sudoku the digit
   map, 0 fixed).

Rows store a transform as strings (``dihedral``, ``colour_map``, ``row_map``, ``col_map``
columns, digit i of a map = image of i), which :meth:`Transform.from_columns` parses back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from arcdata.augment import colour, d4

_INVERSE_DIHEDRAL = np.array(d4.INVERSE, dtype=np.int8)
MAP_DIHEDRALS = (0, 6)
"""Dihedral ids that may carry row/column maps."""


@dataclass(frozen=True, eq=False)
class Transform:
    """V transforms as columns; entry v turns a raw grid into version v's grid."""

    dihedral: np.ndarray  # int8 [V]
    colour_maps: np.ndarray  # uint8 [V, 10]
    row_maps: np.ndarray | None = None  # uint8 [V, n]
    col_maps: np.ndarray | None = None  # uint8 [V, n]

    def __post_init__(self) -> None:
        dih = np.asarray(self.dihedral, dtype=np.int8).reshape(-1)
        cmaps = np.asarray(self.colour_maps, dtype=np.uint8).reshape(len(dih), 10)
        object.__setattr__(self, "dihedral", dih)
        object.__setattr__(self, "colour_maps", cmaps)
        if ((dih < 0) | (dih > 7)).any():
            raise ValueError(f"dihedral ids must be 0..7, got {sorted(set(dih.tolist()))}")
        if (self.row_maps is None) != (self.col_maps is None):
            raise ValueError("row_maps and col_maps come together")
        if self.row_maps is not None:
            rows = np.asarray(self.row_maps, dtype=np.uint8).reshape(len(dih), -1)
            cols = np.asarray(self.col_maps, dtype=np.uint8).reshape(len(dih), -1)
            if rows.shape != cols.shape:
                raise ValueError("row_maps and col_maps have different lengths")
            if not np.isin(dih, MAP_DIHEDRALS).all():
                raise ValueError("row/column maps combine only with dihedral 0 or 6")
            object.__setattr__(self, "row_maps", rows)
            object.__setattr__(self, "col_maps", cols)

    # construction -------------------------------------------------------------------------

    @classmethod
    def identity(cls, count: int = 1, n: int | None = None) -> Transform:
        """``count`` identity transforms; with ``n``, carrying identity n x n row/column maps."""
        maps = None if n is None else np.tile(np.arange(n, dtype=np.uint8), (count, 1))
        return cls(
            np.zeros(count, np.int8),
            np.tile(colour.IDENTITY, (count, 1)),
            maps,
            None if maps is None else maps.copy(),
        )

    @classmethod
    def from_columns(
        cls,
        dihedral: Sequence[int] | np.ndarray,
        colour_map: Sequence[str],
        row_map: Sequence[str | None] | None = None,
        col_map: Sequence[str | None] | None = None,
    ) -> Transform:
        """Parse the stored string columns (one entry per version); None maps mean ARC."""
        cmaps = parse_maps(colour_map, 10, "colour_map")
        if (cmaps.size and np.sort(cmaps, axis=1) != colour.IDENTITY).any():
            bad = next(
                s for s, m in zip(colour_map, cmaps, strict=True) if sorted(m) != list(range(10))
            )
            raise ValueError(f"colour map must be a permutation of the 10 digits, got {bad!r}")
        if row_map is None or col_map is None or any(m is None for m in row_map):
            return cls(np.asarray(dihedral), cmaps)
        rows = parse_maps(row_map, None, "row_map")
        cols = parse_maps(col_map, rows.shape[1] if rows.size else None, "col_map")
        for name, maps in (("row_map", rows), ("col_map", cols)):
            if (np.sort(maps, axis=1) != np.arange(maps.shape[1])).any():
                raise ValueError(f"{name} must be a permutation of 0..{maps.shape[1] - 1}")
        return cls(np.asarray(dihedral), cmaps, rows, cols)

    @classmethod
    def from_row(cls, row: Mapping) -> Transform:
        """One stored row (a dict with the transform columns) as a 1-transform record."""
        rows, cols = row.get("row_map"), row.get("col_map")
        return cls.from_columns(
            [int(row["dihedral"])],
            [row["colour_map"]],
            None if rows is None else [rows],
            None if cols is None else [cols],
        )

    @classmethod
    def concat(cls, parts: Sequence[Transform]) -> Transform:
        with_maps = [p.row_maps is not None for p in parts]
        if any(with_maps) and not all(with_maps):
            raise ValueError("cannot mix transforms with and without row/column maps")
        return cls(
            np.concatenate([p.dihedral for p in parts]),
            np.concatenate([p.colour_maps for p in parts]),
            np.concatenate([p.row_maps for p in parts]) if all(with_maps) and parts else None,
            np.concatenate([p.col_maps for p in parts]) if all(with_maps) and parts else None,
        )

    # access -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.dihedral)

    @property
    def has_maps(self) -> bool:
        return self.row_maps is not None

    def take(self, index) -> Transform:
        """The transforms at ``index`` (an int keeps a batch of one)."""
        index = np.atleast_1d(np.asarray(index, dtype=np.int64))
        return Transform(
            self.dihedral[index],
            self.colour_maps[index],
            None if self.row_maps is None else self.row_maps[index],
            None if self.col_maps is None else self.col_maps[index],
        )

    def to_strings(self, v: int = 0) -> dict[str, str | None]:
        """Entry v in its stored form (what a row's transform columns hold)."""
        return {
            "dihedral": str(int(self.dihedral[v])),
            "colour_map": colour.to_string(self.colour_maps[v]),
            "row_map": None if self.row_maps is None else _digits(self.row_maps[v]),
            "col_map": None if self.col_maps is None else _digits(self.col_maps[v]),
        }

    def describe(self, v: int = 0) -> str:
        """Entry v for people: ``dihedral 6, colour map 0123456789, rows ..., columns ...``."""
        s = self.to_strings(v)
        text = f"dihedral {s['dihedral']}, colour map {s['colour_map']}"
        if s["row_map"] is not None:
            text += f", rows {s['row_map']}, columns {s['col_map']}"
        return text

    def equals(self, other: Transform) -> bool:
        return (
            np.array_equal(self.dihedral, other.dihedral)
            and np.array_equal(self.colour_maps, other.colour_maps)
            and self.has_maps == other.has_maps
            and (
                not self.has_maps
                or (
                    np.array_equal(self.row_maps, other.row_maps)
                    and np.array_equal(self.col_maps, other.col_maps)
                )
            )
        )

    # the algebra --------------------------------------------------------------------------

    def inverse(self) -> Transform:
        """The transforms u with ``u.apply(self.apply(g)) == g`` (of the same kind).

        Transposing first and then permuting rows r and columns c is undone by permuting rows
        by c^-1 and columns by r^-1, then transposing: so the maps swap roles under id 6.
        """
        cmaps = np.argsort(self.colour_maps, axis=1).astype(np.uint8)
        dih = _INVERSE_DIHEDRAL[self.dihedral]
        if self.row_maps is None:
            return Transform(dih, cmaps)
        rows = np.argsort(self.row_maps, axis=1).astype(np.uint8)
        cols = np.argsort(self.col_maps, axis=1).astype(np.uint8)
        flip = (self.dihedral == 6)[:, None]
        return Transform(dih, cmaps, np.where(flip, cols, rows), np.where(flip, rows, cols))

    def output_shapes(self, shapes: np.ndarray) -> np.ndarray:
        """[V, G, 2] shape of each of G grids (``shapes`` [G, 2]) under every transform."""
        shapes = np.asarray(shapes, dtype=np.int64).reshape(-1, 2)
        out = np.broadcast_to(shapes, (len(self), *shapes.shape)).copy()
        swap = np.isin(self.dihedral, (1, 3, 6, 7))
        out[swap] = out[swap][:, :, ::-1]
        return out

    def apply(self, grids: np.ndarray) -> np.ndarray:
        """[V, h', w']: ``grids[v]`` under transform v (a single [h, w] grid goes under all).

        Every output must have the same shape (square grids, or a batch whose dihedral ids
        all transpose or all do not); use :meth:`apply_cells` for anything ragged.
        """
        grids = np.asarray(grids)
        if grids.ndim == 2:
            grids = np.broadcast_to(grids, (len(self), *grids.shape))
        if grids.ndim != 3 or len(grids) != len(self):
            raise ValueError(f"expected [{len(self)}, h, w] grids, got shape {grids.shape}")
        shapes = {tuple(s) for s in self.output_shapes([grids.shape[1:]])[:, 0].tolist()}
        if len(shapes) > 1:
            raise ValueError("these transforms give grids of different shapes; use apply_cells")
        out = np.empty((len(self), *(shapes.pop() if shapes else grids.shape[1:])), grids.dtype)
        for t in np.unique(self.dihedral).tolist():
            sel = np.flatnonzero(self.dihedral == t)
            moved = d4.apply(grids[sel], t)
            if self.row_maps is not None:
                at = np.arange(len(sel))[:, None, None]
                rows = self.row_maps[sel].astype(np.intp)[:, :, None]
                cols = self.col_maps[sel].astype(np.intp)[:, None, :]
                moved = moved[at, rows, cols]
            out[sel] = np.take_along_axis(
                self.colour_maps[sel], moved.reshape(len(sel), -1).astype(np.intp), axis=1
            ).reshape(moved.shape)
        return out

    def invert(self, grids: np.ndarray) -> np.ndarray:
        """Undo :meth:`apply`: ``t.invert(t.apply(g)) == g``."""
        return self.inverse().apply(grids)

    def apply_cells(
        self,
        values: np.ndarray,
        shapes: np.ndarray,
        idx: np.ndarray | None = None,
        sources: np.ndarray | None = None,
    ) -> np.ndarray:
        """[V, len(idx)] cells of every transformed task, for grids stored back to back.

        ``values`` holds G grids (``shapes`` [G, 2]) row-major, one after another; the result
        holds each version's transformed grids the same way, restricted to positions ``idx``
        (default all). Versions are grouped by dihedral id, so each group is one gather of
        source positions and one colour lookup; no per-version or per-grid Python loop.
        ``sources`` is :func:`arcdata.augment.d4.cell_sources` of ``shapes`` for all 8 ids,
        for a caller that applies several transforms to one task (computed here otherwise).
        """
        values = np.asarray(values)
        shapes = np.asarray(shapes, dtype=np.int64).reshape(-1, 2)
        present = np.unique(self.dihedral).tolist()
        if sources is None:
            sources = dict(zip(present, d4.cell_sources(shapes, present), strict=True))
        n = int((shapes[:, 0] * shapes[:, 1]).sum()) if idx is None else len(idx)
        out = np.empty((len(self), n), dtype=np.uint8)
        if self.row_maps is None:
            for t in present:
                sel = np.flatnonzero(self.dihedral == t)
                source = sources[t] if idx is None else sources[t][idx]
                out[sel] = self.colour_maps[sel][:, values[source]]
            return out
        sizes = shapes[:, 0] * shapes[:, 1]
        starts = (np.cumsum(sizes) - sizes).tolist()
        for t in present:
            sel = np.flatnonzero(self.dihedral == t)
            moved = values[sources[t]]  # (L,) every grid under dihedral t
            rows = self.row_maps[sel].astype(np.intp)[:, :, None]  # (S, h', 1)
            cols = self.col_maps[sel].astype(np.intp)[:, None, :]  # (S, 1, w')
            picked = []
            for (h, w), s in zip(shapes.tolist(), starts, strict=True):
                wide = h if d4.transposes_shape(t) else w  # the transformed grid's width
                at = (s + rows * wide + cols).reshape(len(sel), -1)  # (S, h * w)
                picked.append(moved[at])
            cells = np.concatenate(picked, axis=1)  # (S, L) values before the colour map
            if idx is not None:
                cells = cells[:, idx]
            lookup = (np.arange(len(sel), dtype=np.int32) * 10)[:, None] + cells
            out[sel] = self.colour_maps[sel].ravel()[lookup]
        return out


def _digits(values: np.ndarray) -> str:
    return (np.asarray(values, dtype=np.uint8) + ord("0")).tobytes().decode()


def parse_maps(strings: Sequence[str], width: int | None, what: str) -> np.ndarray:
    """Equal-length digit strings -> uint8 [N, width], checked to be digits."""
    strings = list(strings)
    if not strings:
        return np.zeros((0, width or 0), np.uint8)
    width = len(strings[0]) if width is None else width
    if any(not isinstance(s, str) or len(s) != width for s in strings):
        raise ValueError(f"{what} must be strings of {width} digits")
    data = np.frombuffer("".join(strings).encode(), dtype=np.uint8).reshape(len(strings), width)
    if ((data < ord("0")) | (data > ord("9"))).any():
        raise ValueError(f"{what} must be strings of {width} digits")
    return data - ord("0")


def map_strings(maps: np.ndarray) -> pa.Array:
    """[N, k] maps -> N strings of k digits (their stored form), built from one buffer."""
    n, k = maps.shape
    data = (maps.astype(np.uint8) + ord("0")).tobytes()
    offsets = (np.arange(n + 1, dtype=np.int32) * k).tobytes()
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
