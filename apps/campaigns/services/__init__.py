"""Writes of the campaigns app, split by sub-domain; import from here.

campaigns:  a campaign's life (create, launch, pause, resume, cancel, run, summary)
planning:   the audience turned into one message row per customer (guards, holdout, variants)
sending:    batches claimed, re-checked and sent at most once; auto-pause
transport:  one email through Django's backend, marked sent just before delivery
content:    templates compiled and rendered per customer, tracked links, plain text
tracking:   signed open / click / unsubscribe addresses and what a hit records
guards:     consent, unsubscribes, suppression and the frequency cap
preferences: unsubscribe and re-subscribe from an email
events:     email interactions stored as events on the customer
"""

from apps.campaigns.services.campaigns import (
    DEFAULT_HTML,
    EDITABLE_FIELDS,
    RunResult,
    campaign_cancel,
    campaign_create,
    campaign_launch,
    campaign_pause,
    campaign_resume,
    campaign_run,
    campaign_summary,
    campaign_test_send,
    campaign_update,
    campaign_validate,
    campaign_variants_set,
    message_preview,
)
from apps.campaigns.services.planning import campaign_plan
from apps.campaigns.services.preferences import (
    email_resubscribe,
    email_unsubscribe,
    preferences_get,
)
from apps.campaigns.services.sending import campaign_send_batches, sent_events_record
from apps.campaigns.services.tracking import click_record, open_record

__all__ = [
    "DEFAULT_HTML",
    "EDITABLE_FIELDS",
    "campaign_test_send",
    "campaign_update",
    "campaign_variants_set",
    "RunResult",
    "campaign_cancel",
    "campaign_create",
    "campaign_launch",
    "campaign_pause",
    "campaign_plan",
    "campaign_resume",
    "campaign_run",
    "campaign_send_batches",
    "campaign_summary",
    "campaign_validate",
    "click_record",
    "email_resubscribe",
    "email_unsubscribe",
    "message_preview",
    "open_record",
    "preferences_get",
    "sent_events_record",
]
