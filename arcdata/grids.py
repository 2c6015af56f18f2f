"""Grid validation: raw nested lists from a source file to checked uint8 arrays.

Token layouts (what a grid becomes for a model) live in :mod:`arcdata.tokens`.
"""

from __future__ import annotations

import numpy as np

from arcdata.errors import InputError
from arcdata.tokens import ARC_SIDE


def validate_grid(
    value: object,
    *,
    max_side: int = ARC_SIDE,
    max_value: int = 9,
    file: str | None = None,
    task: str | None = None,
    pair: str | None = None,
    field: str | None = None,
) -> np.ndarray:
    """Check a raw grid (nested lists of ints) and return it as a 2-D uint8 array.

    Rejects anything that is not a rectangular list of lists of integers in 0..max_value with
    1..max_side rows and columns; the error names the file, task, pair and field.
    """

    def fail(msg: str) -> InputError:
        return InputError(msg, file=file, task=task, pair=pair, field=field)

    if not isinstance(value, list) or not value:
        raise fail("grid must be a non-empty list of rows")
    if len(value) > max_side:
        raise fail(f"grid has {len(value)} rows; at most {max_side} allowed")
    width = None
    for r, row in enumerate(value):
        if not isinstance(row, list) or not row:
            raise fail(f"row {r} must be a non-empty list")
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise fail(f"row {r} has {len(row)} cells but row 0 has {width} (ragged grid)")
        for c, v in enumerate(row):
            if type(v) is not int:  # bool and float are not cell values
                raise fail(f"cell ({r}, {c}) is {v!r}, not an integer")
            if not 0 <= v <= max_value:
                raise fail(f"cell ({r}, {c}) is {v}; values must be 0..{max_value}")
    if width > max_side:
        raise fail(f"grid has {width} columns; at most {max_side} allowed")
    return np.asarray(value, dtype=np.uint8)
