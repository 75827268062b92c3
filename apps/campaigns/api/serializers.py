"""Shapes of the campaigns API: campaigns with their audience and variants, actions, previews
and the report. Rules (what may change when) live in the services."""

from __future__ import annotations

from rest_framework import serializers

from apps.campaigns.choices import CampaignStatus
from apps.campaigns.models import Campaign, CampaignVariant


class VariantSerializer(serializers.ModelSerializer):
    class Meta:
        model = CampaignVariant
        fields = ["key", "weight", "subject", "html_body", "optimize_send_time"]
        extra_kwargs = {
            "key": {"help_text": "Short name (A, B, ...); the first variant is the control."},
            "weight": {"help_text": "Relative share of the audience."},
            "subject": {"help_text": "Subject of this variant; empty: the campaign's."},
            "html_body": {"help_text": "Content of this variant; empty: the campaign's."},
            "optimize_send_time": {
                "help_text": "true/false: this arm's send time (a send-time experiment); "
                "null: as the campaign."
            },
        }


class CampaignSerializer(serializers.ModelSerializer):
    """A campaign as stored, with its audience, variants and live counts."""

    segment_ids = serializers.PrimaryKeyRelatedField(
        source="segments", many=True, read_only=True, help_text="Audience segments."
    )
    excluded_segment_ids = serializers.PrimaryKeyRelatedField(
        source="excluded_segments", many=True, read_only=True, help_text="Excluded segments."
    )
    variants = VariantSerializer(many=True, read_only=True)
    owner = serializers.StringRelatedField(help_text="Who is responsible for it.")

    class Meta:
        model = Campaign
        fields = [
            "id", "name", "channel", "status", "owner", "all_customers", "segment_ids",
            "excluded_segment_ids", "subject", "preheader", "from_email", "html_body",
            "text_body", "webhook_url", "scheduled_at", "recurrence", "send_rate",
            "holdout_percent", "respect_quiet_hours", "optimize_send_time", "ignore_frequency_cap",
            "winner_metric", "test_percent", "winner_wait_hours", "winner", "winner_note", "utm_source",
            "utm_medium", "utm_campaign", "bounce_pause_rate", "complaint_pause_rate", "cost",
            "variants", "planned_at", "started_at", "finished_at", "paused_reason",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class CampaignWriteSerializer(serializers.Serializer):
    """Fields to create or change; left out: unchanged (or the default when creating)."""

    name = serializers.CharField(max_length=200, required=False)
    subject = serializers.CharField(max_length=250, required=False, allow_blank=True)
    preheader = serializers.CharField(max_length=250, required=False, allow_blank=True)
    from_email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    html_body = serializers.CharField(required=False, allow_blank=True)
    text_body = serializers.CharField(required=False, allow_blank=True)
    channel = serializers.ChoiceField(choices=["email", "webhook"], required=False)
    webhook_url = serializers.URLField(required=False, allow_blank=True)
    all_customers = serializers.BooleanField(required=False)
    segment_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    excluded_segment_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    variants = VariantSerializer(many=True, required=False)
    send_rate = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    holdout_percent = serializers.IntegerField(min_value=0, max_value=50, required=False)
    respect_quiet_hours = serializers.BooleanField(required=False)
    optimize_send_time = serializers.BooleanField(required=False)
    winner_metric = serializers.ChoiceField(
        choices=["", "open", "click", "conversion"], required=False, allow_blank=True
    )
    test_percent = serializers.IntegerField(min_value=1, max_value=100, required=False)
    winner_wait_hours = serializers.IntegerField(min_value=1, required=False)
    ignore_frequency_cap = serializers.BooleanField(required=False)
    utm_source = serializers.CharField(max_length=100, required=False, allow_blank=True)
    utm_medium = serializers.CharField(max_length=100, required=False, allow_blank=True)
    utm_campaign = serializers.CharField(max_length=100, required=False, allow_blank=True)
    bounce_pause_rate = serializers.FloatField(min_value=0, max_value=1, required=False)
    complaint_pause_rate = serializers.FloatField(min_value=0, max_value=1, required=False)
    cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)


class CampaignListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=CampaignStatus.choices, required=False, default="", help_text="Only this status."
    )
    search = serializers.CharField(required=False, default="", help_text="Part of the name.")


