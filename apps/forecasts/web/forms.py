"""Forms of the forecasts pages."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms

from apps.core.web.forms import bootstrap_style

MAX_CAMPAIGN_DAYS = 30


class WhatIfForm(forms.Form):
    """A run of consecutive campaign days: start and length."""

    start = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), help_text="First campaign day."
    )
    days = forms.IntegerField(
        min_value=1, max_value=MAX_CAMPAIGN_DAYS, initial=3, help_text="Consecutive days."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bootstrap_style(self)

    def campaign_days(self) -> list[date]:
        start = self.cleaned_data["start"]
        return [start + timedelta(days=k) for k in range(self.cleaned_data["days"])]
