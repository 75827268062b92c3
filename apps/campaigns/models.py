"""Campaigns: who gets what, when; each (campaign, customer) message; suppressed addresses."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.campaigns.choices import (
    CampaignStatus,
    Channel,
    CouponTarget,
    DiscountType,
    EnrollmentState,
    JourneyStatus,
    JourneyTrigger,
    MessageStatus,
    Recurrence,
    SkipReason,
    SuppressionReason,
    WinnerMetric,
)
from apps.core.models import BaseModel


class Campaign(BaseModel):
    """A message to an audience (segments minus exclusions), sent now, later or on repeat.

    The content is a Django template (personalisation tokens, {% if %} blocks, the
    recommendations and coupon blocks); the plain-text part is generated when left empty.
    Every send is a CampaignMessage row, so a send resumes after a crash and reaches each
    customer at most once.
    """

    name = models.CharField(max_length=200, help_text="Internal name, shown in reports.")
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    status = models.CharField(
        max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who is responsible for it.",
    )
    all_customers = models.BooleanField(
        default=False, help_text="Audience: every customer (the built-in segment 'all')."
    )
    segments = models.ManyToManyField(
        "segments.Segment",
        blank=True,
        related_name="+",
        help_text="Audience: members of any of these segments.",
    )
    excluded_segments = models.ManyToManyField(
        "segments.Segment",
        blank=True,
        related_name="+",
        help_text="Members of these segments never get it.",
    )
    subject = models.CharField(
        max_length=250, blank=True, help_text="Email subject (template language allowed)."
    )
    preheader = models.CharField(
        max_length=250, blank=True, help_text="Preview text shown after the subject."
    )
    from_email = models.CharField(
        max_length=254, blank=True, help_text="Sender; empty uses DEFAULT_FROM_EMAIL."
    )
    html_body = models.TextField(blank=True, help_text="HTML content (Django template language).")
    text_body = models.TextField(
        blank=True, help_text="Plain-text alternative; empty: generated from the HTML."
    )
    webhook_url = models.URLField(
        blank=True, help_text="Webhook channel: where each message is POSTed as JSON."
    )
    scheduled_at = models.DateTimeField(
        null=True, blank=True, help_text="When to send; empty with status scheduled: now."
    )
    recurrence = models.CharField(
        max_length=16, choices=Recurrence.choices, blank=True, default=Recurrence.NONE
    )
    send_rate = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="At most this many messages a second; empty: CAMPAIGNS_SEND_RATE.",
    )
    holdout_percent = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(50)],
        help_text="Share of the audience held out (gets nothing) to measure uplift, 0-50.",
    )
    respect_quiet_hours = models.BooleanField(
        default=True, help_text="Wait until the quiet hours end in the customer's time zone."
    )
    winner_metric = models.CharField(
        max_length=16,
        choices=WinnerMetric.choices,
        blank=True,
        default=WinnerMetric.NONE,
        help_text="With variants: send them to a test group first, then the winner by this "
        "metric to the rest.",
    )
    test_percent = models.PositiveSmallIntegerField(
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Share of the audience in the test (the rest waits for the winner).",
    )
    winner_wait_hours = models.PositiveSmallIntegerField(
        default=4,
        validators=[MinValueValidator(1)],
        help_text="Pick the winner as soon as it is significant, at the latest after this "
        "many hours (then the best so far).",
    )
    winner = models.CharField(max_length=32, blank=True, help_text="The winning variant.")
    winner_note = models.CharField(max_length=250, blank=True)
    optimize_send_time = models.BooleanField(
        default=False,
        help_text="Send each customer at their best hour (from their opens and clicks; the "
        "population's best hour for those without), within a day of the start.",
    )
    ignore_frequency_cap = models.BooleanField(
        default=False, help_text="Transactional-like messages that the global cap must not stop."
    )
    utm_source = models.CharField(max_length=100, default="smartmkt", blank=True)
    utm_medium = models.CharField(max_length=100, default="email", blank=True)
    utm_campaign = models.CharField(
        max_length=100, blank=True, help_text="Empty: the campaign's id and name."
    )
    bounce_pause_rate = models.FloatField(
        default=0.05,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Pause the send when hard bounces pass this share of sent messages.",
    )
    complaint_pause_rate = models.FloatField(
        default=0.003,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Pause the send when spam complaints pass this share of sent messages.",
    )
    cost = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=0,
        help_text="What the campaign cost (sending, creative, discounts), for its ROI.",
    )
    previous = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="next_occurrence",
        help_text="Recurring campaigns: the occurrence this one follows.",
    )
    journey = models.ForeignKey(
        "campaigns.Journey",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="email_campaigns",
        help_text="Set for a journey's email step: its messages come from the journey.",
    )
    journey_step = models.CharField(max_length=64, blank=True)
    planned_at = models.DateTimeField(
        null=True, blank=True, help_text="When the audience was turned into messages."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    paused_reason = models.CharField(max_length=250, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class CampaignVariant(BaseModel):
    """One arm of a campaign's A/B/n test: its share of the audience and what it changes."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="variants")
    key = models.CharField(max_length=32, help_text="Short name: A, B, subject-2 ...")
    weight = models.PositiveIntegerField(default=1, help_text="Relative share of the audience.")
    subject = models.CharField(max_length=250, blank=True, help_text="Empty: the campaign's.")
    html_body = models.TextField(blank=True, help_text="Empty: the campaign's.")
    optimize_send_time = models.BooleanField(
        null=True,
        blank=True,
        help_text="Send at each customer's best hour (True) or at the start (False) for this "
        "arm only: a send-time experiment. Empty: as the campaign says.",
    )

    class Meta:
        ordering = ["campaign", "key"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "key"], name="variant_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} / {self.key}"


