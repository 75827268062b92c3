"""Forms of the data quality interfaces."""

from __future__ import annotations

from django import forms

from apps.quality.choices import Entity


class CleaningStartForm(forms.Form):
    entities = forms.MultipleChoiceField(
        choices=Entity.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Entities to clean and report on; none ticked means all of them.",
    )
