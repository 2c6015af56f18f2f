"""Reading, writing and schema-checking a manifest."""

from __future__ import annotations

import json

import pytest

from arcdata.errors import DatasetError
from arcdata.storage.manifest import read_manifest, schema_problems, write_json
from tests.storage.helpers import fake_manifest


def test_write_then_read_round_trips_with_stable_bytes(tmp_path):
    data = fake_manifest("m")
    write_json(tmp_path / "manifest.json", data)
    first = (tmp_path / "manifest.json").read_bytes()
    write_json(tmp_path / "manifest.json", dict(reversed(list(data.items()))))
    assert (tmp_path / "manifest.json").read_bytes() == first
    assert read_manifest(tmp_path) == data
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize(
    ("text", "message"),
    [(None, "no manifest.json"), ("{", "unreadable manifest"), ("[1]", "JSON object")],
)
def test_read_refuses_what_is_not_a_manifest(tmp_path, text, message):
    if text is not None:
        (tmp_path / "manifest.json").write_text(text)
    with pytest.raises(DatasetError, match=message):
        read_manifest(tmp_path)


def test_schema_problems_name_the_key():
    assert schema_problems(fake_manifest("m")) == []
    bad = fake_manifest("m")
    bad["splits"]["train"]["shards"][0]["path"] = "../escape/part-00000.parquet"
    del bad["units"]
    problems = schema_problems(bad)
    assert any("splits.train.shards.0.path" in p for p in problems)
    assert any("'units' is a required property" in p for p in problems)
    assert json.dumps(problems)
