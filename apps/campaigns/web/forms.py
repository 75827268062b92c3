"""Forms of the campaign pages: the campaign (audience, content, test, sending), the preview
customer and the test send. Rules on what may change when are the services'."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.campaigns.choices import Recurrence, WinnerMetric
from apps.campaigns.models import Campaign

TEXT = {"class": "form-control"}
CHECK = {"class": "form-check-input"}


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=200, widget=forms.TextInput(TEXT))
    subject = forms.CharField(
        max_length=250,
        widget=forms.TextInput(TEXT),
        help_text='Template language works: Hi {{ customer.first_name|default:"there" }}.',
    )
    subject_b = forms.CharField(
        label="Subject B (A/B test)",
        max_length=250,
        required=False,
        widget=forms.TextInput(TEXT),
        help_text="Fill in to test a second subject: half the audience gets each.",
    )
    subject_c = forms.CharField(
        label="Subject C", max_length=250, required=False, widget=forms.TextInput(TEXT)
    )
    winner_metric = forms.ChoiceField(
        label="Automatic winner",
        choices=WinnerMetric.choices,
        required=False,
        widget=forms.Select({"class": "form-select"}),
        help_text="Send the test to a share first, then the winner to the rest.",
    )
    test_percent = forms.IntegerField(
        label="Test group", min_value=1, max_value=100, initial=20, required=False,
        widget=forms.NumberInput(TEXT),
    )  # fmt: skip
    winner_wait_hours = forms.IntegerField(
        label="Decide within", min_value=1, initial=4, required=False,
        widget=forms.NumberInput(TEXT),
        help_text="As soon as significant; at the latest after this many hours.",
    )  # fmt: skip
    preheader = forms.CharField(max_length=250, required=False, widget=forms.TextInput(TEXT))
    all_customers = forms.BooleanField(
        label="Everyone (every customer who may get marketing email)",
        required=False,
        widget=forms.CheckboxInput(CHECK),
    )
    segments = forms.MultipleChoiceField(
        required=False,
        widget=forms.SelectMultiple({"class": "form-select", "size": 6}),
        help_text="Members of any of these segments.",
    )
    excluded_segments = forms.MultipleChoiceField(
        label="Never send to",
        required=False,
        widget=forms.SelectMultiple({"class": "form-select", "size": 6}),
    )
    holdout_percent = forms.IntegerField(
        label="Holdout",
        min_value=0,
        max_value=50,
        initial=10,
        widget=forms.NumberInput(TEXT),
        help_text="Share of the audience that gets nothing, to measure the real uplift.",
    )
    html_body = forms.CharField(
        label="Content (HTML)",
        widget=forms.Textarea({**TEXT, "rows": 14, "class": "form-control font-monospace small"}),
        help_text=(
            '{{ customer.first_name }}, {% if %} blocks, {% recommendations n=4 placement="email" %}, '
            "{{ unsubscribe_url }} and {{ preferences_url }}. Links get UTM parameters and click "
            "tracking; the plain-text part is generated."
        ),
    )
    respect_quiet_hours = forms.BooleanField(
        label="Wait for the end of quiet hours in each customer's time zone",
        required=False,
        initial=True,
        widget=forms.CheckboxInput(CHECK),
    )
    recurrence = forms.ChoiceField(
        label="Repeat",
        choices=Recurrence.choices,
        required=False,
        widget=forms.Select({"class": "form-select"}),
        help_text="Each run is its own campaign, scheduled when the previous one is done.",
    )
    optimize_send_time = forms.BooleanField(
        label="Send at each customer's best hour (learned from their opens and clicks)",
        required=False,
        widget=forms.CheckboxInput(CHECK),
    )
    send_rate = forms.IntegerField(
        label="Messages a second",
        min_value=1,
        required=False,
        widget=forms.NumberInput(TEXT),
        help_text="Per sender; empty: the site default.",
    )
    utm_campaign = forms.CharField(
        label="utm_campaign",
        max_length=100,
        required=False,
        widget=forms.TextInput(TEXT),
        help_text="Empty: the campaign's id and name.",
    )
    cost = forms.DecimalField(
        min_value=0,
        max_digits=12,
        decimal_places=2,
        required=False,
        initial=0,
        widget=forms.NumberInput(TEXT),
        help_text="For the ROI in the report.",
    )

    def __init__(self, *args: Any, segment_choices: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["segments"].choices = segment_choices
        self.fields["excluded_segments"].choices = segment_choices

    @staticmethod
    def initial_for(campaign: Campaign) -> dict[str, Any]:
        variants = list(campaign.variants.all())
        return {
            "name": campaign.name,
            "subject": campaign.subject,
            "subject_b": variants[1].subject if len(variants) > 1 else "",
            "subject_c": variants[2].subject if len(variants) > 2 else "",
            "preheader": campaign.preheader,
            "all_customers": campaign.all_customers,
            "segments": [str(pk) for pk in campaign.segments.values_list("pk", flat=True)],
            "excluded_segments": [
                str(pk) for pk in campaign.excluded_segments.values_list("pk", flat=True)
            ],
            "holdout_percent": campaign.holdout_percent,
            "html_body": campaign.html_body,
            "respect_quiet_hours": campaign.respect_quiet_hours,
            "optimize_send_time": campaign.optimize_send_time,
            "recurrence": campaign.recurrence,
            "send_rate": campaign.send_rate,
            "utm_campaign": campaign.utm_campaign,
            "cost": campaign.cost,
            "winner_metric": campaign.winner_metric,
            "test_percent": campaign.test_percent,
            "winner_wait_hours": campaign.winner_wait_hours,
        }

    def split(self) -> tuple[dict[str, Any], list[int], list[int], list[dict[str, Any]]]:
        """(fields, segment ids, excluded ids, variants) for the services."""
        data = dict(self.cleaned_data)
        segments = [int(pk) for pk in data.pop("segments")]
        excluded = [int(pk) for pk in data.pop("excluded_segments")]
        subjects = [data.pop("subject_b").strip(), data.pop("subject_c").strip()]
        variants: list[dict[str, Any]] = []
        if any(subjects):
            variants = [{"key": "A", "weight": 1}] + [
                {"key": key, "weight": 1, "subject": subject}
                for key, subject in zip("BC", subjects, strict=True)
                if subject
            ]
        if data.get("cost") is None:
            data["cost"] = 0
        data["test_percent"] = data.get("test_percent") or 20
        data["winner_wait_hours"] = data.get("winner_wait_hours") or 4
        return data, segments, excluded, variants


class PreviewForm(forms.Form):
    customer = forms.CharField(
        label="Preview as",
        required=False,
        widget=forms.TextInput({**TEXT, "placeholder": "customer id"}),
    )


class TestSendForm(forms.Form):
    to = forms.EmailField(widget=forms.EmailInput({**TEXT, "placeholder": "you@example.com"}))
    customer = forms.CharField(required=False, widget=forms.HiddenInput())


class CouponProgramForm(forms.ModelForm):
    class Meta:
        from apps.campaigns.models import CouponProgram

        model = CouponProgram
        fields = [
            "key", "name", "discount_type", "value", "min_order_total", "valid_days",
            "code_prefix", "shared_code", "budget", "max_issued", "target", "min_propensity",
            "max_propensity", "min_clv", "holdout_percent",
        ]  # fmt: skip
        labels = {"min_clv": "Min 12-month CLV", "holdout_percent": "Holdout"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
