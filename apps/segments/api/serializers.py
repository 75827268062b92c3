"""Shapes of the segments API: segments, their members, history, sizes, previews and
explanations. Definitions are validated by the service (every problem with its JSON path)."""

from __future__ import annotations

from rest_framework import serializers

from apps.segments.models import (
    CustomerScores,
    MembershipChange,
    Segment,
    SegmentKind,
    SegmentMembership,
    SegmentMembershipEvent,
    SegmentSize,
)

DEFINITION_HELP = (
    'The condition tree of a dynamic segment: a group {"type": "group", "operator": '
    '"and"|"or", "negate": false, "conditions": [...]} of groups and conditions '
    "(property, score, event, order, order_date, event_date, segment, consent). See "
    "docs/segments.md."
)


class SegmentSerializer(serializers.ModelSerializer):
    """A segment with its size and freshness."""

    created_by = serializers.StringRelatedField(
        help_text="User who created it; null for keys and commands."
    )
    # Plain text, not an enum: drf-spectacular would clash with the other apps' `kind` enums.
    kind = serializers.CharField(help_text="dynamic (follows its definition) or static (a list).")

    class Meta:
        model = Segment
        fields = [
            "id",
            "name",
            "description",
            "kind",
            "definition",
            "status",
            "error",
            "member_count",
            "last_refreshed_at",
            "last_refresh_seconds",
            "upload_report",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "Segment id (the path key)."},
            "name": {"help_text": "Unique name."},
            "description": {"help_text": "What the segment is for."},
            "kind": {"help_text": "dynamic (follows its definition) or static (a list)."},
            "definition": {"help_text": DEFINITION_HELP + " Empty for static segments."},
            "status": {"help_text": "pending, ready, refreshing or failed."},
            "error": {"help_text": "Why the last refresh failed, if it did."},
            "member_count": {"help_text": "Members now."},
            "last_refreshed_at": {"help_text": "When the members were last computed in full."},
            "last_refresh_seconds": {"help_text": "Duration of that refresh, in seconds."},
            "upload_report": {
                "help_text": "Static segments: rows, matched, duplicates, unknown_count and "
                "unknown [{row, value}] of the last list or CSV."
            },
            "created_at": {"help_text": "When it was created."},
            "updated_at": {"help_text": "When it last changed."},
        }


class SegmentListQuerySerializer(serializers.Serializer):
    search = serializers.CharField(
        required=False, default="", help_text="Part of the name or description."
    )
    kind = serializers.ChoiceField(
        choices=SegmentKind.choices, required=False, default="", help_text="dynamic or static."
    )


class SegmentCreateSerializer(serializers.Serializer):
    """A new segment: a definition (dynamic) or a list of customer ids (static)."""

    name = serializers.CharField(max_length=120, help_text="Unique name.")
    description = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="What the segment is for."
    )
    kind = serializers.CharField(
        required=False,
        allow_null=True,
        default=None,
        help_text="dynamic or static; by default static when customer_external_ids are given.",
    )
    definition = serializers.JSONField(
        required=False, allow_null=True, default=None, help_text=DEFINITION_HELP
    )
    customer_external_ids = serializers.ListField(
        child=serializers.CharField(max_length=128, help_text="A customer's external id."),
        required=False,
        allow_null=True,
        default=None,
        max_length=1_000_000,
        help_text="Static segments: the customers' external ids (or aliases); unknown ids are "
        "reported by position in upload_report.",
    )


class SegmentUpdateSerializer(serializers.Serializer):
    """Fields to change; a new definition recomputes the members."""

    name = serializers.CharField(max_length=120, required=False, help_text="New name.")
    description = serializers.CharField(
        required=False, allow_blank=True, help_text="New description."
    )
    definition = serializers.JSONField(required=False, help_text=DEFINITION_HELP)


class SegmentPreviewSerializer(serializers.Serializer):
    """A definition to evaluate without saving it."""

    definition = serializers.JSONField(help_text=DEFINITION_HELP)
    sample_size = serializers.IntegerField(
        min_value=0, max_value=100, default=10, help_text="Customers to return (0-100)."
    )


class PreviewCustomerSerializer(serializers.Serializer):
    external_id = serializers.CharField(help_text="The customer's external id.")
    email = serializers.CharField(help_text="Email ('' when unknown).")
    first_name = serializers.CharField(help_text="First name.")
    last_name = serializers.CharField(help_text="Last name.")
    country = serializers.CharField(help_text="ISO country code.")
    city = serializers.CharField(help_text="City.")


class DescriptionLineSerializer(serializers.Serializer):
    depth = serializers.IntegerField(help_text="Nesting level, 0 for the top group.")
    text = serializers.CharField(help_text="The node in plain words.")


class SegmentPreviewResultSerializer(serializers.Serializer):
    """Size and sample of a definition now."""

    count = serializers.IntegerField(help_text="Customers the definition selects now.")
    total_customers = serializers.IntegerField(help_text="Customers in the shop.")
    sample = PreviewCustomerSerializer(many=True, help_text="Some of them, newest first.")
    description = DescriptionLineSerializer(many=True, help_text="The definition in words.")
    seconds = serializers.FloatField(help_text="How long the count took.")


