"""Forms of the imports pages (and the admin's upload form)."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from apps.imports.choices import ImportKind

ENCODING_CHOICES = [
    ("utf-8", "UTF-8 (with or without BOM)"),
    ("cp1252", "Windows-1252 (older Excel exports)"),
    ("latin-1", "Latin-1 (ISO-8859-1)"),
]
DELIMITER_CHOICES = [
    ("", "Detect"),
    (",", "Comma ,"),
    (";", "Semicolon ;"),
    ("\t", "Tab"),
    ("|", "Pipe |"),
]


class ImportUploadForm(forms.Form):
    """Choose what the rows are and the file; the mapping page comes next."""

    kind = forms.ChoiceField(
        choices=ImportKind.choices, help_text="What one row (or JSON object) of the file is."
    )
    file = forms.FileField(
        help_text="CSV (any of , ; tab |), a JSON array of objects or JSON Lines; UTF-8."
    )
    encoding = forms.ChoiceField(
        choices=ENCODING_CHOICES,
        initial="utf-8",
        required=False,
        help_text="Of a CSV file. JSON is always UTF-8.",
    )
    delimiter = forms.ChoiceField(
        choices=DELIMITER_CHOICES, required=False, help_text="Of a CSV file; detected by default."
    )


class ImportAdminUploadForm(ImportUploadForm):
    """The admin starts the job at once: the mapping is the suggestion plus these overrides."""

    mapping = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text='Optional JSON {"column in file": "field"} over the suggested mapping; '
        '"-" leaves a column out, "+" keeps it as attribute/property. See docs/imports.md.',
    )

    def clean_mapping(self) -> dict[str, Any] | None:
        raw = self.cleaned_data.get("mapping", "").strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(f"Not valid JSON: {error.msg}") from None
        if not isinstance(value, dict):
            raise forms.ValidationError('Give a JSON object {"column": "field"}')
        return value
