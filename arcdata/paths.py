"""Paths read from a manifest, kept inside the dataset they describe."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from arcdata.errors import DatasetError


def safe_member(root: str | Path, rel: object, what: str = "path") -> Path:
    """``root / rel`` for a path read from a manifest, refusing anything that leaves ``root``.

    A manifest is data someone may hand you; a shard path like ``../../etc/passwd`` or
    ``/home/x/secret`` must not make a reader (verify, stream, show) open files outside the
    dataset. Relative, no ``..``, no backslashes, and (after symlinks) still inside ``root``.
    """
    if not isinstance(rel, str) or not rel:
        raise DatasetError(f"{root}: manifest {what} {rel!r} is not a relative file path")
    pure = PurePosixPath(rel)
    if (
        pure.is_absolute()
        or rel.startswith("~")
        or "\\" in rel
        or "\x00" in rel
        or any(part in ("..", "") for part in rel.split("/"))
    ):
        raise DatasetError(
            f"{root}: manifest {what} {rel!r} must be a plain relative path "
            "inside the dataset (no '..', no absolute paths)"
        )
    base = Path(root).resolve()
    path = (base / rel).resolve()
    if path != base and base not in path.parents:
        raise DatasetError(f"{root}: manifest {what} {rel!r} leads outside the dataset (to {path})")
    return base / rel
