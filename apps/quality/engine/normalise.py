"""Normalisers of single values. Each returns the normal form, or the value unchanged when it
cannot tell (an unknown country stays as it was and is reported as invalid, never guessed)."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
import pycountry

# Codes people write that ISO 3166 spells differently; pycountry does not know them.
COUNTRY_ALIASES = {"UK": "GB", "EL": "GR"}
# Unambiguous currency symbols and common names that ISO 4217 does not list. "$" and "¥" are
# left out on purpose: they name several currencies.
CURRENCY_ALIASES = {"€": "EUR", "£": "GBP", "₹": "INR", "₩": "KRW", "RMB": "CNY", "US$": "USD"}
# Good enough to tell "user@shop.example" from "user at shop" or "user@": one @, a dot after it.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Already written in E.164: parsing would give it back unchanged (possible or not).
E164_PATTERN = re.compile(r"^\+[1-9]\d{1,14}$")


def text_trim(value: str) -> str:
    """Strip, and collapse runs of whitespace (tabs, newlines, no-break spaces) to one space."""
    return " ".join(value.split())


def text_strip(value: str) -> str:
    """Strip only: long text keeps its line breaks."""
    return value.strip()


def email_normalise(value: str) -> str:
    """Trimmed and lower-cased: mailbox names are case-insensitive in practice everywhere."""
    return value.strip().lower()


def email_is_valid(value: str) -> bool:
    return bool(EMAIL_PATTERN.match(value))


@dataclass(frozen=True)
class PhoneResult:
    """A phone number in E.164 (or the input unchanged), whether it is a possible number, and
    the ISO country its prefix belongs to ("" when shared, e.g. +1 outside the US list)."""

    value: str
    possible: bool
    region: str


@lru_cache(maxsize=65536)
def phone_e164(value: str, default_region: str = "") -> PhoneResult:
    """Parse with `default_region` (the customer's country) for national numbers.

    "Possible" (right length for its country) rather than "valid" (an allocated range): test
    and fictional ranges such as 555-01xx are possible, and we should not drop them.
    """
    text = value.strip()
    if not text:
        return PhoneResult(value=value, possible=False, region="")
    try:
        number = phonenumbers.parse(text, default_region.upper() or None)
    except phonenumbers.NumberParseException:
        return PhoneResult(value=value, possible=False, region="")
    if not phonenumbers.is_possible_number(number):
        return PhoneResult(value=value, possible=False, region="")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return PhoneResult(
        value=e164, possible=True, region=phonenumbers.region_code_for_number(number) or ""
    )


@lru_cache(maxsize=4096)
def country_iso2(value: str) -> str | None:
    """ISO 3166-1 alpha-2 for a code (de, DEU), an English name (Germany) or an alias (UK);
    None when unknown."""
    text = value.strip()
    if not text:
        return None
    upper = text.upper()
    if upper in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[upper]
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        return None


@lru_cache(maxsize=1024)
def currency_iso(value: str) -> str | None:
    """ISO 4217 code for a code (usd), a name (euro) or an unambiguous symbol (€); None when
    unknown."""
    text = value.strip()
    if not text:
        return None
    if text.upper() in CURRENCY_ALIASES:
        return CURRENCY_ALIASES[text.upper()]
    try:
        return str(pycountry.currencies.lookup(text).alpha_3)
    except LookupError:
        return None


def language_normalise(value: str) -> str:
    """Language codes lower-case with a hyphen (EN -> en, zh_CN -> zh-cn)."""
    return value.strip().lower().replace("_", "-")


def category_name_normalise(value: str) -> str:
    """Trim and collapse spaces; a name typed all in lower or upper case gets capital initials
    ("WOMEN'S  dresses" stays mixed, "  women's dresses" -> "Women's Dresses"). Mixed case is
    kept: it was written on purpose ("T-shirts", "iPhone cases")."""
    text = text_trim(value)
    if text and (text.islower() or text.isupper()):
        return string.capwords(text.lower())
    return text


def name_key(value: str) -> str:
    """Comparison key of a name: trimmed, collapsed and case-folded."""
    return text_trim(value).casefold()
