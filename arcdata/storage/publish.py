"""Publishing a folder: how every writer (build, export, import) puts its output at ``--out``.

The promise: a writer never deletes anything arcdata did not write, and at no instant a kill
can hit is the destination without a dataset (the previous one or the new one).

How:

* The output is written into a hidden sibling ``.<name>.partial`` and made durable (every file
  and folder fsynced) before it is published.
* One advisory lock, ``.<name>.lock`` beside the destination, is held from before the first
  check until after the final rename, so two writers of one destination cannot interleave.
* Replacing swaps the two folders in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``),
  then deletes the previous dataset under the hidden name. Where the filesystem cannot exchange,
  the previous dataset is first renamed to ``.<name>.old``; a kill between that and the second
  rename is undone by :func:`recover`, which every writer and reader runs first.
* ``overwrite`` replaces only what a recogniser accepts as this writer's own output: an arcdata
  dataset is recognised by its manifest's format and schema and by holding no file its manifest
  does not name. Anything else is refused, naming what is foreign.

Tests inject a kill at every step through :data:`STEP_HOOK`.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from arcdata.errors import DatasetError
from arcdata.storage.card import CARD
from arcdata.storage.manifest import FORMAT, MANIFEST, schema_problems

Recogniser = Callable[[Path], "str | None"]
"""Says why a non-empty folder is *not* a writer's own output (None: it is, it may be replaced)."""

STEP_HOOK: Callable[[str], None] | None = None
"""Called with each step's name just before the step; tests use it to kill a publish there."""

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def staging_path(out: Path) -> Path:
    return out.parent / f".{out.name}.partial"


def lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.lock"


def old_path(out: Path) -> Path:
    return out.parent / f".{out.name}.old"


def destination(out: str | os.PathLike) -> Path:
    """``out`` made absolute without following a symlink at ``out`` itself (that is refused)."""
    out = Path(out).expanduser()
    return out.parent.resolve() / out.name


# ----------------------------------------------------------------------------- recognising


def foreign_entry(root: Path, expected: set[str]) -> str | None:
    """The first file or link under ``root`` that is not one of ``expected`` (relative paths)."""
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        for name in sorted(dirs + files):
            path = here / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                return f"{rel} is a symbolic link"
            if name in files and rel not in expected:
                return f"{rel} is not named by its manifest"
    return None


def arcdata_dataset_problem(root: Path) -> str | None:
    """None for a dataset arcdata wrote; otherwise why ``root`` is not one."""
    path = root / MANIFEST
    if path.is_symlink() or not path.is_file():
        held = sorted(p.name for p in root.iterdir())
        return f"no manifest.json; it holds {', '.join(held[:3])}" + (", ..." if held[3:] else "")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return "manifest.json is not JSON"
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        return f"manifest.json has format {found!r}, not {FORMAT!r}"
    problems = schema_problems(manifest, limit=1)
    if problems:
        return f"manifest.json does not follow the arcdata schema ({problems[0]})"
    expected = {MANIFEST, CARD, "build.json", str(manifest["embedding_ids"].get("file"))}
    for split in manifest["splits"].values():
        expected.update(str(e["path"]) for e in split["shards"])
    return foreign_entry(root, expected)


def check_destination(
    out: Path,
    overwrite: bool,
    recognise: Recogniser = arcdata_dataset_problem,
    what: str = "an arcdata dataset",
    empty_ok: bool = True,
) -> None:
    """Refuse to replace a previous output without ``overwrite``, and anything else at all.

    ``--overwrite --out ~/work`` must not delete a home folder: only nothing, an empty folder,
    or a folder ``recognise`` accepts may be replaced. ``empty_ok=False`` asks for
    ``overwrite`` before using even an empty folder.
    """
    if not os.path.lexists(out):
        return
    if out.is_symlink() or not out.is_dir():
        raise DatasetError(f"{out} exists and is not a folder; not replacing it")
    if not any(out.iterdir()):
        if not empty_ok and not overwrite:
            raise DatasetError(f"{out} already exists; pass --overwrite to replace it")
        return
    problem = recognise(out)
    if problem is not None:
        raise DatasetError(
            f"{out} already exists and is not {what} ({problem}); not replacing it, "
            "choose another --out"
        )
    if not overwrite:
        raise DatasetError(f"{out} already exists; pass --overwrite to replace it")


# ----------------------------------------------------------------------------- primitives


def _step(name: str) -> None:
    if STEP_HOOK is not None:
        STEP_HOOK(name)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_tree(root: Path) -> None:
    """fsync every file, then every folder bottom-up, so a crash after publishing loses nothing."""
    for folder, _, files in os.walk(root, topdown=False):
        for name in files:
            path = Path(folder) / name
            if path.is_symlink():
                continue
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(folder))


