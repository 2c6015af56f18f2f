"""Progress: a bar on a terminal, periodic plain lines (no carriage returns) in a log file."""

from __future__ import annotations

import io

from tqdm import tqdm

from arcdata.progress import PlainProgress, progress


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_come_every_interval_and_at_the_end():
    out, clock = io.StringIO(), Clock()
    bar = PlainProgress(100, "training", "step", file=out, interval=10, clock=clock)
    for _ in range(50):
        clock.now += 0.5
        bar.update(1)
    bar.set_postfix(loss="0.5")
    for _ in range(50):
        clock.now += 0.5
        bar.update(1)
    bar.write("step 100: accuracy 1.0")
    bar.close()
    text = out.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    progress_lines = [line for line in lines if line.startswith("training:")]
    assert len(progress_lines) == 5  # at 10 s, 20 s, ... 50 s of work (last at 100/100)
    assert progress_lines[0].startswith("training: 20/100 step (20%), 0:10 elapsed, 2.00 step/s")
    assert "0:40 left" in progress_lines[0]
    assert progress_lines[-1].startswith("training: 100/100 step (100%)")
    assert progress_lines[-1].endswith("loss=0.5")
    assert "step 100: accuracy 1.0" in lines


def test_short_work_stays_silent_and_close_adds_a_last_line_after_long_work():
    out, clock = io.StringIO(), Clock()
    with PlainProgress(3, "quick", file=out, interval=10, clock=clock) as bar:
        bar.update(3)
    assert out.getvalue() == ""
    bar = PlainProgress(None, "long", "unit", file=out, interval=10, clock=clock)
    clock.now = 11
    bar.update(1)
    bar.update(2)
    bar.close()
    assert out.getvalue().splitlines()[-1].startswith("long: 3 unit, 0:11 elapsed")


def test_disabled_progress_prints_nothing():
    out = io.StringIO()
    bar = progress(10, "x", file=out, enabled=False, interval=0)
    bar.update(5)
    bar.close()
    assert out.getvalue() == ""


def test_a_terminal_gets_a_bar_and_a_file_gets_plain_lines(monkeypatch):
    assert isinstance(progress(10, "x", file=Terminal()), tqdm)
    assert isinstance(progress(10, "x", file=io.StringIO()), PlainProgress)
    assert isinstance(progress(10, "x", file=io.StringIO(), terminal=True), tqdm)
    monkeypatch.setenv("ARCDATA_PROGRESS_INTERVAL", "7")
    assert progress(10, "x", file=io.StringIO()).interval == 7.0
