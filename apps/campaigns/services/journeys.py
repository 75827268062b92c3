"""Journeys: triggered automation run by Celery with idempotent steps.

Every minute `journeys_tick` looks for new triggers (events received, new customers, segment
entries and exits, dates such as birthdays, the daily schedule) after each active journey's
watermark and enrolls those customers (re-entry rules apply), then runs every enrollment
whose next step is due. A step's effect and its JourneyStepRun row (unique per enrollment and
step) are written in one transaction, so a step re-run after a crash does nothing twice; an
email step queues a message on the step's own campaign, which the campaign senders deliver
(guards, tracking, at-most-once). Before each step the goal event is checked: a customer who
reached it leaves the journey.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.utils import timezone

from apps.accounts.services import audit_log_record
from apps.campaigns.choices import (
    CampaignStatus,
    EnrollmentState,
    JourneyStatus,
    JourneyTrigger,
    MessageStatus,
)
from apps.campaigns.engine.assignment import unit_hash
from apps.campaigns.engine.journeys import TEMPLATES, graph_problems, step_map
from apps.campaigns.engine.send_time import next_send_time
from apps.campaigns.models import (
    Campaign,
    CampaignMessage,
    Journey,
    JourneyEnrollment,
    JourneyStepRun,
)
from apps.campaigns.services.content import content_compile, message_preview
from apps.campaigns.services.coupons import coupon_offer, program_get
from apps.campaigns.services.guards import skip_reasons
from apps.campaigns.services.planning import customer_zone_for, quiet_hours, quiet_hours_end
from apps.catalog.selectors import products_by_ids
from apps.core.errors import Conflict, DomainError, ValidationFailed
from apps.customers.selectors import (
    customer_all_ids,
    customer_ids_created_between,
    customer_ids_with_date,
)
from apps.customers.services import customer_update
from apps.events.selectors import (
    customer_cart_product_ids,
    customer_has_event_since,
    event_trigger_rows,
)
from apps.segments.selectors import segment_change_customer_ids, segment_member_customer_ids
from apps.segments.services.segments import definition_members

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT = 10
WEBHOOK_RETRY = timedelta(minutes=5)
WEBHOOK_ATTEMPTS = 5
BATCH = 200


def _problems_raise(steps: Any) -> None:
    problems = graph_problems(steps)
    if problems:
        first = problems[0]
        raise ValidationFailed(
            "; ".join(str(problem) for problem in problems[:5]), field=first.path
        )


def _trigger_check(trigger: str, config: dict[str, Any]) -> None:
    if trigger not in JourneyTrigger.values:
        raise ValidationFailed(
            f"trigger: one of {', '.join(JourneyTrigger.values)}", field="trigger"
        )
    if trigger == JourneyTrigger.EVENT and not config.get("event_type"):
        raise ValidationFailed("trigger_config.event_type: required", field="trigger_config")
    if trigger in (JourneyTrigger.SEGMENT_ENTRY, JourneyTrigger.SEGMENT_EXIT) and not config.get(
        "segment_id"
    ):
        raise ValidationFailed("trigger_config.segment_id: required", field="trigger_config")
    if trigger == JourneyTrigger.DATE and config.get("attribute") not in (
        "birth_date",
        "signup_at",
    ):
        raise ValidationFailed(
            "trigger_config.attribute: birth_date or signup_at", field="trigger_config"
        )
    if config.get("condition"):
        definition_members(definition=config["condition"], customer_ids=[])


@transaction.atomic
def journey_create(
    *,
    name: str = "",
    template: str = "",
    trigger: str = "",
    trigger_config: dict[str, Any] | None = None,
    goal_event: str = "",
    reentry_days: int | None = None,
    steps: list[dict[str, Any]] | None = None,
    description: str = "",
    actor: Any = None,
) -> Journey:
    """A draft journey, from a shipped template (its fields are the defaults) or from scratch.
    Steps are checked now (every problem by JSON path); content when it is activated."""
    base: dict[str, Any] = {}
    if template:
        if template not in TEMPLATES:
            raise ValidationFailed(f"template: one of {', '.join(TEMPLATES)}", field="template")
        base = json.loads(json.dumps(TEMPLATES[template]))
    journey = Journey(
        name=(name or base.get("name", "")).strip(),
        description=description or base.get("description", ""),
        template=template,
        trigger=trigger or base.get("trigger", ""),
        trigger_config=trigger_config
        if trigger_config is not None
        else base.get("trigger_config", {}),
        goal_event=goal_event or base.get("goal_event", ""),
        reentry_days=reentry_days if reentry_days is not None else base.get("reentry_days"),
        steps=steps if steps is not None else base.get("steps", []),
    )
    if not journey.name:
        raise ValidationFailed("name: required", field="name")
    _trigger_check(journey.trigger, journey.trigger_config)
    _problems_raise(journey.steps)
    journey.save()
    audit_log_record(action="journey.create", target=f"journey:{journey.pk}", actor=actor)
    return journey


@transaction.atomic
def journey_update(*, journey: Journey, changes: dict[str, Any], actor: Any = None) -> Journey:
    """Change a draft or paused journey. Steps that customers are waiting at must stay."""
    journey = Journey.objects.select_for_update().get(pk=journey.pk)
    if journey.status not in (JourneyStatus.DRAFT, JourneyStatus.PAUSED):
        raise Conflict("status: pause the journey before changing it", field="status")
    allowed = {
        "name",
        "description",
        "trigger",
        "trigger_config",
        "goal_event",
        "reentry_days",
        "steps",
    }
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationFailed(f"{unknown[0]}: not an editable field", field=unknown[0])
    for name, value in changes.items():
        setattr(journey, name, value)
    _trigger_check(journey.trigger, journey.trigger_config)
    _problems_raise(journey.steps)
    waiting = set(
        journey.enrollments.filter(state=EnrollmentState.ACTIVE).values_list("step", flat=True)
    )
    missing = waiting - set(step_map(journey.steps))
    if missing:
        raise Conflict(
            f"steps: customers are waiting at {', '.join(sorted(missing))}; keep those steps",
            field="steps",
        )
    journey.save()
    audit_log_record(action="journey.update", target=f"journey:{journey.pk}", actor=actor)
    return journey


def _email_campaign(journey: Journey, step: dict[str, Any]) -> Campaign:
    campaign = Campaign.objects.filter(journey=journey, journey_step=step["id"]).first()
    if campaign is None:
        campaign = Campaign(journey=journey, journey_step=step["id"], all_customers=False)
    campaign.name = f"{journey.name} · {step['id']}"[:200]
    campaign.subject = step["subject"]
    campaign.html_body = step["html_body"]
    campaign.status = CampaignStatus.SENDING
    campaign.respect_quiet_hours = bool(step.get("respect_quiet_hours", True))
    campaign.utm_campaign = f"journey-{journey.pk}-{step['id']}"[:100]
    now = timezone.now()
    campaign.planned_at = campaign.planned_at or now  # never planned from an audience
    campaign.started_at = campaign.started_at or now
    return campaign


@transaction.atomic
def journey_activate(*, journey: Journey, actor: Any = None) -> Journey:
    """Start the journey: its content is checked (every email renders, coupon programs and
    the trigger's segment exist) and triggers after this moment enroll customers."""
    journey = Journey.objects.select_for_update().get(pk=journey.pk)
    if journey.status not in (JourneyStatus.DRAFT, JourneyStatus.PAUSED):
        raise Conflict(f"status: a {journey.status} journey cannot be activated", field="status")
    _trigger_check(journey.trigger, journey.trigger_config)
    _problems_raise(journey.steps)
    for index, step in enumerate(journey.steps):
        where = f"steps[{index}]"
        try:
            if step["type"] == "email":
                campaign = _email_campaign(journey, step)
                content_compile(campaign)
                message_preview(campaign=campaign, customer=None)
                campaign.save()
            elif step["type"] == "coupon":
                program_get(key=step["program"])
            elif step["type"] == "condition":
                definition_members(definition=step["condition"], customer_ids=[])
        except DomainError as error:
            message = error.message.split(": ", 1)[-1] if ": " in error.message else error.message
            raise ValidationFailed(f"{where}: {message}", field=where) from None
    now = timezone.now()
    if journey.status == JourneyStatus.DRAFT or journey.scanned_until is None:
        journey.scanned_until = now
    journey.status = JourneyStatus.ACTIVE
    journey.activated_at = journey.activated_at or now
    journey.save()
    Campaign.objects.filter(journey=journey).update(status=CampaignStatus.SENDING)
    audit_log_record(action="journey.activate", target=f"journey:{journey.pk}", actor=actor)
    return journey


def journey_pause(*, journey: Journey, actor: Any = None) -> Journey:
    """Nobody enters and nobody moves on until it is activated again (then triggers that
    arrived meanwhile are picked up)."""
    if not Journey.objects.filter(pk=journey.pk, status=JourneyStatus.ACTIVE).update(
        status=JourneyStatus.PAUSED
    ):
        raise Conflict(f"status: a {journey.status} journey cannot be paused", field="status")
    audit_log_record(action="journey.pause", target=f"journey:{journey.pk}", actor=actor)
    journey.refresh_from_db()
    return journey


@transaction.atomic
def journey_archive(*, journey: Journey, actor: Any = None) -> Journey:
    """Stop for good: everyone still in it leaves; queued emails are not sent."""
    now = timezone.now()
    Journey.objects.filter(pk=journey.pk).update(status=JourneyStatus.ARCHIVED)
    journey.enrollments.filter(state=EnrollmentState.ACTIVE).update(
        state=EnrollmentState.EXITED, ended_at=now
    )
    Campaign.objects.filter(journey=journey).update(status=CampaignStatus.CANCELLED)
    audit_log_record(action="journey.archive", target=f"journey:{journey.pk}", actor=actor)
    journey.refresh_from_db()
    return journey


# --------------------------------------------------------------------------- triggers
def _trigger_customers(
    journey: Journey, since: datetime, until: datetime
) -> dict[int, dict[str, Any]]:
    """customer id -> context (what triggered them) for triggers in (since, until]."""
    config = journey.trigger_config or {}
    found: dict[int, dict[str, Any]] = {}
    if journey.trigger == JourneyTrigger.EVENT:
        rows = event_trigger_rows(
            event_type=config["event_type"], received_after=since, received_until=until
        )
        products = products_by_ids(product_ids={p for _, _, p in rows if p is not None})
        for customer_id, occurred_at, product_id in rows:
            context: dict[str, Any] = {"event": config["event_type"], "at": occurred_at.isoformat()}
            if product_id in products:
                sku, title = products[product_id]
                context["product"] = {"sku": sku, "title": title}
            found[customer_id] = context  # the latest wins
    elif journey.trigger == JourneyTrigger.SIGNUP:
        found = {
            pk: {"event": "signup"} for pk in customer_ids_created_between(since=since, until=until)
        }
    elif journey.trigger in (JourneyTrigger.SEGMENT_ENTRY, JourneyTrigger.SEGMENT_EXIT):
        kind = "entered" if journey.trigger == JourneyTrigger.SEGMENT_ENTRY else "exited"
        ids = segment_change_customer_ids(
            segment_id=int(config["segment_id"]), kind=kind, since=since, until=until
        )
        found = {pk: {"event": f"segment_{kind}"} for pk in ids}
    else:  # date and schedule: once a day, at or after `hour` (site time)
        local_until = timezone.localtime(until)
        day_start = local_until.replace(
            hour=int(config.get("hour", 0)), minute=0, second=0, microsecond=0
        )
        if not (since < day_start <= until):
            return {}
        if journey.trigger == JourneyTrigger.DATE:
            day = (local_until + timedelta(days=int(config.get("days_before", 0)))).date()
            ids = customer_ids_with_date(
                attribute=config["attribute"], month=day.month, day=day.day
            )
            found = {pk: {"event": config["attribute"], "date": day.isoformat()} for pk in ids}
        else:
            segment_id = config.get("segment_id")
            ids = list(
                segment_member_customer_ids(segment_id=int(segment_id)).values_list(
                    "customer_id", flat=True
                )
                if segment_id
                else customer_all_ids().values_list("id", flat=True)
            )
            found = {pk: {"event": "schedule"} for pk in ids}
    if found and config.get("condition"):
        keep = definition_members(definition=config["condition"], customer_ids=found.keys())
        found = {pk: context for pk, context in found.items() if pk in keep}
    return found


def journey_enroll(
    *, journey: Journey, contexts: dict[int, dict[str, Any]], now: datetime | None = None
) -> int:
    """Enroll customers (id -> trigger context) who may enter: none is in it now, and their
    last entry is older than the re-entry days (never again without them). Returns how many."""
    now = now or timezone.now()
    if not contexts or not journey.steps:
        return 0
    last_entries = dict(
        JourneyEnrollment.objects.filter(journey=journey, customer_id__in=list(contexts))
        .values("customer_id")
        .annotate(last=Max("entered_at"))
        .values_list("customer_id", "last")
    )
    rows = []
    for customer_id, context in contexts.items():
        last = last_entries.get(customer_id)
        if last is not None and (
            journey.reentry_days is None or now - last < timedelta(days=journey.reentry_days)
        ):
            continue
        rows.append(
            JourneyEnrollment(
                journey=journey, customer_id=customer_id, step=str(journey.steps[0]["id"]),
                next_run_at=now, entered_at=now, context=context,
            )
        )  # fmt: skip
    created = JourneyEnrollment.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return len(created)


def journeys_scan(*, now: datetime | None = None) -> int:
    """Enroll the customers of every active journey's new triggers; returns how many."""
    now = now or timezone.now()
    enrolled = 0
    for journey in Journey.objects.filter(status=JourneyStatus.ACTIVE):
        since = journey.scanned_until or journey.activated_at or now
        if since >= now:
            continue
        contexts = _trigger_customers(journey, since, now)
        with transaction.atomic():
            enrolled += journey_enroll(journey=journey, contexts=contexts, now=now)
            Journey.objects.filter(pk=journey.pk).update(scanned_until=now)
    return enrolled


# --------------------------------------------------------------------------- steps
@dataclass
class StepOutcome:
    next_step: str | None  # None: the journey ends here
    outcome: str
    wait_until: datetime | None = None  # set: stay on `next_step` until then
    state: str = EnrollmentState.ACTIVE


def _wait(step: dict[str, Any], enrollment: JourneyEnrollment, now: datetime) -> datetime:
    until = now + timedelta(hours=float(step.get("hours") or 0), days=float(step.get("days") or 0))
    if step.get("until_hour") is not None:
        until = next_send_time(
            int(step["until_hour"]), not_before=until, zone=customer_zone_for(enrollment.customer)
        )
    return until


def _email_step(step: dict[str, Any], enrollment: JourneyEnrollment, now: datetime) -> str:
    campaign = Campaign.objects.get(journey_id=enrollment.journey_id, journey_step=step["id"])
    customer = enrollment.customer
    if "journey.cart" in step.get("html_body", "") or "journey.cart" in step.get("subject", ""):
        ids = customer_cart_product_ids(
            customer_id=customer.pk, since=enrollment.entered_at - timedelta(days=1)
        )
        products = products_by_ids(product_ids=ids)
        enrollment.context["cart"] = [
            {"sku": products[pk][0], "title": products[pk][1]} for pk in ids if pk in products
        ]
        JourneyEnrollment.objects.filter(pk=enrollment.pk).update(context=enrollment.context)
    reason = skip_reasons({customer.pk: customer.email}, now=now).get(customer.pk, "")
    send_after = min(now, timezone.now())
    if campaign.respect_quiet_hours:
        send_after = quiet_hours_end(send_after, customer_zone_for(customer), quiet_hours())
    CampaignMessage.objects.create(
        campaign=campaign,
        customer=customer,
        enrollment=enrollment,
        email=customer.email.lower(),
        status=MessageStatus.SKIPPED if reason else MessageStatus.PENDING,
        skip_reason=reason,
        send_after=send_after,
    )
    if not reason:
        from apps.campaigns.tasks import senders_start

        transaction.on_commit(lambda: senders_start(campaign.pk))
    return f"skipped:{reason}" if reason else "queued"


def _webhook(step: dict[str, Any], enrollment: JourneyEnrollment) -> str:
    customer = enrollment.customer
    body = json.dumps(
        {
            "journey_id": enrollment.journey_id,
            "step": step["id"],
            "customer_id": customer.external_id,
            "email": customer.email,
            "context": enrollment.context,
        }
    ).encode()
    request = urllib.request.Request(
        step["url"],
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Idempotency-Key": f"journey-{enrollment.pk}-{step['id']}",
        },
    )
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as response:  # noqa: S310
        return f"http:{response.status}"


