"""Paths read from a manifest, kept inside the dataset they describe.

A manifest is data someone may hand you. Every reader (verify, stream, show, export, evaluate)
goes through here, so a shard path like ``../../etc/passwd`` or a split named ``../x`` can
neither make a reader open a file outside the dataset nor make a writer (export) write outside
its ``--out``.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from arcdata.errors import DatasetError


def _plain(rel: str) -> bool:
    return not (
        PurePosixPath(rel).is_absolute()
        or rel.startswith("~")
        or "\\" in rel
        or "\x00" in rel
        or any(part in ("..", "", ".") for part in rel.split("/"))
    )


def safe_member(root: str | Path, rel: object, what: str = "path") -> Path:
    """``root / rel`` for a path read from a manifest, refusing anything that leaves ``root``.

    Relative, no ``..``, no backslashes, and (after symlinks) still inside ``root``.
    """
    if not isinstance(rel, str) or not rel:
        raise DatasetError(f"{root}: manifest {what} {rel!r} is not a relative file path")
    if not _plain(rel):
        raise DatasetError(
            f"{root}: manifest {what} {rel!r} must be a plain relative path "
            "inside the dataset (no '..', no absolute paths)"
        )
    base = Path(root).resolve()
    path = (base / rel).resolve()
    if path != base and base not in path.parents:
        raise DatasetError(f"{root}: manifest {what} {rel!r} leads outside the dataset (to {path})")
    return base / rel


def safe_name(root: str | Path, name: object, what: str = "name") -> str:
    """A name from a manifest that a writer turns into one folder or file name (a split).

    One plain path component: no ``/``, no ``..``, not hidden, so ``out / name`` stays in ``out``.
    """
    if (
        not isinstance(name, str)
        or not name
        or "/" in name
        or name.startswith(".")
        or not _plain(name)
    ):
        raise DatasetError(
            f"{root}: manifest {what} {name!r} must be a plain file name "
            "(letters, digits, '_', '-'; no '/', no '..')"
        )
    return name
