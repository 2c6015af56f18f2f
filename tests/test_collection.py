"""Every test file is collected by the README's test command.

pytest silently skips folders whose names match its ``norecursedirs`` (``build``, ``dist``,
``venv``, ...), so a whole folder of tests can stop running without anyone noticing. This runs
the README's command in collect-only mode and compares what it collected with what is on disk.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_every_test_file_is_collected():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    collected = {line.split("::", 1)[0] for line in result.stdout.splitlines() if "::" in line}
    on_disk = {p.relative_to(REPO).as_posix() for p in (REPO / "tests").rglob("test_*.py")}
    missing = sorted(on_disk - collected)
    assert not missing, f"test files the README's test command never collects: {missing}"