def _run_step(
    step: dict[str, Any], enrollment: JourneyEnrollment, done: bool, now: datetime
) -> StepOutcome:
    kind = step["type"]
    following = step.get("next") or None
    if kind == "wait":
        if done:  # the wait is over
            return StepOutcome(following, "waited")
        return StepOutcome(step["id"], "waiting", wait_until=_wait(step, enrollment, now))
    if kind == "condition":
        matched = enrollment.customer_id in definition_members(
            definition=step["condition"], customer_ids=[enrollment.customer_id], now=now
        )
        return StepOutcome(step["yes"] if matched else step["no"], "yes" if matched else "no")
    if kind == "split":
        branches = step["branches"]
        point = unit_hash(
            f"journey:{enrollment.journey_id}:{step['id']}", str(enrollment.customer_id)
        )
        total = sum(float(b.get("weight", 1)) for b in branches)
        cumulative = 0.0
        for index, branch in enumerate(branches):
            cumulative += float(branch.get("weight", 1)) / total
            if point < cumulative or index == len(branches) - 1:
                return StepOutcome(branch["next"], f"branch:{index}")
    if kind == "email":
        return StepOutcome(following, _email_step(step, enrollment, now))
    if kind == "coupon":
        offer = coupon_offer(
            program=program_get(key=step["program"]), customer_id=enrollment.customer_id
        )
        if offer is not None:
            enrollment.context["coupon"] = {"code": offer.code, "label": offer.label}
            JourneyEnrollment.objects.filter(pk=enrollment.pk).update(context=enrollment.context)
        return StepOutcome(following, "issued" if offer else "none")
    if kind == "webhook":
        return StepOutcome(following, _webhook(step, enrollment))
    if kind == "update_attribute":
        customer = enrollment.customer
        attributes = dict(customer.attributes or {})
        if step["value"] is None:
            attributes.pop(step["attribute"], None)
        else:
            attributes[step["attribute"]] = step["value"]
        customer_update(external_id=customer.external_id, changes={"attributes": attributes})
        return StepOutcome(following, "updated")
    return StepOutcome(None, "exit", state=EnrollmentState.EXITED)


