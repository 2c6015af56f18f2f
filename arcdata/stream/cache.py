"""The stream's decoded cache: a private folder of checked, atomically published entries.

Decoding a split from Parquet costs seconds to minutes, so the stream keeps the decoded arrays
on disk (:mod:`arcdata.stream.store` decides what goes in an entry) and every later process maps
them. A cache that is trusted blindly turns into a way to feed a run wrong data, so:

* **Private.** The cache root (``$ARCDATA_STREAM_CACHE``, else ``<tmp>/arcdata-stream-<uid>``)
  is created ``0700``; a root owned by someone else or writable by group/others is refused with
  an error naming it, since whoever can write there decides what a training run reads.
* **Checked.** Each entry's ``meta.json`` records every file's size and CRC-32 (and its own
  CRC-32). Sizes are checked on every open; checksums once per process per entry (the stat
  signature of a verified entry is remembered, and handed to spawned workers), because a full
  pass costs about a second per GB. CRC-32 catches flipped bytes and truncation, the failures
  a private folder leaves; it is not meant to resist the folder's owner.
* **Self-healing.** A damaged, incomplete or missing entry is moved aside with a
  :class:`CacheWarning` and rebuilt; it is never served and never a lasting error.
* **Safe under concurrency.** Entries are written into a hidden temporary folder and renamed
  into place; builders of one entry serialise on a lock file, so several ranks or DataLoader
  workers opening a cold cache decode it once and then all map the same files. Replaced folders
  are renamed away before deletion, and a process that has the old files mapped keeps reading
  them (POSIX keeps unlinked, mapped files alive).
* **Cleanable.** :func:`list_entries` / :func:`clear` back ``arcdata cache list|clear``.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import re
import shutil
import stat
import tempfile
import time
import uuid
import warnings
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from arcdata import jsonio
from arcdata.errors import DatasetError

try:
    import fcntl
except ImportError:  # not POSIX: no lock; publishing by rename still keeps entries whole
    fcntl = None

CACHE_FORMAT = 4  # 4: encoded token rows and one field record per row
META = "meta.json"
TMP_PREFIX = ".tmp-"
TRASH_PREFIX = ".trash-"
LOCK_SUFFIX = ".lock"
STALE_TMP_S = 24 * 3600  # a writer's temporary folder this old belongs to a dead process
ENTRY_NAME = re.compile(r"^[0-9a-f]{32}-[A-Za-z0-9_-]+-v\d+$")

T = TypeVar("T")


class CacheWarning(UserWarning):
    """A cache entry was damaged or missing files and is being rebuilt."""


class UnsafeCacheError(DatasetError):
    """The cache root could be written by someone else; its contents cannot be trusted."""


class _Damaged(Exception):
    """An entry failed a check; the message says which file and how."""


# ----------------------------------------------------------------------------- the root


def default_root() -> Path:
    """``$ARCDATA_STREAM_CACHE``, else a per-user folder in the system temp directory."""
    env = os.environ.get("ARCDATA_STREAM_CACHE")
    if env:
        return Path(env).expanduser()
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"arcdata-stream-{uid}"


def private_root(cache_dir: str | os.PathLike | None = None, *, create: bool = True) -> Path:
    """The cache root, created ``0700`` when absent; refuses one another user could write."""
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_root()
    if create and not os.path.lexists(root):
        root.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # a concurrent opener made it: check below
            root.mkdir(mode=0o700)
            os.chmod(root, 0o700)  # whatever the umask
    check_private(root)
    return root


def check_private(root: Path) -> None:
    """Refuse a root that is not a folder owned by us and closed to group and others."""
    fix = "remove it, or set $ARCDATA_STREAM_CACHE to a folder only you can write (chmod 700)"
    uid = os.getuid() if hasattr(os, "getuid") else None
    try:
        link = os.lstat(root)
    except FileNotFoundError:
        return  # nothing there yet (only when not creating): nothing to trust or refuse
    if stat.S_ISLNK(link.st_mode) and uid is not None and link.st_uid != uid:
        raise UnsafeCacheError(
            f"stream cache folder {root} is a symlink owned by uid {link.st_uid}, not you "
            f"(uid {uid}); {fix}"
        )
    try:
        st = os.stat(root)
    except FileNotFoundError:
        raise UnsafeCacheError(f"stream cache folder {root} is a broken symlink; {fix}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeCacheError(f"stream cache folder {root} is not a folder; {fix}")
    if uid is not None and st.st_uid != uid:
        raise UnsafeCacheError(
            f"stream cache folder {root} is owned by uid {st.st_uid}, not you (uid {uid}); "
            f"its files could be planted; {fix}"
        )
    if st.st_mode & 0o022:
        raise UnsafeCacheError(
            f"stream cache folder {root} is writable by group or others "
            f"(mode {stat.S_IMODE(st.st_mode):o}); {fix}"
        )


def entry_name(fingerprint: str, split: str) -> str:
    """One entry per (manifest sha256, split, format)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in split)
    return f"{fingerprint[:32]}-{safe}-v{CACHE_FORMAT}"