class CampaignMessage(models.Model):
    """One customer's message of one campaign: at most one per (campaign, customer).

    Rows are planned before sending (pending, skipped with a reason, or held out). A sender
    claims pending rows for a while, and marks a row sent in its own commit *before* the
    mail server is told to deliver it (the final "." of SMTP DATA); a row another sender
    marked first is abandoned with RSET. So a crash or a retry never sends twice.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="messages")
    customer = models.ForeignKey(
        "customers.Customer", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    token = models.UUIDField(
        default=uuid.uuid4, unique=True, help_text="Identifies the message in tracking links."
    )
    variant = models.CharField(max_length=32, blank=True, help_text="A/B/n arm, if any.")
    in_test = models.BooleanField(
        default=True, help_text="False: sent the winner after the test (not in its statistics)."
    )
    enrollment = models.ForeignKey(
        "campaigns.JourneyEnrollment",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="messages",
        help_text="The journey run that sent it (journey emails only).",
    )
    email = models.CharField(max_length=254, blank=True, help_text="Address at planning time.")
    status = models.CharField(
        max_length=16, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    skip_reason = models.CharField(max_length=32, choices=SkipReason.choices, blank=True)
    send_after = models.DateTimeField(help_text="Not before (quiet hours, schedule).")
    claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="A sender holds the row until then."
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    events_recorded = models.BooleanField(
        default=False, help_text="Its email_sent event was stored."
    )
    error = models.CharField(max_length=500, blank=True, help_text="The mail server's refusal.")
    opened_at = models.DateTimeField(null=True, blank=True, help_text="First human open.")
    open_count = models.PositiveIntegerField(default=0)
    machine_open_count = models.PositiveIntegerField(
        default=0, help_text="Opens by mail-privacy proxies and bots (flagged, not counted)."
    )
    clicked_at = models.DateTimeField(null=True, blank=True, help_text="First human click.")
    click_count = models.PositiveIntegerField(default=0)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    complained_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer"],
                condition=models.Q(enrollment__isnull=True),
                name="campaign_message_once_per_customer",
            ),
            models.UniqueConstraint(
                fields=["campaign", "enrollment"],
                condition=models.Q(enrollment__isnull=False),
                name="campaign_message_once_per_enrollment",
            ),
        ]
        indexes = [
            models.Index(
                fields=["campaign", "send_after"],
                name="campaign_message_pending",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=["customer", "sent_at"],
                name="campaign_message_sent",
                condition=models.Q(status="sent"),
            ),
            models.Index(
                fields=["campaign"],
                name="campaign_message_unrecorded",
                condition=models.Q(status="sent", events_recorded=False),
            ),
            models.Index(fields=["campaign", "status"], name="campaign_message_status"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} -> {self.email or self.customer_id} ({self.status})"


class Suppression(BaseModel):
    """An address that never gets marketing email again (hard bounce, complaint, by hand)."""

    email = models.CharField(max_length=254, unique=True, help_text="Lower case.")
    reason = models.CharField(max_length=16, choices=SuppressionReason.choices)
    source = models.CharField(
        max_length=100, blank=True, help_text="Campaign, webhook provider or user."
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"


class CouponProgram(BaseModel):
    """A promotion: codes unique per customer (or one shared code), a value, an expiry, a
    budget, and who gets one: everyone, or only the persuadable (purchase propensity between
    two bounds, CLV above a floor), with a holdout to measure the uplift the codes cause."""

    key = models.SlugField(
        max_length=64, unique=True, help_text='Templates name it: {% coupon "key" %}.'
    )
    name = models.CharField(max_length=200)
    shared_code = models.CharField(
        max_length=64, blank=True, help_text="One code for everyone; empty: a code per customer."
    )
    code_prefix = models.CharField(
        max_length=16, blank=True, help_text="Start of generated codes, e.g. SPRING."
    )
    discount_type = models.CharField(
        max_length=16, choices=DiscountType.choices, default=DiscountType.PERCENT
    )
    value = models.DecimalField(
        max_digits=10, decimal_places=2, help_text="Percent (e.g. 10) or amount off."
    )
    min_order_total = models.DecimalField(
        max_digits=10, decimal_places=2, default=0, help_text="Smallest order it applies to."
    )
    valid_days = models.PositiveSmallIntegerField(
        default=14, validators=[MinValueValidator(1)], help_text="Days a code is valid after issue."
    )
    ends_at = models.DateTimeField(null=True, blank=True, help_text="No code is issued after.")
    budget = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Stop issuing once redeemed discounts reach this; empty: no cap.",
    )
    max_issued = models.PositiveIntegerField(
        null=True, blank=True, help_text="Stop issuing after this many codes; empty: no cap."
    )
    target = models.CharField(
        max_length=16, choices=CouponTarget.choices, default=CouponTarget.EVERYONE
    )
    min_propensity = models.FloatField(
        default=0.05,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Persuadable: purchase propensity at least this (below: unlikely either way).",
    )
    max_propensity = models.FloatField(
        default=0.6,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Persuadable: at most this (above: would buy anyway, a discount is lost margin).",
    )
    min_clv = models.DecimalField(
        max_digits=12, decimal_places=2, default=0, help_text="Persuadable: 12-month CLV floor."
    )
    holdout_percent = models.PositiveSmallIntegerField(
        default=10,
        validators=[MaxValueValidator(50)],
        help_text="Targeted customers held out (no code) to measure the uplift.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class Coupon(BaseModel):
    """One customer's code of a program (or their copy of the shared code), or their place in
    the program's holdout (`held_out`, no code): issued once, redeemed from an order."""

    program = models.ForeignKey(CouponProgram, on_delete=models.CASCADE, related_name="coupons")
    customer = models.ForeignKey(
        "customers.Customer", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    code = models.CharField(max_length=64, blank=True, db_index=True)
    held_out = models.BooleanField(default=False, help_text="In the holdout: no code given.")
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="coupons"
    )
    expires_at = models.DateTimeField()
    redeemed_at = models.DateTimeField(null=True, blank=True)
    order_external_id = models.CharField(max_length=128, blank=True)
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["program", "customer"], name="coupon_once_per_customer"
            ),
        ]
        indexes = [models.Index(fields=["program", "redeemed_at"], name="coupon_redeemed")]

    def __str__(self) -> str:
        return self.code or f"holdout {self.customer_id}"