def _advance(enrollment: JourneyEnrollment, journey: Journey, now: datetime) -> None:
    """Run the enrollment's due steps until it waits or ends."""
    steps = step_map(journey.steps)
    # the goal, checked once per run: nothing the steps of one run do can reach it
    if journey.goal_event and customer_has_event_since(
        customer_id=enrollment.customer_id,
        event_type=journey.goal_event,
        since=enrollment.entered_at,
    ):
        JourneyEnrollment.objects.filter(pk=enrollment.pk).update(
            state=EnrollmentState.GOAL, ended_at=now
        )
        return
    for _ in range(len(steps) + 1):
        found = steps.get(enrollment.step)
        step: dict[str, Any] = dict(found) if found is not None else {}
        if found is None:  # the step was removed: end here
            JourneyEnrollment.objects.filter(pk=enrollment.pk).update(
                state=EnrollmentState.COMPLETED, ended_at=now
            )
            return
        try:
            with transaction.atomic():
                run, created = JourneyStepRun.objects.get_or_create(
                    enrollment=enrollment, step=step["id"],
                    defaults={"journey": journey, "at": now, "outcome": "running"},
                )  # fmt: skip
                done = not created
                if done and step["type"] == "wait":
                    JourneyStepRun.objects.filter(pk=run.pk).update(outcome="waited")
                if done and step["type"] != "wait":
                    # a crash after the step's commit: its effect is there; follow its outcome
                    result = _replayed(step, run.outcome)
                else:
                    result = _run_step(step, enrollment, done=done, now=now)
                    if created:
                        JourneyStepRun.objects.filter(pk=run.pk).update(outcome=result.outcome[:64])
                changes: dict[str, Any] = {"step": result.next_step or ""}
                if result.wait_until is not None:
                    changes["next_run_at"] = result.wait_until
                elif result.next_step is None or result.state != EnrollmentState.ACTIVE:
                    changes["state"] = (
                        result.state if result.state != EnrollmentState.ACTIVE
                        else EnrollmentState.COMPLETED
                    )  # fmt: skip
                    changes["ended_at"] = now
                JourneyEnrollment.objects.filter(pk=enrollment.pk).update(**changes)
        except (urllib.error.URLError, OSError, ValueError) as error:
            if step["type"] != "webhook":
                raise
            attempts = int(enrollment.context.get("webhook_attempts", 0)) + 1
            enrollment.context["webhook_attempts"] = attempts
            retry = attempts < WEBHOOK_ATTEMPTS
            JourneyEnrollment.objects.filter(pk=enrollment.pk).update(
                context=enrollment.context,
                next_run_at=now + WEBHOOK_RETRY * attempts,
                **({} if retry else {"state": EnrollmentState.EXITED, "ended_at": now}),
            )
            logger.warning("Journey %s webhook %s failed: %s", journey.pk, step["id"], error)
            return
        if result.wait_until is not None or "state" in changes:
            return
        enrollment.step = result.next_step or ""