# ----------------------------------------------------------------------------- checksums


def file_crc32(path: Path) -> int:
    """CRC-32 of a file through a read-only map (zlib releases the GIL: files run in parallel)."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return 0
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return zlib.crc32(mm)


def _crc_all(folder: Path, names: list[str]) -> dict[str, int]:
    with ThreadPoolExecutor(max_workers=max(1, min(len(names), os.cpu_count() or 1, 8))) as pool:
        return dict(zip(names, pool.map(lambda n: file_crc32(folder / n), names), strict=True))


def _meta_crc(meta: dict) -> int:
    body = {k: v for k, v in meta.items() if k != "crc32"}
    return zlib.crc32(json.dumps(body, sort_keys=True).encode())


# ----------------------------------------------------------------------------- checking entries

_VERIFIED: dict[str, tuple] = {}
"""Folder -> stat signature of the files whose checksums this process has verified."""


def _signature(folder: Path, names: list[str]) -> tuple:
    out = []
    for name in [META, *names]:
        st = os.stat(folder / name)
        out.append((name, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(out)


def trusted() -> dict[str, tuple]:
    """What this process verified, for a spawned worker to trust (see :func:`trust`)."""
    return dict(_VERIFIED)


def trust(signatures: dict[str, tuple]) -> None:
    """Accept another process's verification; it holds only while the files' inode, size and
    mtime are the ones that process verified."""
    for folder, sig in signatures.items():
        _VERIFIED.setdefault(folder, sig)


def read_meta(folder: Path) -> dict:
    """The entry's meta.json, if whole and self-consistent; :class:`_Damaged` otherwise."""
    try:
        meta = json.loads((folder / META).read_text())
    except FileNotFoundError:
        raise _Damaged(f"{META} is missing (an interrupted write?)") from None
    except (OSError, ValueError) as e:
        raise _Damaged(f"{META} is unreadable ({e})") from None
    if not isinstance(meta, dict) or meta.get("crc32") != _meta_crc(meta):
        raise _Damaged(f"{META} does not match its checksum")
    return meta


