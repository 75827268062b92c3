"""Forms of the recommendations pages: a placement's rules, the try-it query, the run picker.

The forms check shape only (numbers in range, "SKU = amount" lines); whether SKUs and category
slugs exist is the placement service's check, whose error the view puts under the field.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.forms.boundfield import BoundField

from apps.core.web.forms import bootstrap_style
from apps.recommendations.models import MAX_ITEMS

SEPARATORS = re.compile(r"[\s,]+")
AMOUNT_LINE = re.compile(r"^(?P<key>[^=:\s]+)\s*[=:]\s*(?P<amount>\S+)$")
LIST_FIELDS = ("include_categories", "exclude_categories", "pinned_skus")
AMOUNT_FIELDS = ("boosts", "category_boosts")


def _words(text: str) -> list[str]:
    return [word for word in SEPARATORS.split(text or "") if word]


def _amounts(text: str) -> dict[str, float]:
    """ "SKU = 0.2" lines (":" works too, commas separate as well) to {SKU: 0.2}."""
    amounts: dict[str, float] = {}
    for number, raw in enumerate(re.split(r"[\n,;]+", text or ""), start=1):
        line = raw.strip()
        if not line:
            continue
        match = AMOUNT_LINE.match(line)
        if match is None:
            raise forms.ValidationError(
                f"Line {number} ({line!r}): write it as KEY = amount, e.g. SKU-1 = 0.2."
            )
        try:
            amounts[match["key"]] = float(match["amount"])
        except ValueError:
            raise forms.ValidationError(
                f"Line {number}: {match['amount']!r} is not a number (use -1 to 1)."
            ) from None
    return amounts


def field_message(name: str, message: str) -> str:
    """A service message without its leading field name ("pinned_skus[1]: no product ..."
    -> "No product ...")."""
    if not message.startswith(name):
        return message
    rest = re.sub(r"^\[\d+\]", "", message[len(name) :]).lstrip(".:").strip()
    return rest[:1].upper() + rest[1:] if rest else message


def amounts_text(amounts: dict[str, Any] | None) -> str:
    """{SKU: 0.2} as the form's "SKU = 0.2" lines."""
    return "\n".join(f"{key} = {value:g}" for key, value in (amounts or {}).items())


class StyledBoundField(BoundField):
    """A field whose widget is marked `is-invalid` (Bootstrap's red outline) when it has errors."""

    def build_widget_attrs(self, attrs: dict[str, Any], widget: Any = None) -> dict[str, Any]:
        attrs = super().build_widget_attrs(attrs, widget)
        if self.errors:
            base = (widget or self.field.widget).attrs.get("class", "")
            attrs["class"] = f"{base} is-invalid".strip()
        return attrs


