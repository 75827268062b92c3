"""Customer intelligence: one row of scores per customer, read by segments, profiles and the API."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.models import BaseModel
from apps.segments.choices import LifecycleStage, RfmCell


class CustomerScores(models.Model):
    """Every predictive and derived field of one customer, one row per customer.

    Each group (RFM/lifecycle, cluster, CLV, churn, propensity) is written by its own service
    with the model version that produced it and when; segments compile conditions on these
    columns into joins, so they are plain indexed columns, not a key-value table.
    """

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, primary_key=True, related_name="scores"
    )
    # RFM and lifecycle (rule-based, no model version).
    rfm_recency = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1-5 quintile.")
    rfm_frequency = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1-5.")
    rfm_monetary = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1-5.")
    rfm_cell = models.CharField(max_length=24, choices=RfmCell.choices, blank=True)
    lifecycle_stage = models.CharField(max_length=16, choices=LifecycleStage.choices, blank=True)
    rfm_computed_at = models.DateTimeField(null=True, blank=True)
    # Clustering.
    cluster = models.SmallIntegerField(null=True, blank=True, help_text="Cluster number.")
    cluster_name = models.CharField(max_length=120, blank=True)
    cluster_model_version = models.ForeignKey(
        "ml.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Customer lifetime value.
    clv_historical = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    clv_discounted = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    clv_12m = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Predicted 12-month CLV."
    )
    p_alive = models.FloatField(null=True, blank=True, help_text="BG/NBD P(alive), 0-1.")
    expected_purchases_90d = models.FloatField(null=True, blank=True)
    clv_model_version = models.ForeignKey(
        "ml.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Churn and purchase propensity.
    churn_risk = models.FloatField(null=True, blank=True, help_text="P(no purchase), 0-1.")
    churn_model_version = models.ForeignKey(
        "ml.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    purchase_propensity = models.FloatField(null=True, blank=True, help_text="P(purchase), 0-1.")
    propensity_model_version = models.ForeignKey(
        "ml.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    explanations = models.JSONField(
        default=dict,
        blank=True,
        help_text="Top feature contributions per score, e.g. {'churn': [[feature, value], ...]}.",
    )
    # What the customer writes (reviews, social posts), from the insights app.
    sentiment_average = models.FloatField(
        null=True, blank=True, help_text="Mean sentiment of their texts, -1 to 1."
    )
    text_count = models.PositiveIntegerField(default=0, help_text="Reviews and posts analysed.")
    interest_topics = models.CharField(
        max_length=255, blank=True, help_text="Topics they write about most, '; ' separated."
    )
    interest_aspects = models.CharField(
        max_length=120, blank=True, help_text="Aspects they mention (price, quality ...)."
    )
    last_complaint_at = models.DateTimeField(
        null=True, blank=True, help_text="When they last wrote a complaint."
    )
    text_traits_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "customer scores"
        indexes = [
            models.Index(fields=["rfm_cell"], name="scores_rfm_cell"),
            models.Index(fields=["lifecycle_stage"], name="scores_lifecycle"),
            models.Index(fields=["cluster"], name="scores_cluster"),
            models.Index(fields=["clv_12m"], name="scores_clv"),
            models.Index(fields=["churn_risk"], name="scores_churn"),
            models.Index(fields=["purchase_propensity"], name="scores_propensity"),
            models.Index(fields=["sentiment_average"], name="scores_sentiment"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(p_alive__gte=0, p_alive__lte=1) | models.Q(p_alive__isnull=True),
                name="scores_p_alive_0_1",
            ),
        ]

    def __str__(self) -> str:
        return f"scores of {self.customer_id}"


class SegmentKind(models.TextChoices):
    """How a segment gets its members."""

    DYNAMIC = "dynamic", "Dynamic (from a definition)"
    STATIC = "static", "Static (a list of customers)"


class SegmentStatus(models.TextChoices):
    """Where the segment's membership stands."""

    PENDING = "pending", "Not computed yet"
    READY = "ready", "Up to date"
    REFRESHING = "refreshing", "Refreshing"
    FAILED = "failed", "Refresh failed"


