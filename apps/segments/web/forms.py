"""Forms of the segments pages: the builder's fields, a static list, an upload."""

from __future__ import annotations

import json
from typing import Any

from django import forms

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
