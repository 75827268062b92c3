"""A value a process reads now and then, not on every use (the champion's id, the catalogue's
version): read through a function, reused for a configurable number of seconds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Rechecked(Generic[T]):
    """`read()`'s value, read again once it is older than `seconds()` (0 or less: every
    time). Threads may race to read it; the last read wins, which is as fresh as any."""

    def __init__(self, read: Callable[[], T], seconds: Callable[[], float]) -> None:
        self._read = read
        self._seconds = seconds
        self._lock = threading.Lock()
        self._state: tuple[float, T] | None = None

    def get(self) -> T:
        ttl = float(self._seconds())
        now = time.monotonic()
        state = self._state
        if state is not None and ttl > 0 and now - state[0] < ttl:
            return state[1]
        value = self._read()
        with self._lock:
            self._state = (now, value)
        return value

    def forget(self) -> None:
        """Read again on the next use (tests, or after a known change)."""
        with self._lock:
            self._state = None