class MembershipChange(models.TextChoices):
    """A customer entering or leaving a segment."""

    ENTERED = "entered", "Entered"
    EXITED = "exited", "Exited"


class Segment(BaseModel):
    """A named group of customers: dynamic (a definition, kept fresh) or static (a list).

    The members live in SegmentMembership, so campaigns, journeys and exports read a table
    instead of recomputing the definition; every change of membership is a
    SegmentMembershipEvent, which is what journeys trigger on.
    """

    name = models.CharField(max_length=120, unique=True, help_text="Unique name of the segment.")
    description = models.TextField(blank=True, help_text="What the segment is for.")
    kind = models.CharField(
        max_length=8,
        choices=SegmentKind.choices,
        default=SegmentKind.DYNAMIC,
        help_text="dynamic: members follow the definition; static: a fixed list of customers.",
    )
    definition = models.JSONField(
        default=dict,
        blank=True,
        help_text="The condition tree of a dynamic segment (see docs/segments.md); empty for "
        "static segments.",
    )
    status = models.CharField(
        max_length=12,
        choices=SegmentStatus.choices,
        default=SegmentStatus.PENDING,
        help_text="pending, ready, refreshing or failed.",
    )
    error = models.TextField(blank=True, help_text="Why the last refresh failed, if it did.")
    member_count = models.PositiveIntegerField(default=0, help_text="Members now.")
    last_refreshed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the membership was last computed in full."
    )
    last_refresh_seconds = models.FloatField(
        null=True, blank=True, help_text="How long the last full refresh took, in seconds."
    )
    upload_report = models.JSONField(
        default=dict,
        blank=True,
        help_text="Static segments: rows read, customers matched and the unknown ids with "
        "their row numbers, from the last list or CSV upload.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="User who created the segment; empty for keys and commands.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SegmentMembership(models.Model):
    """A customer who is in a segment now, and since when."""

    # No single-column indexes: the unique (segment, customer) and the (customer, segment)
    # indexes serve both lookups, and every refresh writes here.
    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="segment_memberships",
        db_index=False,
    )
    since = models.DateTimeField(help_text="When the customer entered the segment.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["segment", "customer"], name="segment_membership_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "segment"], name="membership_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.segment_id}"


class SegmentMembershipEvent(models.Model):
    """A customer entered or left a segment at a time: the history journeys trigger on."""

    # Indexed by (segment, at) and (customer, at) below, which serve the foreign keys too.
    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, related_name="history", db_index=False
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="segment_history",
        db_index=False,
    )
    kind = models.CharField(
        max_length=8, choices=MembershipChange.choices, help_text="entered or exited."
    )
    at = models.DateTimeField(help_text="When the refresh saw the change.")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["segment", "at"], name="membership_event_segment"),
            models.Index(fields=["customer", "at"], name="membership_event_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} {self.segment_id} at {self.at:%Y-%m-%d %H:%M}"


class SegmentSize(models.Model):
    """The size of a segment on a day (the last refresh of that day), for the size chart."""

    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, related_name="sizes", db_index=False
    )  # the unique (segment, day) index serves it
    day = models.DateField(help_text="Calendar day (project time zone).")
    member_count = models.PositiveIntegerField(help_text="Members after the day's last refresh.")
    entered = models.PositiveIntegerField(default=0, help_text="Customers who entered that day.")
    exited = models.PositiveIntegerField(default=0, help_text="Customers who left that day.")

    class Meta:
        ordering = ["segment", "day"]
        constraints = [
            models.UniqueConstraint(fields=["segment", "day"], name="segment_size_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.segment_id} on {self.day}: {self.member_count}"


class SegmentTouchedCustomer(models.Model):
    """A customer with new events or orders whose dynamic segments are not re-checked yet.

    `segments_touch` adds rows after each ingest or import batch (one INSERT, duplicates
    ignored); the debounced incremental refresh takes them all, deletes them and re-checks
    just those customers. A table, not a Redis set, so touches survive a broker outage and
    the embedded SQLite mode works the same.
    """

    customer_id = models.BigIntegerField(primary_key=True, help_text="Customer primary key.")
    touched_at = models.DateTimeField(help_text="When the customer was first touched.")

    def __str__(self) -> str:
        return f"touched {self.customer_id}"
