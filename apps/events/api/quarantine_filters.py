"""Query parameters of the quarantine list (applied by `selectors.quarantine_list`)."""

import django_filters

from apps.events.choices import QuarantineKind, QuarantineStatus
from apps.events.models import QuarantinedMessage


class QuarantineFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        field_name="status",
        choices=QuarantineStatus.choices,
        help_text="open, replayed or discarded; every status when left out.",
    )
    kind = django_filters.ChoiceFilter(
        field_name="kind",
        choices=QuarantineKind.choices,
        help_text="rejected, conflict or malformed.",
    )
    source = django_filters.CharFilter(
        field_name="source", max_length=64, help_text="Source the messages were sent under."
    )
    search = django_filters.CharFilter(
        field_name="search",
        max_length=200,
        help_text="Part of the message id or of the error (case-insensitive), or #<entry id>.",
    )

    class Meta:
        model = QuarantinedMessage
        fields: list[str] = []
