"""Nested dictionaries (configurations)."""

from __future__ import annotations

import copy


def merge(base: dict, update: dict | None) -> dict:
    """Recursive merge: values of ``update`` win, nested dicts merge key by key."""
    out = copy.deepcopy(base)
    for k, v in (update or {}).items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out