class LaunchSerializer(serializers.Serializer):
    at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="When to send; empty: now."
    )


class PreviewSerializer(serializers.Serializer):
    customer_id = serializers.CharField(
        required=False, default="", help_text="External id of the customer to render as."
    )
    variant = serializers.CharField(required=False, default="", help_text="Variant key.")


class TestSendSerializer(PreviewSerializer):
    to = serializers.EmailField(help_text="Where to send the test.")


class RenderedSerializer(serializers.Serializer):
    subject = serializers.CharField()
    html = serializers.CharField()
    text = serializers.CharField()


class ReportSerializer(serializers.Serializer):
    """The campaign report (see docs/campaigns.md)."""

    campaign_id = serializers.IntegerField()
    window_days = serializers.IntegerField(help_text="Attribution window in days.")
    funnel = serializers.DictField(help_text="targeted, sent, delivered, opened, clicked, ...")
    arms = serializers.ListField(child=serializers.DictField(), help_text="Variants, holdout.")
    variant_tests = serializers.ListField(child=serializers.DictField())
    holdout_tests = serializers.ListField(child=serializers.DictField())
    attribution = serializers.ListField(child=serializers.DictField())
    incremental_conversions = serializers.FloatField(allow_null=True)
    incremental_revenue = serializers.FloatField(allow_null=True)
    cost = serializers.FloatField()
    roi = serializers.FloatField(allow_null=True)
    notes = serializers.ListField(child=serializers.CharField())


class CouponProgramSerializer(serializers.ModelSerializer):
    class Meta:
        from apps.campaigns.models import CouponProgram

        model = CouponProgram
        fields = [
            "key", "name", "shared_code", "code_prefix", "discount_type", "value",
            "min_order_total", "valid_days", "ends_at", "budget", "max_issued", "target",
            "min_propensity", "max_propensity", "min_clv", "holdout_percent", "is_active",
            "created_at",
        ]  # fmt: skip
        read_only_fields = ["created_at"]


class IssueSerializer(serializers.Serializer):
    customer_id = serializers.CharField(help_text="The customer's external id.")


class OfferSerializer(serializers.Serializer):
    code = serializers.CharField(allow_null=True, help_text="null: no code for this customer.")
    label = serializers.CharField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)


class FeedbackSerializer(serializers.Serializer):
    events = serializers.ListField(
        child=serializers.DictField(),
        help_text="[{type, message_id, bounce_type, reason, timestamp}], at most 1,000.",
    )


class FeedbackResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    rejected = serializers.ListField(child=serializers.DictField(), help_text="{index, reason}")
    paused_campaigns = serializers.ListField(child=serializers.IntegerField())


class CouponReportSerializer(serializers.Serializer):
    key = serializers.CharField()
    issued = serializers.IntegerField()
    held_out = serializers.IntegerField()
    redeemed = serializers.IntegerField()
    discount_total = serializers.FloatField()
    redemption_rate = serializers.FloatField(allow_null=True)
    tests = serializers.ListField(child=serializers.DictField(), help_text="Code vs holdout.")
    incremental_buyers = serializers.FloatField(allow_null=True)
    cost_per_incremental_buyer = serializers.FloatField(allow_null=True)


class JourneySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    template = serializers.CharField(allow_blank=True)
    status = serializers.CharField()
    trigger = serializers.CharField()
    trigger_config = serializers.DictField()
    goal_event = serializers.CharField(allow_blank=True)
    reentry_days = serializers.IntegerField(allow_null=True)
    steps = serializers.ListField(child=serializers.DictField())
    states = serializers.DictField(help_text="Enrollments per state.", required=False)
    step_counts = serializers.DictField(
        help_text="step id -> {done, outcomes, waiting}.", required=False
    )


class JourneyWriteSerializer(serializers.Serializer):
    template = serializers.CharField(
        required=False, allow_blank=True, help_text="A shipped template."
    )
    name = serializers.CharField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    trigger = serializers.CharField(required=False, allow_blank=True)
    trigger_config = serializers.DictField(required=False)
    goal_event = serializers.CharField(required=False, allow_blank=True)
    reentry_days = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    steps = serializers.ListField(child=serializers.DictField(), required=False)