class Journey(BaseModel):
    """Triggered automation: who enters (an event, sign-up, segment entry or exit, a date such
    as a birthday, a daily schedule), the steps they go through (waits, branches, splits,
    emails, coupons, webhooks, attribute updates), the goal that ends it, re-entry rules.

    `steps` is a list of step objects with ids and `next` pointers (see engine/journeys.py);
    the first step is the entry. Each email step sends through its own Campaign row.
    """

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    template = models.CharField(max_length=64, blank=True, help_text="Built from this template.")
    status = models.CharField(
        max_length=16, choices=JourneyStatus.choices, default=JourneyStatus.DRAFT
    )
    trigger = models.CharField(max_length=16, choices=JourneyTrigger.choices)
    trigger_config = models.JSONField(
        default=dict,
        blank=True,
        help_text="event: {event_type}; segment_*: {segment_id}; date: {attribute, days_before}; "
        "schedule: {segment_id, hour}.",
    )
    goal_event = models.CharField(
        max_length=32, blank=True, help_text="An event type that ends the journey (e.g. purchase)."
    )
    reentry_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Enter again this many days after the last entry; empty: never again.",
    )
    steps = models.JSONField(default=list)
    scanned_until = models.DateTimeField(
        null=True, blank=True, help_text="Triggers are looked for after this moment."
    )
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class JourneyEnrollment(models.Model):
    """One customer's pass through a journey: where they are and when they move on."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="enrollments")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    state = models.CharField(
        max_length=16, choices=EnrollmentState.choices, default=EnrollmentState.ACTIVE
    )
    step = models.CharField(max_length=64, blank=True, help_text="The step to run next.")
    next_run_at = models.DateTimeField(help_text="When the next step runs.")
    entered_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    context = models.JSONField(
        default=dict, blank=True, help_text="What triggered it (event, product) and cart items."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["journey", "customer"],
                condition=models.Q(state="active"),
                name="journey_one_active_enrollment",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_run_at"],
                name="journey_due",
                condition=models.Q(state="active"),
            ),
            models.Index(fields=["journey", "customer", "entered_at"], name="journey_entries"),
        ]

    def __str__(self) -> str:
        return f"{self.journey_id}/{self.customer_id} at {self.step} ({self.state})"


class JourneyStepRun(models.Model):
    """A step done for an enrollment, once (unique): what makes re-running a step after a
    crash harmless, and what the per-step counts are made of."""

    enrollment = models.ForeignKey(
        JourneyEnrollment, on_delete=models.CASCADE, related_name="step_runs"
    )
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="step_runs")
    step = models.CharField(max_length=64)
    outcome = models.CharField(max_length=64, blank=True, help_text="yes/no, branch, sent ...")
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "step"], name="journey_step_once"),
        ]
        indexes = [models.Index(fields=["journey", "step"], name="journey_step_counts")]

    def __str__(self) -> str:
        return f"{self.enrollment_id}:{self.step}"
