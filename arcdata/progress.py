"""Progress for long commands: a tqdm bar on a terminal, plain periodic lines everywhere else.

A bar redraws itself with carriage returns, which turn a log file (``arcdata train ... > log``,
a batch job, CI) into one unreadable line. When the stream is not a terminal we write a short
line every ``interval`` seconds instead (and one at the end), which ``grep`` and ``tail``
read well. Every command that reports progress (build, verify, train, generated sources) gets
its reporter from :func:`progress`.
"""

from __future__ import annotations

import os
import sys
import time
from typing import IO, Any

INTERVAL_ENV = "ARCDATA_PROGRESS_INTERVAL"
DEFAULT_INTERVAL = 30.0


def progress(
    total: int | None,
    desc: str,
    unit: str = "it",
    *,
    enabled: bool = True,
    initial: int = 0,
    file: IO[str] | None = None,
    interval: float | None = None,
    leave: bool = False,
    terminal: bool | None = None,
    **bar_options: Any,
):
    """A tqdm bar when ``file`` (default stderr) is a terminal, else a :class:`PlainProgress`.

    ``interval`` (seconds between plain lines) defaults to $ARCDATA_PROGRESS_INTERVAL or 30.
    ``terminal`` overrides the detection. ``bar_options`` go to tqdm only (e.g. ``unit_scale``).
    """
    file = file if file is not None else sys.stderr
    if terminal is None:
        terminal = _is_terminal(file)
    if enabled and terminal:
        from tqdm import tqdm

        return tqdm(
            total=total,
            desc=desc,
            unit=unit,
            initial=initial,
            file=file,
            leave=leave,
            dynamic_ncols=True,
            **bar_options,
        )
    return PlainProgress(
        total, desc, unit, enabled=enabled, initial=initial, file=file, interval=interval
    )


def _is_terminal(file: IO[str]) -> bool:
    try:
        return file.isatty()
    except (AttributeError, ValueError):
        return False


def _interval(value: float | None) -> float:
    if value is not None:
        return value
    try:
        return float(os.environ.get(INTERVAL_ENV, DEFAULT_INTERVAL))
    except ValueError:
        return DEFAULT_INTERVAL


class PlainProgress:
    """The subset of tqdm's interface arcdata uses, printing ``desc: n/total unit ...`` lines.

    Lines come at most every ``interval`` seconds; work that took longer than that gets a last
    line on :meth:`close`, work that did not stays silent. No carriage returns, no terminal codes.
    """

    def __init__(
        self,
        total: int | None,
        desc: str,
        unit: str = "it",
        *,
        enabled: bool = True,
        initial: int = 0,
        file: IO[str] | None = None,
        interval: float | None = None,
        clock=time.monotonic,
    ) -> None:
        self.total, self.desc, self.unit = total, desc, unit
        self.n = initial
        self.disable = not enabled
        self.file = file if file is not None else sys.stderr
        self.interval = _interval(interval)
        self._clock = clock
        self._start = clock()
        self._start_n = initial
        self._last_line = self._start
        self._printed_n = initial
        self._postfix = ""
        self._lines = 0

    def update(self, n: int = 1) -> None:
        self.n += n
        if not self.disable and self._clock() - self._last_line >= self.interval:
            self._line()

    def set_postfix(self, refresh: bool = True, **values: Any) -> None:
        self._postfix = ", ".join(f"{k}={v}" for k, v in values.items())

    def set_postfix_str(self, text: str = "", refresh: bool = True) -> None:
        self._postfix = text

    def write(self, text: str) -> None:
        """Print a message line (always, like tqdm's ``write``)."""
        print(text, file=self.file, flush=True)

    def close(self) -> None:
        if not self.disable and self._lines and self.n != self._printed_n:
            self._line()
        self.disable = True

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _line(self) -> None:
        now = self._clock()
        elapsed = now - self._start
        done = f"{self.n:,}/{self.total:,}" if self.total else f"{self.n:,}"
        parts = [f"{self.desc}: {done} {self.unit}"]
        if self.total:
            parts[0] += f" ({100 * self.n / self.total:.0f}%)"
        parts.append(f"{_clock_text(elapsed)} elapsed")
        rate = (self.n - self._start_n) / elapsed if elapsed > 0 else 0.0
        if rate > 0:
            parts.append(f"{rate:,.2f} {self.unit}/s")
            if self.total and self.n < self.total:
                parts.append(f"{_clock_text((self.total - self.n) / rate)} left")
        if self._postfix:
            parts.append(self._postfix)
        print(", ".join(parts), file=self.file, flush=True)
        self._last_line, self._printed_n = now, self.n
        self._lines += 1


def _clock_text(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