def _renameat2():
    """libc's renameat2, or None where there is none (not Linux, or glibc before 2.28)."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step; False where the filesystem cannot."""
    fn = _renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()


# ----------------------------------------------------------------------------- lock, recover


def _try_lock(out: Path) -> int | None:
    """An fd holding the destination's lock, or None when another process holds it.

    The holder unlinks the lock file as it lets go, so a file opened just before that may no
    longer be the one at the path: lock, then check it still is, else start over.
    """
    path = lock_path(out)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


def _unlock(out: Path, fd: int) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(lock_path(out))
    os.close(fd)


@contextlib.contextmanager
def hold_lock(out: Path) -> Iterator[Path]:
    """Hold the destination's lock; the kernel drops it if the process dies, so a killed
    writer never blocks the next command."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = _try_lock(out)
    if fd is None:
        raise DatasetError(
            f"another arcdata command is writing {out} (lock {lock_path(out)} is held); "
            "wait for it or stop it"
        )
    try:
        yield lock_path(out)
    finally:
        _unlock(out, fd)


def recover(out: Path, *, locked: bool = False) -> None:
    """Finish what a publish killed between its two fallback renames left behind.

    ``.<name>.old`` without ``<name>``: the previous dataset was moved aside and the new one
    never arrived; put the previous one back. Both present: the swap completed; drop the old.
    Without the lock (a reader) this does nothing while a writer holds it.
    """
    old = old_path(out)
    if not os.path.lexists(old):
        return
    fd = None
    if not locked:
        try:
            fd = _try_lock(out)
        except OSError:  # a reader without write access to the parent: leave it be
            return
        if fd is None:
            return
    try:
        if not os.path.lexists(old):
            return
        if not os.path.lexists(out):
            os.rename(old, out)
            fsync_dir(out.parent)
        else:
            remove(old)
    finally:
        if fd is not None:
            _unlock(out, fd)


# ----------------------------------------------------------------------------- publishing


@dataclass
class Stage:
    """A hidden sibling of ``out`` being filled, published by :meth:`publish` under the lock."""

    out: Path
    path: Path
    overwrite: bool
    recognise: Recogniser
    what: str
    empty_ok: bool = True
    published: bool = False

    def publish(self) -> None:
        out, parent = self.out, self.out.parent
        _step("sync")
        sync_tree(self.path)
        _step("check")
        check_destination(out, self.overwrite, self.recognise, self.what, self.empty_ok)
        if not os.path.lexists(out) or not any(out.iterdir()):
            _step("rename")
            os.rename(self.path, out)  # onto nothing, or onto an empty folder
            _step("sync-parent")
            fsync_dir(parent)
        elif exchange(self.path, out):
            _step("sync-parent")
            fsync_dir(parent)
            _step("remove-previous")
            remove(self.path)  # the previous dataset, now under the hidden name
        else:
            old = old_path(out)
            _step("move-previous")
            os.rename(out, old)
            _step("rename")
            os.rename(self.path, out)
            _step("sync-parent")
            fsync_dir(parent)
            _step("remove-previous")
            remove(old)
        self.published = True
        _step("published")


@contextlib.contextmanager
def staged(
    out: str | os.PathLike,
    *,
    overwrite: bool = False,
    recognise: Recogniser = arcdata_dataset_problem,
    what: str = "an arcdata dataset",
    empty_ok: bool = True,
    fresh: bool = True,
    keep_on_error: bool = False,
) -> Iterator[Stage]:
    """Lock ``out``, recover a killed publish, check it may be written, yield the stage folder.

    Leaving the block normally publishes (unless the caller already did). ``fresh`` empties a
    stage left by an earlier run; a builder that resumes passes False and keeps what it wants.
    On an error the stage is removed unless ``keep_on_error`` (a build keeps it for --resume).
    ``recognise``, ``what`` and ``empty_ok`` are :func:`check_destination`'s.
    """
    out = destination(out)
    check_destination(out, overwrite, recognise, what, empty_ok)  # cheap early refusal
    with hold_lock(out):
        recover(out, locked=True)
        check_destination(out, overwrite, recognise, what, empty_ok)
        stage = Stage(out, staging_path(out), overwrite, recognise, what, empty_ok)
        if fresh:
            remove(stage.path)
        if os.path.lexists(stage.path) and (stage.path.is_symlink() or not stage.path.is_dir()):
            remove(stage.path)
        stage.path.mkdir(exist_ok=True)
        try:
            yield stage
            if not stage.published:
                stage.publish()
        except BaseException:
            if not keep_on_error and not stage.published:
                remove(stage.path)
            raise