def check_entry(
    folder: Path, key: EntryKey | None, expect: tuple[str, ...] = (), *, full: bool = False
) -> dict:
    """The entry's meta after checking it holds ``key`` (any, if None), every file's size, and
    (once per process, or always with ``full``) its CRC-32. Raises :class:`_Damaged` naming the
    first bad file."""
    meta = read_meta(folder)
    if meta.get("format") != CACHE_FORMAT:
        raise _Damaged(f"format {meta.get('format')!r}, expected {CACHE_FORMAT}")
    if key is not None and (meta.get("fingerprint"), meta.get("split")) != (
        key.fingerprint,
        key.split,
    ):
        raise _Damaged(f"written for another manifest or split ({meta.get('split')!r})")
    files = meta.get("files")
    if not isinstance(files, dict):
        raise _Damaged(f"{META} lists no files")
    unlisted = [n for n in expect if n not in files]
    if unlisted:
        raise _Damaged(f"{META} does not list {unlisted[0]}")
    names = sorted(files)
    for name in names:
        path = folder / name
        try:
            size = os.stat(path).st_size
        except FileNotFoundError:
            raise _Damaged(f"{name} is missing") from None
        if size != files[name]["bytes"]:
            raise _Damaged(f"{name} is {size} bytes, {META} says {files[name]['bytes']}")
    sig = _signature(folder, names)
    if full or _VERIFIED.get(str(folder)) != sig:
        for name, crc in _crc_all(folder, names).items():
            if crc != files[name]["crc32"]:
                raise _Damaged(f"{name} does not match its checksum (flipped or rewritten bytes)")
        _VERIFIED[str(folder)] = sig
    return meta


# ----------------------------------------------------------------------------- opening entries


@dataclass(frozen=True)
class EntryKey:
    """What an entry holds: one split of the dataset whose manifest has this sha256."""

    fingerprint: str
    split: str
    dataset: str  # where it was read from (shown by ``cache list``)

    @property
    def name(self) -> str:
        return entry_name(self.fingerprint, self.split)


def open_entry(
    root: Path,
    key: EntryKey,
    write: Callable[[Path], dict],
    load: Callable[[Path, dict], T],
    expect: tuple[str, ...] = (),
) -> T:
    """``load(folder, meta)`` of a checked entry, writing it first when absent or damaged.

    ``write(tmp)`` fills a fresh temporary folder and returns extra meta (JSON); its files'
    sizes and checksums are recorded here. ``expect`` names files that must be listed. A
    ``load`` that fails with OSError, ValueError or KeyError marks the entry damaged too.
    """
    folder = root / key.name
    for _ in range(3):
        found, value, _problem = _try_open(folder, key, load, expect)
        if found:
            return value
        with _lock(root / (key.name + LOCK_SUFFIX)):
            # Checked again under the lock: another process may have (re)built it meanwhile.
            found, value, problem = _try_open(folder, key, load, expect)
            if found:
                return value
            if problem is not None:
                warnings.warn(
                    f"stream cache {folder}: {problem}; rebuilding it", CacheWarning, stacklevel=2
                )
                discard(folder)
            _write_entry(root, folder, key, write)
    raise DatasetError(f"{folder}: stream cache entry keeps failing its checks; remove it")


def _try_open(folder: Path, key: EntryKey, load, expect) -> tuple[bool, object, str | None]:
    """(True, loaded value, None), or (False, None, what is wrong) with None when absent."""
    if not os.path.lexists(folder):
        return False, None, None
    try:
        return True, load(folder, check_entry(folder, key, expect)), None
    except _Damaged as e:
        return False, None, str(e)
    except (OSError, ValueError, KeyError) as e:
        return False, None, f"unreadable ({e!r})"


