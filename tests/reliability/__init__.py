"""Reliability tests: bad input, interrupted and repeated builds, verification, clusters."""
