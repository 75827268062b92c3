"""Forms of the insights pages."""

from __future__ import annotations

from django import forms

from apps.core.web.forms import bootstrap_style
from apps.insights.engine.sentiment import ADAPTER, FULL

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class _Styled(forms.Form):
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        bootstrap_style(self)


class AnalyzeForm(_Styled):
    text = forms.CharField(
        max_length=20_000,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "Paste a review or post, English or Chinese"}
        ),
        help_text="Nothing is stored.",
    )


class CategoryForm(_Styled):
    name = forms.CharField(max_length=60, help_text="e.g. complaint, question, delivery issue.")
    description = forms.CharField(max_length=255, required=False)
    examples = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="One example text per line (2-50), English or Chinese. Texts similar to these fall in the category.",
    )
    threshold = forms.FloatField(
        min_value=0.05,
        max_value=0.9,
        help_text="How similar a text must be (0.05-0.9, default 0.2). Higher: fewer, surer matches.",
    )
    is_active = forms.BooleanField(required=False, label="Active")

    def clean_examples(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["examples"].splitlines() if line.strip()]


class TrainForm(_Styled):
    file = forms.FileField(
        help_text="CSV with a header row: a text column and a label column (positive, negative, neutral)."
    )
    text_column = forms.CharField(initial="text", max_length=100)
    label_column = forms.CharField(initial="label", max_length=100)
    mode = forms.ChoiceField(
        choices=[(ADAPTER, "Adapter (LoRA): fine on CPU"), (FULL, "Full fine-tuning: GPU workers")],
        initial=ADAPTER,
    )
    epochs = forms.IntegerField(min_value=1, max_value=20, initial=2)

    def clean_file(self):  # type: ignore[no-untyped-def]
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 50 MB.")
        return upload
