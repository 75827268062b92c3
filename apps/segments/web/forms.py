"""Forms of the segments pages: the builder's fields, a static list, an upload, a CLV refit."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from apps.segments.services.clv import CLV_DEFAULTS, clv_params_validate

EMPTY_DEFINITION: dict[str, Any] = {"type": "group", "operator": "and", "conditions": []}


class SegmentForm(forms.Form):
    """Name, description and definition (JSON written by the visual builder)."""

    name = forms.CharField(max_length=120, help_text="Unique; shown in campaigns and exports.")
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="What it is for."
    )
    definition = forms.CharField(
        widget=forms.HiddenInput, help_text="The condition tree (see docs/segments.md)."
    )

    def clean_definition(self) -> Any:
        text = self.cleaned_data["definition"]
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(f"The definition is not valid JSON: {error}") from None


class StaticSegmentForm(forms.Form):
    """A static segment from a CSV file or ids pasted one per line."""

    name = forms.CharField(max_length=120, help_text="Unique; shown in campaigns and exports.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    file = forms.FileField(
        required=False,
        help_text="CSV with a column external_id (or customer_id), or one id per line.",
    )
    ids = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "cust-000001\ncust-000002"}),
        help_text="Or paste external ids, one per line (commas work too).",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("file") and not (cleaned.get("ids") or "").strip():
            raise forms.ValidationError("Upload a CSV or paste some customer ids.")
        return cleaned

    def pasted_ids(self) -> list[str] | None:
        text = (self.cleaned_data.get("ids") or "").replace(",", "\n")
        if self.cleaned_data.get("file"):
            return None
        return [line.strip() for line in text.splitlines() if line.strip()]


class UploadForm(forms.Form):
    """New members for a static segment."""

    file = forms.FileField(help_text="CSV with a column external_id, or one id per line.")
    mode = forms.ChoiceField(
        choices=[("replace", "Replace the members"), ("add", "Add to the members")],
        initial="replace",
    )


class MemberSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200)


class ClvRefitForm(forms.Form):
    """Refit the CLV models: the holdout of the diagnostics and the monthly discount rate.

    Blank fields keep the defaults (`CLV_DEFAULTS`); the bounds are the service's
    (`clv_params_validate`), checked again by it, whose message names the field.
    """

    holdout_days = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=730,
        label="Holdout",
        help_text="Days at the end held out to compare predicted and actual purchases "
        "(0: no diagnostics).",
    )
    monthly_discount_rate = forms.FloatField(
        required=False,
        min_value=0,
        max_value=1,
        label="Monthly discount rate",
        help_text="A fraction: 0.01 discounts future (and past) value by 1 % a month.",
    )

    def params(self) -> dict[str, Any]:
        """The filled-in fields as `segments.clv` parameters."""
        return {name: value for name, value in self.cleaned_data.items() if value is not None}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            clv_params_validate({**CLV_DEFAULTS, **self.params()})
        except ValueError as error:
            message = str(error)
            field = next((name for name in self.fields if message.startswith(name)), None)
            self.add_error(field, message)
        return cleaned
