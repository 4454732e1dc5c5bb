"""Plans are cached per normalised command, scene and backend, least recently used evicted first."""

from __future__ import annotations

from cloud_planner.plan_cache import PlanCache, PlanCacheKey


def test_same_command_with_other_spacing_and_case_hits():
    cache: PlanCache[str] = PlanCache()
    cache.put(PlanCacheKey.of("Bring me  the red cup", "h1", "openai:m"), "plan")
    assert cache.get(PlanCacheKey.of("bring me the red cup", "h1", "openai:m")) == "plan"
    assert (cache.hits, cache.misses) == (1, 0)


def test_changed_scene_or_model_misses():
    cache: PlanCache[str] = PlanCache()
    cache.put(PlanCacheKey.of("bring me the red cup", "h1", "openai:m"), "plan")
    assert cache.get(PlanCacheKey.of("bring me the red cup", "h2", "openai:m")) is None
    assert cache.get(PlanCacheKey.of("bring me the red cup", "h1", "openai:other")) is None
    assert cache.misses == 2


def test_least_recently_used_is_evicted():
    cache: PlanCache[int] = PlanCache(capacity=2)
    a, b, c = (PlanCacheKey.of(t, "h", "x") for t in "abc")
    cache.put(a, 1)
    cache.put(b, 2)
    cache.get(a)
    cache.put(c, 3)
    assert cache.get(b) is None and cache.get(a) == 1 and cache.get(c) == 3
