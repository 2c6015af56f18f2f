"""Kept for imports that predate :mod:`arcdata.storage.paths`, the one home of containment."""

from arcdata.storage.paths import safe_member, safe_name

__all__ = ["safe_member", "safe_name"]