def _replayed(step: dict[str, Any], outcome: str) -> StepOutcome:
    """Where a step already done leads (its stored outcome decides branches)."""
    if step["type"] == "condition":
        return StepOutcome(step["yes"] if outcome == "yes" else step["no"], outcome)
    if step["type"] == "split" and outcome.startswith("branch:"):
        return StepOutcome(step["branches"][int(outcome.split(":")[1])]["next"], outcome)
    if step["type"] == "exit":
        return StepOutcome(None, outcome, state=EnrollmentState.EXITED)
    return StepOutcome(step.get("next") or None, outcome)


def journeys_run_due(*, now: datetime | None = None, limit: int = 5000) -> int:
    """Run every active enrollment whose next step is due (in batches, rows claimed with
    SKIP LOCKED so two workers never run the same one); returns how many ran."""
    now = now or timezone.now()
    ran = 0
    while ran < limit:
        with transaction.atomic():
            batch = list(
                JourneyEnrollment.objects.select_for_update(skip_locked=True)
                .select_related("customer", "journey")
                .filter(
                    state=EnrollmentState.ACTIVE,
                    next_run_at__lte=now,
                    journey__status=JourneyStatus.ACTIVE,
                )
                .order_by("next_run_at", "id")[:BATCH]
            )
            if not batch:
                break
            for enrollment in batch:
                _advance(enrollment, enrollment.journey, now)
                ran += 1
        if len(batch) < BATCH:
            break
    return ran


