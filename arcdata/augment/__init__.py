"""Augmentations as data: each transform is a small record that can be applied, inverted and
stored in a row, so any example can be mapped back to its raw task exactly."""
