import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arcdata.errors import InputError
from arcdata.grids import (
    ARC,
    MAZE,
    SUDOKU,
    crop_prediction,
    decode,
    encode,
    encode_packed,
    validate_grid,
)
from tests.conftest import shared_data


@st.composite
def placed_grids(draw, max_side=30):
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))
    r = draw(st.integers(0, 30 - h))
    c = draw(st.integers(0, 30 - w))
    values = draw(st.lists(st.integers(0, 9), min_size=h * w, max_size=h * w))
    return np.array(values, dtype=np.uint8).reshape(h, w), (r, c)


def test_arc_codec_matches_reference_tokens():
    z = np.load(shared_data("reference-golden", "arc_codec.npz"))
    for i in range(len(z["offsets"])):
        offset = tuple(int(v) for v in z["offsets"][i])
        for kind in ("input", "output"):
            h, w = z[f"{kind}_shapes"][i]
            grid = z[f"{kind}_grids"][i][:h, :w]
            tokens = encode(ARC, grid, offset)
            np.testing.assert_array_equal(tokens, z[f"{kind}_tokens"][i])
            back, where = decode(ARC, z[f"{kind}_tokens"][i])
            np.testing.assert_array_equal(back, grid)
            assert where == offset


@given(placed_grids())
def test_arc_round_trip_any_size_and_offset(placed):
    grid, offset = placed
    tokens = encode(ARC, grid, offset)
    assert tokens.shape == (900,) and tokens.dtype == np.uint8
    back, where = decode(ARC, tokens)
    np.testing.assert_array_equal(back, grid)
    assert where == offset


@given(placed_grids())
def test_eos_border_exactly_as_reference(placed):
    grid, (r, c) = placed
    h, w = grid.shape
    canvas = encode(ARC, grid, (r, c)).reshape(30, 30)
    expected_eos = set()
    if r + h < 30:
        expected_eos |= {(r + h, j) for j in range(c, c + w)}
    if c + w < 30:
        expected_eos |= {(i, c + w) for i in range(r, r + h)}
    assert set(zip(*np.nonzero(canvas == 1), strict=True)) == expected_eos
    assert (canvas == 0).sum() == 900 - h * w - len(expected_eos)


@given(st.lists(placed_grids(), min_size=1, max_size=12))
def test_packed_encoder_equals_one_by_one(items):
    grids = [g for g, _ in items]
    offsets = np.array([o for _, o in items])
    sizes = np.array([g.size for g in grids])
    packed = encode_packed(
        ARC,
        np.concatenate([g.ravel() for g in grids]),
        np.cumsum(sizes) - sizes,
        np.array([g.shape[0] for g in grids]),
        np.array([g.shape[1] for g in grids]),
        offsets[:, 0],
        offsets[:, 1],
    )
    for i, (g, o) in enumerate(items):
        np.testing.assert_array_equal(packed[i], encode(ARC, g, o))


@given(st.lists(st.integers(0, 9), min_size=81, max_size=81))
def test_sudoku_tokens(values):
    grid = np.array(values, dtype=np.uint8).reshape(9, 9)
    tokens = encode(SUDOKU, grid)
    np.testing.assert_array_equal(tokens, grid.ravel() + 1)
    np.testing.assert_array_equal(decode(SUDOKU, tokens)[0], grid)


def test_maze_tokens():
    grid = np.array([[0, 1, 2, 3, 4]] * 30 + [[0] * 5] * 0, dtype=np.uint8)
    full = np.zeros((30, 30), np.uint8)
    full[:, :5] = grid
    tokens = encode(MAZE, full)
    assert set(np.unique(tokens)) == {1, 2, 3, 4, 5}


@given(placed_grids())
def test_crop_prediction_recovers_grid_at_origin(placed):
    grid, _ = placed
    np.testing.assert_array_equal(crop_prediction(encode(ARC, grid, (0, 0))), grid)


def test_crop_prediction_of_garbage():
    assert crop_prediction(np.zeros(900, np.uint8)) is None


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ([], "non-empty"),
        ([[1, 2], [3]], "ragged"),
        ([[1, 10]], "0..9"),
        ([[1, -1]], "0..9"),
        ([[1.0]], "not an integer"),
        ([[True]], "not an integer"),
        ([[0] * 31], "at most 30"),
        ([[0]] * 31, "at most 30"),
        ("grid", "non-empty list"),
        ([[]], "non-empty"),
    ],
)
def test_validate_grid_names_the_place(value, fragment):
    with pytest.raises(InputError) as info:
        validate_grid(value, file="f.json", task="t1", pair="train[0]", field="input")
    msg = str(info.value)
    assert fragment in msg
    assert "f.json" in msg and "task t1" in msg and "train[0]" in msg and "'input'" in msg
