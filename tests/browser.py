"""Open a page in headless Chromium (the distribution's ``chromium``): its screenshot, its DOM
after the scripts ran, and its console errors. Shared by every test of an HTML output; tests
call `require_chromium()` so the suite still passes (skipping them) where it is not installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

NAMES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run"]
CONSOLE_ERROR = re.compile(r"CONSOLE.*(Uncaught|Error)|Uncaught \w*Error", re.IGNORECASE)


def chromium() -> str | None:
    return next((p for p in map(shutil.which, NAMES) if p), None)


def require_chromium() -> str:
    path = chromium()
    if path is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does it)")
    return path


@dataclass
class Page:
    screenshot: np.ndarray  # RGB [H, W, 3] uint8
    dom: str
    console_errors: list[str]


def _run(args: list[str], timeout: float = 90) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [require_chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def open_page(url: str, size: tuple[int, int] = (1200, 900)) -> Page:
    """Load `url` twice: once for a screenshot (with the console on stderr), once for the DOM."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        shot = Path(tmp) / "shot.png"
        res = _run(
            [
                f"--screenshot={shot}",
                f"--window-size={size[0]},{size[1]}",
                "--enable-logging=stderr",
                "--v=0",
                url,
            ]
        )
        if not shot.exists():
            raise AssertionError(f"chromium wrote no screenshot: {res.stderr[-2000:]}")
        image = np.asarray(Image.open(shot).convert("RGB")).copy()
    errors = [line for line in res.stderr.splitlines() if CONSOLE_ERROR.search(line)]
    dom = _run(["--dump-dom", url]).stdout
    return Page(image, dom, errors)


def is_blank(image: np.ndarray) -> bool:
    """Nothing drawn: (almost) one colour everywhere."""
    return float(image.astype(np.float32).std(axis=(0, 1)).max()) < 2.0
