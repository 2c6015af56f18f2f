"""Readers of raw puzzle files: one module per source ``type``, each turning a raw format into
``Task`` records.

Readers register themselves in their family's registry (``base.REGISTRIES``: arc, sudoku,
maze) under the ``type:`` name of a pipeline's source entry; importing this package loads all
of them.
"""

from arcdata.sources import (  # noqa: F401  (each module registers its reader)
    arc_dir,
    arckit,
    conceptarc,
    kaggle,
    maze_csv,
    maze_generated,
    sudoku_csv,
    sudoku_generated,
    sudoku_list,
)
from arcdata.sources.base import (
    FAMILIES,
    REGISTRIES,
    REGISTRY,
    Rejects,
    SourceResult,
    family_of,
    read_source,
    register,
)

__all__ = [
    "FAMILIES",
    "REGISTRIES",
    "REGISTRY",
    "Rejects",
    "SourceResult",
    "family_of",
    "read_source",
    "register",
]
