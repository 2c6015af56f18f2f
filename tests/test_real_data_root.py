"""ARCDATA_TEST_DATA points the real-data tests at another folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, real_data_root


def test_default_is_shared_data_beside_the_repo():
    assert real_data_root({}) == REPO.parent / "shared" / "data"
    assert real_data_root({"ARCDATA_TEST_DATA": "  "}) == REPO.parent / "shared" / "data"


def test_variable_overrides_the_default(tmp_path):
    assert real_data_root({"ARCDATA_TEST_DATA": str(tmp_path)}) == tmp_path


def test_real_data_tests_follow_the_variable(tmp_path):
    """With the variable on an empty folder, a real-data test skips naming that folder."""
    env = {**os.environ, "ARCDATA_TEST_DATA": str(tmp_path), "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            "tests/sudoku/test_tokens.py",
            "tests/sources/test_sudoku_list.py",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert skipped, result.stdout
    assert all(str(Path(tmp_path)) in line for line in skipped), skipped
