"""Ad and creative optimisation: a Thompson-sampling bandit over creatives, fed by the
`Ad Impression`, `Ad Clicked` and order events that carry a `creative` property, splitting a
daily budget by each creative's chance of being best (with an exploration floor)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from apps.campaigns.engine.bandit import Allocation, Arm, allocate
from apps.core.errors import ValidationFailed
from apps.events.selectors import creative_event_counts

REWARDS = {"click_rate": "clicks per impression", "conversion_rate": "orders per impression"}


def creative_allocation(
    *, daily_budget: Decimal, days: int = 14, reward: str = "click_rate"
) -> tuple[list[Arm], Allocation | None]:
    """The creatives seen in the last `days` and tomorrow's budget split (None: fewer than two
    creatives with impressions yet)."""
    if reward not in REWARDS:
        raise ValidationFailed(f"reward: one of {', '.join(REWARDS)}", field="reward")
    if daily_budget <= 0:
        raise ValidationFailed("daily_budget: must be above 0", field="daily_budget")
    counts = creative_event_counts(since=timezone.now() - timedelta(days=days))
    arms = [
        Arm(
            name=name,
            impressions=max(shown, clicks),
            clicks=clicks,
            conversions=min(bought, max(shown, clicks)),
        )
        for name, (shown, clicks, bought) in counts.items()
        if shown or clicks
    ]
    if len(arms) < 2:
        return arms, None
    return arms, allocate(arms, daily_budget, reward=reward, seed=0)
