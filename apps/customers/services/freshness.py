"""Keep segments fresh after customers change in bulk: imports, orders, merges, cleaning.

Every writer of customers or of their orders and events calls `customers_touch` with the
customers it changed; the segments app re-checks just those customers against every dynamic
segment a little after the transaction commits (`segments_touch`: debounced, nothing
happens for a rolled-back batch). Without it, an imported order would wait for the hourly
full refresh before "purchased in the last day" saw it.
"""

from __future__ import annotations

from collections.abc import Iterable


def customers_touch(*, customer_ids: Iterable[int | None]) -> None:
    """Ask for an incremental refresh of these customers' segments (ids may repeat or be None).

    Imported here, not at module level: the segments app reads customers, orders and events,
    so a module-level import would be circular.
    """
    from apps.segments.services.segments import segments_touch

    ids = {customer_id for customer_id in customer_ids if customer_id is not None}
    if ids:
        segments_touch(customer_ids=ids)
