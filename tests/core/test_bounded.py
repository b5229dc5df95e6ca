"""The bounded cache keeps at most its ceiling, dropping the least recently used first."""

from __future__ import annotations

from opendip.core.bounded import BoundedCache


def test_a_flood_of_distinct_keys_never_passes_the_ceiling() -> None:
    cache: BoundedCache[str, int] = BoundedCache(3)
    for n in range(10_000):
        cache.put(f"key-{n}", n)
        assert len(cache) <= 3
    cache.put("kept", 1)
    cache.put("a", 2)
    assert cache.get("kept") == 1  # used: it outlives the two that follow
    cache.put("b", 3)
    cache.put("c", 4)
    assert cache.get("kept") == 1 and cache.get("a") is None