def _write_entry(root: Path, folder: Path, key: EntryKey, write: Callable[[Path], dict]) -> None:
    """Write the entry into a temporary folder, seal it and rename it into place."""
    _sweep(root)
    tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + key.name + "-", dir=root))
    try:
        names = _seal(tmp, key, write(tmp))
        try:
            os.rename(tmp, folder)  # atomic; fails only if a writer without the lock won
        except OSError:
            if not os.path.lexists(folder):
                raise
            return  # theirs is as good as ours; it gets checked on load
        _VERIFIED[str(folder)] = _signature(folder, names)  # we just computed its checksums
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _seal(tmp: Path, key: EntryKey, extra: dict) -> list[str]:
    """Record every file's size and CRC-32 in meta.json, written last; returns the names."""
    names = sorted(p.name for p in tmp.iterdir() if p.is_file() and p.name != META)
    crcs = _crc_all(tmp, names)
    meta = {
        "format": CACHE_FORMAT,
        "fingerprint": key.fingerprint,
        "split": key.split,
        "dataset": key.dataset,
        "created": time.time(),
        **extra,
        "files": {n: {"bytes": (tmp / n).stat().st_size, "crc32": crcs[n]} for n in names},
    }
    meta["crc32"] = _meta_crc(meta)
    (tmp / META).write_text(jsonio.dumps(meta))
    return names


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """Serialise the writers of one entry, so a cold cache is decoded once, not once per rank."""
    if fcntl is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        with contextlib.suppress(OSError):  # no locks on this filesystem (some NFS): go on
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def discard(folder: Path) -> None:
    """Rename ``folder`` away (atomic: no opener sees half of it), then delete it."""
    trash = folder.parent / f"{TRASH_PREFIX}{folder.name}-{uuid.uuid4().hex[:8]}"
    try:
        os.rename(folder, trash)
    except FileNotFoundError:
        return  # someone else discarded it first
    shutil.rmtree(trash, ignore_errors=True)


def _sweep(root: Path) -> None:
    """Delete what dead processes left: trash folders, and temporary folders a day old."""
    now = time.time()
    for path in root.iterdir():
        if path.name.startswith(TRASH_PREFIX) or (
            path.name.startswith(TMP_PREFIX) and now - _mtime(path) > STALE_TMP_S
        ):
            shutil.rmtree(path, ignore_errors=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


# ----------------------------------------------------------------------------- list and clear


@dataclass
class EntryInfo:
    """One cache entry as ``arcdata cache list`` shows it."""

    name: str
    split: str
    dataset: str
    rows: int | None
    bytes: int
    created: float | None
    status: str  # "ok", or what is wrong with it


def _ours(name: str) -> bool:
    """Names arcdata writes in a cache root (the root may be a folder shared with other use)."""
    stem = name.removesuffix(LOCK_SUFFIX)
    return bool(
        ENTRY_NAME.match(stem) or name.startswith(TMP_PREFIX) or name.startswith(TRASH_PREFIX)
    )


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def list_entries(root: Path, *, full: bool = False) -> list[EntryInfo]:
    """Entries under ``root`` with their status (sizes checked; checksums too with ``full``)."""
    if not root.is_dir():
        return []
    return [
        _describe(path, full)
        for path in sorted(root.iterdir())
        if path.is_dir() and ENTRY_NAME.match(path.name)
    ]


def _describe(path: Path, full: bool) -> EntryInfo:
    try:
        meta = check_entry(path, None, full=full)
        status = "ok"
    except _Damaged as e:
        try:  # shown as found, unverified
            meta = json.loads((path / META).read_text())
        except (OSError, ValueError):
            meta = {}
        meta = meta if isinstance(meta, dict) else {}
        status = f"damaged: {e}"
        if meta and meta.get("format") != CACHE_FORMAT:
            status = f"old format {meta.get('format')!r}, unused (clear removes it)"
    return EntryInfo(
        name=path.name,
        split=str(meta.get("split", "?")),
        dataset=str(meta.get("dataset", "?")),
        rows=meta.get("rows"),
        bytes=_folder_bytes(path),
        created=meta.get("created"),
        status=status,
    )


def clear(root: Path) -> tuple[int, int]:
    """Delete every entry, temporary folder and lock arcdata wrote under ``root``; other files
    are left alone. Returns (entries removed, bytes freed). A run that has an entry mapped
    keeps reading it; its next open rebuilds."""
    entries = freed = 0
    if not root.is_dir():
        return entries, freed
    for path in sorted(root.iterdir()):
        if not _ours(path.name):
            continue
        if path.is_dir() and not path.is_symlink():
            freed += _folder_bytes(path)
            entries += bool(ENTRY_NAME.match(path.name))
            discard(path)
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    _VERIFIED.clear()
    return entries, freed
