"""Shared form helpers of the web pages."""

from __future__ import annotations

from django import forms


def bootstrap_style(form: forms.Form) -> None:
    """Bootstrap classes on every widget (checkboxes are form-check inputs, selects
    form-select, the rest form-control)."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")
