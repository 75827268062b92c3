"""Writes of the customers app, split by sub-domain; import from here.

profiles: customer profiles, aliases and consent decisions
identity: matching customers by email/phone/external ids, merge and split back
resolve:  bulk id resolution for event ingestion (ensure, link aliases, traits)
bulk:     streaming bulk upserts of customers for imports and ingestion
"""

from apps.customers.services.bulk import customer_bulk_ensure
from apps.customers.services.profiles import (
    ALIAS_KINDS,
    PROFILE_FIELDS,
    consent_record,
    customer_alias_add,
    customer_create,
    customer_update,
)
from apps.customers.services.resolve import (
    customer_aliases_link,
    customer_traits_apply_many,
)

__all__ = [
    "ALIAS_KINDS",
    "PROFILE_FIELDS",
    "consent_record",
    "customer_alias_add",
    "customer_create",
    "customer_update",
    "customer_aliases_link",
    "customer_bulk_ensure",
    "customer_traits_apply_many",
]
