"""Deterministic assignment of customers to a campaign's holdout and A/B/n variants.

The same (campaign, customer) always lands in the same arm, on every worker and every
retry, and arms are independent across campaigns (the campaign id salts the hash).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HOLDOUT = ""  # the arm name of the held-out control group in `assign`'s result


def unit_hash(salt: str, key: str) -> float:
    """A uniform number in [0, 1) from (salt, key): 64 bits of BLAKE2b."""
    digest = hashlib.blake2b(f"{salt}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def assign(
    *,
    salt: str,
    key: str,
    holdout_percent: float,
    variants: Sequence[tuple[str, int]],
) -> tuple[bool, str]:
    """(held out?, variant key) for one customer.

    `variants` are (key, weight) pairs; empty means no test (variant ""). The holdout is
    decided by one hash and the variant by a second one, so changing the holdout share moves
    nobody between variants.
    """
    if not 0 <= holdout_percent <= 100:
        raise ValueError(f"holdout_percent: {holdout_percent} is not between 0 and 100")
    held_out = unit_hash(f"{salt}:holdout", key) < holdout_percent / 100.0
    if not variants:
        return held_out, ""
    total = sum(weight for _, weight in variants)
    if total <= 0:
        raise ValueError("variants: the weights must add up to more than 0")
    point = unit_hash(f"{salt}:variant", key) * total
    cumulative = 0.0
    for name, weight in variants:
        cumulative += weight
        if point < cumulative:
            return held_out, name
    return held_out, variants[-1][0]
