"""Streaming a built dataset into training: :class:`PuzzleStream` and its building blocks.

* :mod:`.store`: a split as flat numpy arrays: packed grids for exporters, and encoded token
  rows for the stream (encoded once from Parquet, cached, memory-mapped);
* :mod:`.plan`: the per-epoch global batch plans (hrm, examples, eval);
* :mod:`.transport`: shared-memory hand-off from DataLoader workers;
* :mod:`.dataset`: the ``IterableDataset`` tying them together.
"""

from arcdata.stream.dataset import PuzzleStream
from arcdata.stream.plan import EpochPlan
from arcdata.stream.store import Dataset, SplitArrays, TokenArrays, open_split

__all__ = ["Dataset", "EpochPlan", "PuzzleStream", "SplitArrays", "TokenArrays", "open_split"]
