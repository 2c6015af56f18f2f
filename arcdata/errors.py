"""Typed errors: every failure a user can cause names where it happened (file, task, pair, field).

A training run fed silently wrong data wastes days, so readers raise these instead of letting a
raw ``KeyError`` or ``ValueError`` escape from deep inside numpy or json.
"""

from __future__ import annotations

import errno

USER_ERROR = 2
"""Exit status of every error a user can fix (bad input, config, paths, a full disk)."""
INTERRUPTED = 130
"""Exit status after Ctrl-C (128 + SIGINT, what shells report)."""


class ArcdataError(Exception):
    """Base class of all errors arcdata raises on purpose."""


class InputError(ArcdataError):
    """Raw input (a task file, a CSV line, a puzzle list) is malformed or out of range."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        task: str | None = None,
        pair: str | None = None,
        field: str | None = None,
        line: int | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.task = task
        self.pair = pair
        self.field = field
        self.line = line
        super().__init__(self.describe())

    def where(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(f"{self.file}" + (f":{self.line}" if self.line is not None else ""))
        if self.task is not None:
            parts.append(f"task {self.task}")
        if self.pair is not None:
            parts.append(f"pair {self.pair}")
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        return ", ".join(parts)

    def describe(self) -> str:
        where = self.where()
        return f"{where}: {self.message}" if where else self.message

    def as_record(self) -> dict:
        """A JSON-ready description for the manifest's rejects report."""
        return {
            "file": self.file,
            "line": self.line,
            "task": self.task,
            "pair": self.pair,
            "field": self.field,
            "reason": self.message,
        }


class ConfigError(ArcdataError):
    """A pipeline file or override is invalid; the message names the key."""


class DatasetError(ArcdataError):
    """A built dataset is missing, damaged or does not match what was asked for."""


def one_line(message: str) -> str:
    """A possibly multi-line message on one line: a line ending in ':' runs into the next, other
    lines are joined by '; ' (lists of keys, workers or problems stay readable)."""
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    out = ""
    for line in lines:
        out += line if not out else (" " if out.endswith(":") else "; ") + line
    return out


_OS_HINTS = {
    errno.ENOSPC: "no space left on the device (disk full)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EROFS: "the filesystem is read-only",
}


def describe_os_error(e: OSError) -> str:
    """``OSError`` as what went wrong and on which file, without the traceback."""
    what = _OS_HINTS.get(e.errno) or e.strerror or str(e)
    where = " -> ".join(str(f) for f in (e.filename, e.filename2) if f is not None)
    return f"{where}: {what}" if where else what
