"""Remember plans by what was asked and of which home, so a repeated command costs no model call.

The key is the normalised command, the scene's content hash and the backend's identity (model name):
the same words against a changed scene (the cup moved, a light is on) are a different question.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["PlanCache", "PlanCacheKey"]

T = TypeVar("T")


@dataclass(frozen=True)
class PlanCacheKey:
    """What makes two planning requests the same question."""

    command: str
    scene_hash: str
    backend: str

    @classmethod
    def of(cls, command: str, scene_hash: str, backend: str) -> PlanCacheKey:
        """Build a key, folding case and white space of the command."""
        return cls(" ".join(command.casefold().split()), scene_hash, backend)


@dataclass
class PlanCache(Generic[T]):
    """A small thread-safe LRU cache with hit/miss counters for the metrics."""

    capacity: int = 256
    hits: int = 0
    misses: int = 0
    _items: OrderedDict[PlanCacheKey, T] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, key: PlanCacheKey) -> T | None:
        """The cached value, refreshed as most recently used, or None."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
            return None

    def put(self, key: PlanCacheKey, value: T) -> None:
        """Store a value, evicting the least recently used one beyond capacity."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
