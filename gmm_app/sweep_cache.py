"""A thread-safe LRU cache of sweep results, bounded in entries and in bytes.

Pure: no Streamlit, no other ``gmm_app`` module.

Must not import JAX: compiled work lives in gmm_core (``tests/test_layers.py``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import fields

import numpy as np

import gmm_core
from gmm_core.mixture import Mixture

SWEEP_CACHE_ENTRIES = 16
SWEEP_CACHE_BYTES = 1 << 30


def result_bytes(result: gmm_core.SweepResult) -> int:
    """Bytes held by a sweep result's arrays (its mixtures' included)."""
    values = [getattr(result, field.name) for field in fields(result)]
    values += [
        array
        for value in values
        if isinstance(value, Mixture)
        for array in value.as_dict().values()
    ]
    return sum(value.nbytes for value in values if isinstance(value, np.ndarray))


class SweepCache:
    """A thread-safe LRU cache of sweep results, bounded in entries and in bytes.

    The newest result is always kept, even when it alone exceeds ``max_bytes``
    (the budget check in the pages keeps it within a share of the memory); older ones
    are dropped until both bounds hold.
    """

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[gmm_core.SweepResult, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._running: dict[Hashable, threading.Event] = {}
        self.evictions = 0  # results dropped to keep the bounds (the soak test reads it)

    def get(self, key: Hashable) -> gmm_core.SweepResult | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def put(self, key: Hashable, result: gmm_core.SweepResult) -> None:
        size = result_bytes(result)
        with self._lock:
            self._entries[key] = (result, size)
            self._entries.move_to_end(key)
            while len(self._entries) > 1 and (
                len(self._entries) > self.max_entries or self.n_bytes > self.max_bytes
            ):
                self._entries.popitem(last=False)
                self.evictions += 1

    def get_or_compute(
        self, key: Hashable, compute: Callable[[], gmm_core.SweepResult]
    ) -> tuple[gmm_core.SweepResult, bool]:
        """The cached result, or ``compute()``'s (stored unless it raised).

        Calls for a key whose sweep is already running wait for it and share its result
        (or compute it themselves when it raised).

        Returns
        -------
        result, fresh
            ``fresh`` is True when ``compute`` ran on this call.
        """
        while True:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None:
                    self._entries.move_to_end(key)
                    return entry[0], False
                running = self._running.get(key)
                if running is None:
                    self._running[key] = threading.Event()
                    break
            running.wait()  # the same sweep is running for someone else: share its result
        try:
            result = compute()
            self.put(key, result)
            return result, True
        finally:
            with self._lock:
                self._running.pop(key).set()

    @property
    def n_bytes(self) -> int:
        return sum(size for _, size in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