class MemberTraitsSerializer(serializers.ModelSerializer):
    """A member's main scores (the full set: GET /api/v1/customers/{external_id})."""

    class Meta:
        model = CustomerScores
        fields = [
            "churn_risk",
            "purchase_propensity",
            "clv_12m",
            "p_alive",
            "rfm_cell",
            "lifecycle_stage",
            "cluster",
            "cluster_name",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "churn_risk": {"help_text": "P(no purchase in the churn model's horizon), 0-1."},
            "purchase_propensity": {"help_text": "P(purchase in the model's horizon), 0-1."},
            "clv_12m": {"help_text": "Predicted 12-month CLV (BG/NBD + Gamma-Gamma)."},
            "p_alive": {"help_text": "P(still a customer), 0-1 (BG/NBD)."},
            "rfm_cell": {"help_text": "Named RFM cell, e.g. champions, at_risk ('' if none)."},
            "lifecycle_stage": {"help_text": "prospect, new, active ... lapsed ('' if none)."},
            "cluster": {"help_text": "Cluster number (null if none)."},
            "cluster_name": {"help_text": "Generated name of the cluster ('' if none)."},
        }


class MemberSerializer(serializers.ModelSerializer):
    """A member of a segment, with their main scores."""

    external_id = serializers.CharField(
        source="customer.external_id", help_text="The customer's external id."
    )
    email = serializers.CharField(source="customer.email", help_text="Email ('' when unknown).")
    first_name = serializers.CharField(source="customer.first_name", help_text="First name.")
    last_name = serializers.CharField(source="customer.last_name", help_text="Last name.")
    country = serializers.CharField(source="customer.country", help_text="ISO country code.")
    traits = MemberTraitsSerializer(
        source="customer.scores",
        read_only=True,
        allow_null=True,
        help_text="Churn risk, propensity, CLV, P(alive), RFM cell, lifecycle, cluster; null "
        "before any score is computed for the customer.",
    )

    class Meta:
        model = SegmentMembership
        fields = ["external_id", "email", "first_name", "last_name", "country", "since", "traits"]
        extra_kwargs = {"since": {"help_text": "When the customer entered the segment."}}


class MemberQuerySerializer(serializers.Serializer):
    search = serializers.CharField(
        required=False, default="", help_text="Part of the external id, email or name."
    )


class HistorySerializer(serializers.ModelSerializer):
    """A customer entering or leaving the segment."""

    external_id = serializers.CharField(
        source="customer.external_id", help_text="The customer's external id."
    )
    kind = serializers.CharField(help_text="entered or exited.")

    class Meta:
        model = SegmentMembershipEvent
        fields = ["id", "external_id", "kind", "at"]
        extra_kwargs = {
            "id": {"help_text": "History id, increasing: poll with ?after_id= for new ones."},
            "kind": {"help_text": "entered or exited."},
            "at": {"help_text": "When the refresh saw the change."},
        }


class HistoryQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=MembershipChange.choices,
        required=False,
        default="",
        help_text="entered or exited.",
    )
    external_id = serializers.CharField(
        required=False, default="", help_text="Only this customer's entries and exits."
    )


class SizeSerializer(serializers.ModelSerializer):
    """A segment's size on a day."""

    class Meta:
        model = SegmentSize
        fields = ["day", "member_count", "entered", "exited"]
        extra_kwargs = {
            "day": {"help_text": "Calendar day."},
            "member_count": {"help_text": "Members after that day's last refresh."},
            "entered": {"help_text": "Customers who entered that day."},
            "exited": {"help_text": "Customers who left that day."},
        }


class RefreshResultSerializer(serializers.Serializer):
    """What a refresh changed."""

    segment_id = serializers.IntegerField(help_text="Segment id.")
    member_count = serializers.IntegerField(help_text="Members after the refresh.")
    entered = serializers.IntegerField(help_text="Customers who entered.")
    exited = serializers.IntegerField(help_text="Customers who left.")
    seconds = serializers.FloatField(help_text="How long it took.")


class UploadSerializer(serializers.Serializer):
    """A CSV of customer ids for a static segment."""

    file = serializers.FileField(
        help_text="CSV with a column external_id (or customer_id), or one column of ids "
        "without a header."
    )
    mode = serializers.ChoiceField(
        choices=[("replace", "Replace the members"), ("add", "Add to the members")],
        default="replace",
        help_text="replace (default) or add.",
    )


class UnknownIdSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Row number (the header is row 1).")
    value = serializers.CharField(help_text="The id that matched no customer.")


class UploadReportSerializer(serializers.Serializer):
    """What an upload matched."""

    source = serializers.CharField(help_text="csv or list.")
    rows = serializers.IntegerField(help_text="Ids read.")
    matched = serializers.IntegerField(help_text="Distinct customers matched.")
    duplicates = serializers.IntegerField(help_text="Ids given more than once.")
    unknown_count = serializers.IntegerField(help_text="Ids that matched no customer.")
    unknown = UnknownIdSerializer(many=True, help_text="The first 1,000 of them, by row.")


class ConditionExplanationSerializer(serializers.Serializer):
    path = serializers.CharField(help_text="JSON path of the node ('' for the top group).")
    description = serializers.CharField(help_text="The node in plain words.")
    matched = serializers.BooleanField(help_text="Whether it holds for the customer.")
    actual = serializers.CharField(help_text="The customer's value ('' for groups).")
    depth = serializers.IntegerField(help_text="Nesting level.")
    is_group = serializers.BooleanField(help_text="A group (AND/OR) rather than a condition.")


class ExplanationSerializer(serializers.Serializer):
    """Why a customer is (or is not) in a segment."""

    segment_id = serializers.IntegerField(help_text="Segment id.")
    segment_name = serializers.CharField(help_text="Segment name.")
    kind = serializers.CharField(help_text="dynamic or static.")
    is_member = serializers.BooleanField(help_text="In the stored membership now.")
    member_since = serializers.DateTimeField(
        allow_null=True, help_text="When the customer entered; null if not a member."
    )
    matches = serializers.BooleanField(help_text="Whether the definition holds right now.")
    conditions = ConditionExplanationSerializer(many=True, help_text="Every node, depth first.")
    note = serializers.CharField(help_text="Anything to know (static list, stale membership).")
