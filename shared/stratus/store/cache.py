"""A short in-Lambda cache for public store reads.

Public answers are the same for everyone, so a warm container keeps them for TTL_SECONDS.
A store change made in this container (approve, unapprove, review, profile, featured) clears
the whole cache at once; other containers see the change when their entries expire, which is
why the TTL is short. Browsers and CDNs get `Cache-Control: public, max-age=60` on top.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any

TTL_SECONDS = 30.0
MAX_ENTRIES = 512
CACHE_CONTROL = "public, max-age=60"

_entries: dict[Hashable, tuple[float, Any]] = {}


def get_or_load(key: Hashable, load: Callable[[], Any]) -> Any:
    now = time.monotonic()
    hit = _entries.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = load()
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()  # simpler than LRU and bounded; public reads refill it quickly
    _entries[key] = (now + TTL_SECONDS, value)
    return value


def invalidate() -> None:
    _entries.clear()
