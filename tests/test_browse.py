"""``arcdata browse``: one self-contained page that shows a built dataset, checked in Chromium."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from arcdata.browse import collect, write_site
from arcdata.cli import main
from tests.browser import is_blank, open_page
from tests.conftest import EVAL_TASKS, TRAIN_TASKS


@pytest.fixture(scope="module")
def site(strict_arc, tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    res = CliRunner().invoke(main, ["browse", str(strict_arc), "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out / "index.html"


def embedded(page) -> dict:
    text = page.read_text()
    raw = re.search(r'<script id="data" type="application/json">(.*?)</script>', text, re.S)
    return json.loads(raw.group(1).replace("<\\/", "</"))


def test_page_is_self_contained(site):
    text = site.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)  # nothing to fetch
    data = embedded(site)
    assert sorted(data["tasks"]) == sorted(TRAIN_TASKS + EVAL_TASKS)
    versions = data["tasks"][TRAIN_TASKS[0]]
    assert sorted(versions) == ["0", "1", "2"]
    pair = versions["0"]["pairs"][0]
    assert {"split", "role", "pair", "id", "in", "out"} <= set(pair)
    assert "dihedral" in versions["1"]["transform"]


def test_versions_and_tasks_are_capped(strict_arc, tmp_path):
    data = collect(strict_arc, versions=1, max_tasks=2)
    assert len(data["tasks"]) == 2 and data["total_tasks"] == 7
    assert all(list(v) == ["0"] for v in data["tasks"].values())
    small = write_site(strict_arc, tmp_path / "a", versions=1).stat().st_size
    assert small < write_site(strict_arc, tmp_path / "b", versions=3).stat().st_size


def test_page_draws_without_console_errors(site):
    page = open_page(site.as_uri() + f"#task={TRAIN_TASKS[0]}")
    assert not is_blank(page.screenshot)
    assert page.console_errors == []
    assert f"task {TRAIN_TASKS[0]}" in page.dom
    assert page.dom.count("<canvas") >= 2 * 3  # pairs of three versions drawn


def test_search_filters_the_task_list(site):
    page = open_page(site.as_uri() + "#q=0d3")
    items = re.findall(r"<li[^>]*>([^<]*)</li>", page.dom)
    assert items == ["0d3d703e"] and "1 of 7 tasks" in page.dom
    assert page.console_errors == []
    page = open_page(site.as_uri() + "#q=00")
    items = re.findall(r"<li[^>]*>([^<]*)</li>", page.dom)
    assert items == sorted(t for t in TRAIN_TASKS + EVAL_TASKS if "00" in t)


def test_the_browser_check_sees_errors_and_blank_pages(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>missing.call()</script></body></html>")
    page = open_page(bad.as_uri())
    assert is_blank(page.screenshot)
    assert len(page.console_errors) == 1 and "ReferenceError" in page.console_errors[0]
