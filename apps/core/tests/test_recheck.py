"""Rechecked: a value reused for a while, read again after it, or every time at 0."""

from __future__ import annotations

import time

from apps.core.recheck import Rechecked


def test_the_value_is_reused_within_the_interval_and_read_again_after_it():
    reads = []
    seconds = [60.0]
    value = Rechecked(lambda: reads.append(1) or len(reads), lambda: seconds[0])

    assert (value.get(), value.get(), len(reads)) == (1, 1, 1)
    seconds[0] = 0.01
    time.sleep(0.02)
    assert (value.get(), len(reads)) == (2, 2)


def test_at_zero_seconds_every_use_reads_and_forget_forces_a_read():
    reads = []
    every_time = Rechecked(lambda: reads.append(1) or len(reads), lambda: 0)
    assert [every_time.get(), every_time.get()] == [1, 2]

    kept = Rechecked(lambda: reads.append(1) or len(reads), lambda: 60)
    first = kept.get()
    kept.forget()
    assert kept.get() == first + 1
