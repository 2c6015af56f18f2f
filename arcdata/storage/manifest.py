"""The manifest file: where it lives, its format tag and schema, and reading and writing it.

What a manifest *says* is decided by its writers (``builder/manifest.py``, the importers);
this module is the neutral part every reader and writer shares.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

from arcdata import jsonio
from arcdata.errors import DatasetError

FORMAT = "arcdata/1"
MANIFEST = "manifest.json"
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema_files" / "manifest.schema.json"


def write_json(path: Path, data: dict) -> None:
    """Atomic, durable, strict JSON write (NaN as null): stable key order, temp file, fsync,
    rename."""
    path = Path(path)
    tmp = Path(str(path) + ".tmp")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    with open(tmp, "w") as f:
        f.write(jsonio.dumps(data, indent=1, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_manifest(root: str | Path) -> dict:
    """The parsed manifest of the dataset at ``root``, or a one-line error saying why not.

    A dataset left without its folder by a publish killed between two renames is put back
    first (see :func:`arcdata.storage.publish.recover`).
    """
    from arcdata.storage.publish import recover

    recover(Path(root))
    path = Path(root) / MANIFEST
    if not path.exists():
        raise DatasetError(f"{root}: no manifest.json (not an arcdata dataset, or unfinished)")
    try:
        manifest = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise DatasetError(f"{path}: unreadable manifest: {e}") from None
    if not isinstance(manifest, dict):
        raise DatasetError(f"{path}: a manifest is a JSON object, found {type(manifest).__name__}")
    return manifest


@functools.cache
def _validator():
    import jsonschema

    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def schema_problems(manifest: object, limit: int = 20) -> list[str]:
    """Every way ``manifest`` breaks the schema, one line each (at most ``limit`` and a count)."""
    errors = sorted(
        _validator().iter_errors(manifest), key=lambda e: [str(p) for p in e.absolute_path]
    )
    out = []
    for e in errors[:limit]:
        key = ".".join(str(p) for p in e.absolute_path) or "(top level)"
        out.append(f"schema: {key}: {e.message}")
    if len(errors) > limit:
        out.append(f"schema: ... and {len(errors) - limit} more")
    return out
