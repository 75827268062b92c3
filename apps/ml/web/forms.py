"""Forms of the ML web UI and admin."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.ml import selectors


class TrainingRunStartForm(forms.Form):
    """Pick a registered kind and (optionally) override its parameters."""

    kind = forms.ChoiceField(help_text="What to train.")
    params = forms.JSONField(
        required=False,
        initial=dict,
        widget=forms.Textarea(attrs={"rows": 3, "class": "font-monospace"}),
        help_text='JSON object of parameters, e.g. {"half_life_days": 14}; {} uses the defaults.',
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(spec.kind, spec.kind) for spec in selectors.kind_list()]

    def clean_params(self) -> dict[str, Any]:
        params = self.cleaned_data.get("params")
        if params in (None, ""):
            return {}
        if not isinstance(params, dict):
            raise forms.ValidationError('Parameters must be a JSON object, e.g. {"seconds": 5}.')
        return params
