"""Forms of the customer pages: the list's search and filters."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.customers.choices import AcquisitionChannel, ConsentPurpose

YES_NO = [("", "Any"), ("yes", "Has email"), ("no", "No email")]
SORT_CHOICES = [
    ("-signup_at", "Newest sign-ups"),
    ("signup_at", "Oldest sign-ups"),
    ("last_name", "Last name A-Z"),
    ("-last_name", "Last name Z-A"),
    ("email", "Email A-Z"),
]


class CustomerFilterForm(forms.Form):
    """Search box and filters of the customer list; every field is optional."""

    q = forms.CharField(required=False, max_length=200, label="Search")
    country = forms.ChoiceField(required=False, label="Country")
    channel = forms.ChoiceField(
        required=False,
        label="Acquisition channel",
        choices=[("", "Any channel")]
        + [(value, label) for value, label in AcquisitionChannel.choices if value],
    )
    has_email = forms.TypedChoiceField(
        required=False,
        label="Email",
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        empty_value=None,
    )
    consent = forms.ChoiceField(
        required=False,
        label="Consent",
        choices=[("", "Any consent")]
        + [(value, f"{label}: granted") for value, label in ConsentPurpose.choices],
    )
    order_by = forms.ChoiceField(required=False, label="Sort", choices=SORT_CHOICES)

    def __init__(self, *args: Any, countries: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "Any country")] + [
            (code, code) for code in countries
        ]
        for name in ("country", "channel", "has_email", "consent", "order_by"):
            self.fields[name].widget.attrs["class"] = "form-select"

    def selector_filters(self) -> dict[str, Any]:
        """Keyword arguments for `customer_list`; an invalid field filters nothing."""
        self.is_valid()  # fills cleaned_data with the fields that are valid
        data = self.cleaned_data
        return {
            "search": data.get("q") or "",
            "country": data.get("country") or "",
            "channel": data.get("channel") or "",
            "has_email": data.get("has_email"),
            "consent_purpose": data.get("consent") or "",
            "order_by": data.get("order_by") or "-signup_at",
        }

    @property
    def is_filtered(self) -> bool:
        filters = self.selector_filters()
        return any(value not in ("", None, "-signup_at") for value in filters.values())
