from django.db import models


class RfmCell(models.TextChoices):
    """Named cells of the RFM grid (the usual 11-cell map of recency x frequency/monetary)."""

    CHAMPIONS = "champions", "Champions"
    LOYAL = "loyal", "Loyal"
    POTENTIAL_LOYALISTS = "potential_loyalists", "Potential loyalists"
    NEW = "new", "New"
    PROMISING = "promising", "Promising"
    NEED_ATTENTION = "need_attention", "Need attention"
    ABOUT_TO_SLEEP = "about_to_sleep", "About to sleep"
    AT_RISK = "at_risk", "At risk"
    CANT_LOSE_THEM = "cant_lose_them", "Can't lose them"
    HIBERNATING = "hibernating", "Hibernating"
    LOST = "lost", "Lost"


class LifecycleStage(models.TextChoices):
    """Where a customer is in their purchase cycle (their own inter-purchase time when known)."""

    PROSPECT = "prospect", "Prospect"
    NEW = "new", "New"
    ACTIVE = "active", "Active"
    RETURNING = "returning", "Returning"
    LOYAL = "loyal", "Loyal"
    AT_RISK = "at_risk", "At risk"
    LAPSED = "lapsed", "Lapsed"
