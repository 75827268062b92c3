"""Query parameters of the customer list: declared and validated here, applied by the selector."""

import django_filters

from apps.customers.choices import AcquisitionChannel, ConsentPurpose
from apps.customers.models import Customer
from apps.customers.selectors import SORTABLE_FIELDS


class CustomerFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        field_name="search",
        max_length=200,
        help_text="Matches external id, email, name, phone or city (case-insensitive).",
    )
    country = django_filters.CharFilter(
        field_name="country", max_length=2, help_text="ISO 3166-1 alpha-2 country, e.g. DE."
    )
    channel = django_filters.ChoiceFilter(
        field_name="channel",
        choices=[(value, label) for value, label in AcquisitionChannel.choices if value],
        help_text="Acquisition channel.",
    )
    has_email = django_filters.BooleanFilter(
        field_name="has_email", help_text="true: only customers with an email; false: without."
    )
    consent = django_filters.ChoiceFilter(
        field_name="consent_purpose",
        choices=ConsentPurpose.choices,
        help_text="Only customers whose consent in force for this purpose is granted.",
    )
    ordering = django_filters.ChoiceFilter(
        field_name="order_by",
        choices=[(value, value) for value in sorted(SORTABLE_FIELDS)],
        help_text="Sort order; `-` for descending. Default: newest sign-ups first.",
    )

    class Meta:
        model = Customer
        fields: list[str] = []
