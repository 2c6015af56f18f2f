"""report.html: self-contained, every number of metrics.json on it, and it renders in a browser."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
import torch

from arcdata.hrm.report import predict, rebuild, write_report
from arcdata.hrm.report_html import flatten
from arcdata.stream import PuzzleStream
from tests.browser import is_blank, open_page, require_chromium
from tests.conftest import small_config
from tests.hrm.test_report import Stub


@pytest.fixture(scope="module")
def dataset(arc_dirs, tmp_path_factory):
    from arcdata.builder.driver import build

    out = tmp_path_factory.mktemp("html") / "ds"
    build(small_config(arc_dirs, versions=3), out, workers=1, progress=False)
    return out


class _Refs(HTMLParser):
    """Every attribute that can load something, and the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.text: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.refs += [v or "" for k, v in attrs if k in ("src", "href", "srcset", "data")]

    def handle_data(self, data):
        self.text.append(data)


def _report(dataset, tmp_path, oracle):
    stream = PuzzleStream(str(dataset), "test", batch_size=4, mode="eval")
    preds = predict(Stub(oracle), stream, torch.device("cpu"), trace=0)
    out = tmp_path / "r"
    return write_report(dataset, "test", preds, out), out


def test_page_holds_every_number_and_fetches_nothing(dataset, tmp_path):
    metrics, out = _report(dataset, tmp_path, oracle=False)
    page = (out / "report.html").read_text()
    parser = _Refs()
    parser.feed(page)
    assert parser.refs and all(r.startswith("data:image/png;base64,") for r in parser.refs)
    outside = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert not re.search(r"(https?:)?//[a-z0-9]|url\(|@import", outside)
    assert "script" not in parser.tags and "link" not in parser.tags
    cells = set(" ".join(parser.text).split())
    leaves = flatten(json.loads((out / "metrics.json").read_text()))
    assert len(leaves) > 50
    for key, value in leaves:
        if isinstance(value, bool) or value is None:
            continue
        shown = f"{value:.6g}" if isinstance(value, float) else str(value)
        assert key in cells and shown in cells, (key, value)
    # The per-task table: both tasks, each with its example count.
    assert metrics["tasks"] == 2 and page.count("<h2>Per task (2)</h2>") == 1


def test_page_renders_in_chromium_and_report_rebuilds_it(dataset, tmp_path):
    require_chromium()
    _, out = _report(dataset, tmp_path, oracle=True)
    (out / "report.html").unlink()
    rebuild(out)
    page = open_page((out / "report.html").as_uri())
    assert not is_blank(page.screenshot)
    assert page.console_errors == []
    assert "Halting rules side by side" in page.dom and "pass@2" in page.dom
