"""A small real ARC build shared by the stream tests, and a private stream cache folder."""

from __future__ import annotations

import pytest

from tests.conftest import small_config


@pytest.fixture(scope="session")
def small_ds(arc_dirs, tmp_path_factory):
    """7 ARC tasks x up to 9 versions (about 290 train and 18 test rows), 2 train shards."""
    from arcdata.builder.driver import build

    out = tmp_path_factory.mktemp("stream") / "ds"
    build(small_config(arc_dirs), out, workers=1, progress=False)
    return out


@pytest.fixture(scope="session")
def stream_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("stream-cache")


@pytest.fixture
def open_stream(small_ds, stream_cache):
    """PuzzleStream over the small build with the test cache folder."""
    from arcdata.stream import PuzzleStream

    def make(split="train", **kw):
        kw.setdefault("cache_dir", stream_cache)
        return PuzzleStream(small_ds, split, **kw)

    return make
