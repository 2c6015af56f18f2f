"""The ``maze_generated`` source."""

from __future__ import annotations

import numpy as np
import pytest

from arcdata.errors import ConfigError
from arcdata.maze.paths import valid_shortest_paths
from arcdata.sources.base import Rejects, read_source


def test_maze_generated():
    spec = {
        "type": "maze_generated",
        "count": 2,
        "test_count": 1,
        "size": 10,
        "min_path": 16,
        "seed": 4,
    }
    result = read_source(spec, Rejects())
    assert [t.evaluation for t in result.tasks] == [False, False, True]
    qs = np.stack([t.pairs()[0][2].input for t in result.tasks])
    ans = np.stack([t.pairs()[0][2].output for t in result.tasks])
    assert qs.shape == (3, 10, 10)
    assert valid_shortest_paths(qs, ans).all()
    assert all(t.meta["path_length"] > 16 for t in result.tasks)
    with pytest.raises(ConfigError, match="wall"):
        read_source({**spec, "wall_min": 0.6, "wall_max": 0.4}, Rejects())
