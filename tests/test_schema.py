"""The documented schemas equal the real ones, and each JSON Schema exists exactly once."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pyarrow as pa
import pytest

from arcdata.schema import IDENTIFIER_SCHEMA, ROW_SCHEMA

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "schemas" / "README.md"
PACKAGE_SCHEMAS = REPO / "arcdata" / "schema_files"


def documented_tables(text: str) -> list[list[tuple[str, str, bool]]]:
    """Each markdown column table as (column, arrow type, nullable) rows, in order; a row naming
    several columns (`` `a`, `b` ``) stands for each of them."""
    tables, current = [], None
    for line in text.splitlines():
        if not line.startswith("|"):
            current = None
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] == "column":
            current = []
            tables.append(current)
            continue
        if current is None or set(cells[0]) <= {"-"}:
            continue
        kind, *flags = [part.strip() for part in cells[1].split(",")]
        for name in re.findall(r"`([^`]+)`", cells[0]):
            current.append((name, kind, "nullable" in flags))
    return tables


def arrow_rows(schema: pa.Schema) -> list[tuple[str, str, bool]]:
    return [(f.name, str(f.type), f.nullable) for f in schema]


def test_docs_column_tables_equal_the_arrow_schemas():
    rows, identifiers = documented_tables(DOCS.read_text())
    assert rows == arrow_rows(ROW_SCHEMA)
    assert identifiers == arrow_rows(IDENTIFIER_SCHEMA)


def test_table_parser_sees_a_drift():
    text = DOCS.read_text().replace("| `pair_index` | int16 |", "| `pair_index` | int32 |", 1)
    assert documented_tables(text)[0] != arrow_rows(ROW_SCHEMA)


def tracked_files() -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [REPO / p for p in out.decode().split("\0") if p]


def test_each_json_schema_exists_once_as_package_data():
    schemas = [p for p in tracked_files() if p.name.endswith(".schema.json")]
    names = [p.name for p in schemas]
    assert sorted(names) == sorted(set(names)), f"a JSON Schema is copied: {sorted(names)}"
    assert {p.parent for p in schemas} == {PACKAGE_SCHEMAS}
    assert not any(p.is_symlink() for p in schemas + [PACKAGE_SCHEMAS])
    for path in schemas:
        json.loads(path.read_text())
    assert '"schema_files/*.json"' in (REPO / "pyproject.toml").read_text()  # package data


def test_readme_links_every_json_schema():
    readme = (REPO / "README.md").read_text() + DOCS.read_text()
    for path in PACKAGE_SCHEMAS.glob("*.schema.json"):
        assert f"arcdata/schema_files/{path.name}" in readme
