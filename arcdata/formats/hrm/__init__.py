"""Export to, and import from, the HRM reference's npy layout.

Why: the reference trainer (and its successors) read exactly this layout, and released HRM
datasets exist only in it. Export lets an arcdata build feed the reference unchanged; import
brings reference datasets into arcdata's Parquet form (and so into the stream, the viewer and
the evaluator). Both directions are byte-exact: export -> import -> export reproduces every
file, and importing a reference output then exporting it gives back its bytes.

Layout (``hrm-reference.md`` section 4)::

    OUT/identifiers.json                  ["<blank>", name of id 1, ...]
    OUT/<split>/dataset.json              metadata, set "all"
    OUT/<split>/all__inputs.npy           uint8 [N, seq_len]   tokens (PAD 0)
    OUT/<split>/all__labels.npy           uint8 [N, seq_len]   tokens (PAD 0 = ignored)
    OUT/<split>/all__puzzle_identifiers.npy  int32 [P]
    OUT/<split>/all__puzzle_indices.npy   int32 [P+1]  example offsets per puzzle
    OUT/<split>/all__group_indices.npy    int32 [G+1]  puzzle offsets per group

Mapping: a group is a task in a split; a puzzle is a run of rows of one (task, version) with one
embedding id (so under ``ids: pair`` every example is its own puzzle); rows keep dataset order.

Modules: :mod:`~arcdata.formats.hrm.layout` (names, metadata, structure, identifier names),
:mod:`~arcdata.formats.hrm.npy` (bounded-memory npy reading and writing),
:mod:`~arcdata.formats.hrm.export`, :mod:`~arcdata.formats.hrm.importer` and
:mod:`~arcdata.formats.hrm.import_manifest`.
"""

from arcdata.formats.hrm.export import export_hrm
from arcdata.formats.hrm.importer import import_hrm
from arcdata.formats.hrm.layout import ARRAYS

__all__ = ["ARRAYS", "export_hrm", "import_hrm"]