class PlacementForm(forms.Form):
    """A placement and its rules, as `placement_create` / `placement_update` take them."""

    bound_field_class = StyledBoundField

    key = forms.SlugField(
        max_length=64,
        help_text="What the shop sends as ?placement=, e.g. home or cart. Letters, digits, - and _.",
    )
    name = forms.CharField(max_length=120, help_text="Readable name, e.g. Home page carousel.")
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Where and how it is shown.",
    )
    default_count = forms.IntegerField(
        min_value=1,
        max_value=MAX_ITEMS,
        initial=10,
        label="List length",
        help_text=f"Returned when a request gives no n (1-{MAX_ITEMS}).",
    )
    diversity = forms.FloatField(
        min_value=0.0,
        max_value=1.0,
        initial=0.3,
        help_text="0 = most relevant first, 1 = most varied (MMR). A request's diversity wins.",
    )
    exclude_purchased_days = forms.IntegerField(
        min_value=0,
        max_value=3650,
        initial=90,
        label="Leave out purchases of the last",
        help_text="Items the customer bought in this window are not shown (0 = never).",
    )
    exclude_out_of_stock = forms.BooleanField(
        required=False, initial=True, label="Leave out products with no stock"
    )
    include_categories = forms.CharField(
        required=False,
        label="Only these categories",
        help_text="Category slugs, separated by commas or spaces (subcategories included); "
        "empty = the whole catalogue.",
    )
    exclude_categories = forms.CharField(
        required=False,
        label="Never these categories",
        help_text="Category slugs never shown here (subcategories included).",
    )
    pinned_skus = forms.CharField(
        required=False,
        label="Pinned SKUs",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown first, in this order, when available and not excluded.",
    )
    boosts = forms.CharField(
        required=False,
        label="SKU boosts",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "SKU-1 = 0.3\nSKU-2 = -0.5"}),
        help_text="One per line: SKU = amount from -1 to 1, added to its relevance (0-1); "
        "negative buries it.",
    )
    category_boosts = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "sale = 0.2"}),
        help_text="One per line: category slug = amount from -1 to 1, for its products.",
    )
    is_active = forms.BooleanField(
        required=False,
        initial=True,
        label="Active",
        help_text="An inactive placement answers with the default rules.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bootstrap_style(self)
        self.fields["diversity"].widget.attrs["step"] = "0.05"

    def clean_include_categories(self) -> list[str]:
        return _words(self.cleaned_data["include_categories"])

    def clean_exclude_categories(self) -> list[str]:
        return _words(self.cleaned_data["exclude_categories"])

    def clean_pinned_skus(self) -> list[str]:
        return _words(self.cleaned_data["pinned_skus"])

    def clean_boosts(self) -> dict[str, float]:
        return _amounts(self.cleaned_data["boosts"])

    def clean_category_boosts(self) -> dict[str, float]:
        return _amounts(self.cleaned_data["category_boosts"])

    @classmethod
    def initial_from(cls, placement: Any) -> dict[str, Any]:
        """The form's initial values from a saved placement."""
        return {
            "key": placement.key,
            "name": placement.name,
            "description": placement.description,
            "default_count": placement.default_count,
            "diversity": placement.diversity,
            "exclude_purchased_days": placement.exclude_purchased_days,
            "exclude_out_of_stock": placement.exclude_out_of_stock,
            "include_categories": ", ".join(placement.include_categories or []),
            "exclude_categories": ", ".join(placement.exclude_categories or []),
            "pinned_skus": "\n".join(placement.pinned_skus or []),
            "boosts": amounts_text(placement.boosts),
            "category_boosts": amounts_text(placement.category_boosts),
            "is_active": placement.is_active,
        }

    def add_service_error(self, field: str | None, message: str) -> None:
        """A service's error under its field, without the field's name it starts with:
        "boosts.SKU-9: no product with this SKU" shows under SKU boosts as "SKU-9: no ..."."""
        name = re.split(r"[.\[]", field or "", maxsplit=1)[0]
        if name not in self.fields:
            self.add_error(None, message)
            return
        self.add_error(name, field_message(name, message))


class TryForm(forms.Form):
    """Who to recommend for, and the request's optional overrides (as the API's query)."""

    bound_field_class = StyledBoundField

    customer = forms.CharField(
        max_length=128,
        label="Customer or visitor id",
        help_text="A customer's external id (or alias), or any anonymous id: unknown ids get "
        "what a new visitor gets.",
    )
    category = forms.ChoiceField(
        required=False, help_text="Only products of this category (with its subcategories)."
    )
    n = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ITEMS,
        label="Items",
        help_text="Default: the placement's.",
    )
    diversity = forms.FloatField(
        required=False, min_value=0.0, max_value=1.0, help_text="0-1; default: the placement's."
    )

    def __init__(self, *args: Any, categories: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "All categories"), *categories]
        bootstrap_style(self)
        self.fields["diversity"].widget.attrs["step"] = "0.05"
        self.fields["customer"].widget.attrs.update(
            {"placeholder": "cust-000042 or an anonymous id", "autocomplete": "off"}
        )

    def query(self) -> dict[str, Any]:
        """The service's keyword arguments."""
        values = self.cleaned_data
        return {
            "identifier": values["customer"],
            "category": values.get("category") or "",
            "n": values.get("n"),
            "diversity": values.get("diversity"),
        }

    def add_service_error(self, field: str | None, message: str) -> None:
        name = {"customer_id": "customer"}.get(field or "", field or "")
        if name not in self.fields:
            self.add_error(None, message)
            return
        self.add_error(name, field_message(field or "", message))


class ReportChoiceForm(forms.Form):
    """Which run's evaluation the comparison shows (empty: the champion's)."""

    run = forms.IntegerField(required=False, min_value=1)
    days = forms.TypedChoiceField(
        required=False, coerce=int, choices=[(7, "7 days"), (30, "30 days"), (90, "90 days")]
    )
