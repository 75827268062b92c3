"""Grouping order lines into orders, and remembering which orders a file already had.

An order's lines must be contiguous in the file. `contiguous_groups` cuts the stream of lines
where the order id changes; `SeenKeys` remembers (in fixed memory) which order ids the file
already had, so an id that comes back later can be checked instead of silently skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import TypeVar

Item = TypeVar("Item")


def contiguous_groups(items: Iterable[tuple[str, Item]]) -> Iterator[tuple[str, list[Item]]]:
    """(key, item) pairs to (key, items) runs of the same key, in file order."""
    current_key: str | None = None
    current: list[Item] = []
    for key, item in items:
        if key != current_key and current:
            yield current_key or "", current
            current = []
        current_key = key
        current.append(item)
    if current:
        yield current_key or "", current


class SeenKeys:
    """A Bloom filter: 'maybe seen' or 'certainly not seen', in fixed memory.

    With the default 16 Mbit (2 MB) and 4 hashes, a million keys give about 1% false
    positives; a positive is only a reason to look in the database, never a verdict.
    """

    def __init__(self, bits: int = 1 << 24, hashes: int = 4) -> None:
        self._size = bits
        self._hashes = hashes
        self._bits = bytearray(bits // 8)

    def _positions(self, key: str) -> list[int]:
        digest = hashlib.blake2b(key.encode(), digest_size=8 * self._hashes).digest()
        return [
            int.from_bytes(digest[8 * index : 8 * index + 8], "little") % self._size
            for index in range(self._hashes)
        ]

    def add(self, key: str) -> None:
        for position in self._positions(key):
            self._bits[position >> 3] |= 1 << (position & 7)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        return all(
            self._bits[position >> 3] & (1 << (position & 7)) for position in self._positions(key)
        )