def journeys_tick(*, now: datetime | None = None) -> dict[str, int]:
    """What the every-minute task does: enroll new triggers, then run what is due."""
    now = now or timezone.now()
    enrolled = journeys_scan(now=now)
    return {"enrolled": enrolled, "ran": journeys_run_due(now=now)}


# --------------------------------------------------------------------------- counts
def journey_step_counts(*, journey: Journey) -> dict[str, dict[str, Any]]:
    """step id -> {done: n, outcomes: {outcome: n}, waiting: n} for the builder page."""
    counts: dict[str, dict[str, Any]] = {
        str(step["id"]): {"done": 0, "outcomes": {}, "waiting": 0} for step in journey.steps
    }
    for step, outcome, count in (
        JourneyStepRun.objects.filter(journey=journey)
        .values("step", "outcome")
        .annotate(count=Count("id"))
        .values_list("step", "outcome", "count")
    ):
        entry = counts.setdefault(step, {"done": 0, "outcomes": {}, "waiting": 0})
        entry["done"] += count
        entry["outcomes"][outcome] = entry["outcomes"].get(outcome, 0) + count
    for step, count in (
        journey.enrollments.filter(state=EnrollmentState.ACTIVE)
        .values("step")
        .annotate(count=Count("id"))
        .values_list("step", "count")
    ):
        counts.setdefault(step, {"done": 0, "outcomes": {}, "waiting": 0})["waiting"] = count
    return counts


def journey_state_counts(*, journey: Journey) -> dict[str, int]:
    rows = (
        journey.enrollments.values("state")
        .annotate(count=Count("id"))
        .values_list("state", "count")
    )
    return {state: 0 for state in EnrollmentState.values} | dict(rows)


__all__ = [
    "IntegrityError",
    "journey_activate",
    "journey_archive",
    "journey_create",
    "journey_enroll",
    "journey_pause",
    "journey_state_counts",
    "journey_step_counts",
    "journey_update",
    "journeys_run_due",
    "journeys_scan",
    "journeys_tick",
]
