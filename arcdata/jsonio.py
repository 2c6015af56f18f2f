"""Strict JSON for every file and report arcdata writes: NaN and infinities become ``null``.

Python's json module writes bare ``NaN`` and ``Infinity`` by default, which is not JSON: jq,
JavaScript and most other readers reject the whole file. A metric that is undefined (an empty
calibration bin, a loss that diverged) is better said as null than as a file nobody can read.
"""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any) -> Any:
    """``value`` with every non-finite float (also inside dicts, lists, tuples) made None.

    numpy scalars are turned into Python numbers on the way, so callers may pass them as they are.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalars and 0-d arrays
    if item is not None and getattr(value, "ndim", None) == 0:
        return finite(item())
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` that never writes NaN or Infinity (they become null)."""
    return json.dumps(finite(value), allow_nan=False, **kwargs)
