"""Journeys: triggers enroll, steps run once each (waits, conditions, splits, emails,
coupons, attributes, exits), the goal ends them, re-entry rules, the graph is checked."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.campaigns.engine.journeys import graph_problems
from apps.campaigns.models import CampaignMessage, Coupon, JourneyEnrollment, JourneyStepRun
from apps.campaigns.services import campaign_run
from apps.campaigns.services.coupons import coupon_program_create
from apps.campaigns.services.journeys import (
    journey_activate,
    journey_create,
    journey_step_counts,
    journeys_tick,
)
from apps.campaigns.tests.factories import subscriber
from apps.catalog.tests.factories import ProductFactory
from apps.core.errors import ValidationFailed
from apps.customers.models import Customer
from apps.events.tests.factories import EventFactory, OrderFactory

pytestmark = pytest.mark.django_db


def _cart_event(customer, product, *, at=None):
    at = at or timezone.now()
    return EventFactory(
        customer=customer, product=product, event_type="add_to_cart", occurred_at=at,
        received_at=at,
    )  # fmt: skip


def test_abandoned_cart_reminds_with_the_cart_then_a_code_and_stops_at_purchase(
    smtp_sink, settings
):
    # given the abandoned-cart template, its coupon program, and two shoppers
    settings.CAMPAIGNS_QUIET_HOURS = ""
    coupon_program_create(key="cart-10", name="Cart", value=Decimal("10"), holdout_percent=0)
    journey = journey_create(template="abandoned_cart")
    journey_activate(journey=journey)
    start = timezone.now()
    hat = ProductFactory(title="Green hat")
    ann, bo = subscriber(first_name="Ann"), subscriber(first_name="Bo")
    _cart_event(ann, hat, at=start + timedelta(seconds=1))
    _cart_event(bo, hat, at=start + timedelta(seconds=1))

    # when the tick sees the add-to-carts: both enter and wait an hour
    ticked = journeys_tick(now=start + timedelta(seconds=5))
    assert ticked["enrolled"] == 2
    assert set(JourneyEnrollment.objects.values_list("step", flat=True)) == {"wait-1h"}

    # an hour later both get the reminder with the cart in it
    journeys_tick(now=start + timedelta(hours=1, seconds=10))
    reminder = journey.email_campaigns.get(journey_step="reminder")
    campaign_run(campaign_id=reminder.pk)
    assert sorted(smtp_sink.recipients()) == sorted([ann.email, bo.email])
    html = smtp_sink.received[0].message().get_body(("html",)).get_content()
    assert "Green hat" in html

    # Bo buys; a day later only Ann gets the code email, and Bo has reached the goal
    OrderFactory(customer=bo, placed_at=start + timedelta(hours=2))
    journeys_tick(now=start + timedelta(days=1, hours=2))
    nudge = journey.email_campaigns.get(journey_step="nudge")
    campaign_run(campaign_id=nudge.pk)
    assert smtp_sink.recipients().count(ann.email) == 2
    assert smtp_sink.recipients().count(bo.email) == 1
    states = dict(JourneyEnrollment.objects.values_list("customer_id", "state"))
    assert states == {ann.pk: "completed", bo.pk: "goal"}
    assert Coupon.objects.get().customer_id == ann.pk
    # the journey's campaigns stay open for the next people
    nudge.refresh_from_db()
    assert nudge.status == "sending"

    # and the counts per step say what happened
    counts = journey_step_counts(journey=journey)
    assert counts["reminder"]["done"] == 2
    assert counts["nudge"]["done"] == 1


def test_a_step_run_again_after_a_crash_does_nothing_twice(smtp_sink, settings):
    settings.CAMPAIGNS_QUIET_HOURS = ""
    journey = journey_create(
        name="Hello", trigger="event", trigger_config={"event_type": "add_to_cart"},
        steps=[{"id": "mail", "type": "email", "subject": "Hi", "html_body": "<p>Hi</p>"}],
    )  # fmt: skip
    journey_activate(journey=journey)
    ann = subscriber()
    _cart_event(ann, ProductFactory(), at=timezone.now() + timedelta(seconds=1))
    journeys_tick(now=timezone.now() + timedelta(seconds=5))
    enrollment = JourneyEnrollment.objects.get()
    assert CampaignMessage.objects.filter(enrollment=enrollment).count() == 1

    # when the enrollment is put back on the step as if the worker died before moving on
    JourneyEnrollment.objects.filter(pk=enrollment.pk).update(state="active", step="mail")
    journeys_tick(now=timezone.now() + timedelta(seconds=6))

    # then no second message was queued
    assert CampaignMessage.objects.filter(enrollment=enrollment).count() == 1
    assert JourneyStepRun.objects.filter(enrollment=enrollment).count() == 1


def test_conditions_splits_attributes_and_exits():
    steps = [
        {"id": "is-de", "type": "condition",
         "condition": {"type": "group", "operator": "and", "conditions": [
             {"type": "property", "field": "country", "operator": "equals", "value": "DE"}]},
         "yes": "split", "no": "out"},
        {"id": "split", "type": "split",
         "branches": [{"weight": 1, "next": "tag-a"}, {"weight": 1, "next": "tag-b"}]},
        {"id": "tag-a", "type": "update_attribute", "attribute": "arm", "value": "a"},
        {"id": "tag-b", "type": "update_attribute", "attribute": "arm", "value": "b"},
        {"id": "out", "type": "exit"},
    ]  # fmt: skip
    journey = journey_create(
        name="Branches", trigger="event", trigger_config={"event_type": "product_view"},
        steps=steps,
    )  # fmt: skip
    journey_activate(journey=journey)
    now = timezone.now()
    germans = [subscriber(country="DE") for _ in range(30)]
    french = subscriber(country="FR")
    for customer in [*germans, french]:
        EventFactory(customer=customer, received_at=now + timedelta(seconds=1))

    journeys_tick(now=now + timedelta(seconds=5))

    arms = [Customer.objects.get(pk=c.pk).attributes.get("arm") for c in germans]
    assert set(arms) == {"a", "b"} and 5 <= arms.count("a") <= 25
    assert "arm" not in Customer.objects.get(pk=french.pk).attributes
    states = dict(JourneyEnrollment.objects.values_list("customer_id", "state"))
    assert states[french.pk] == "exited"
    assert {states[c.pk] for c in germans} == {"completed"}


def test_re_entry_follows_the_rule():
    journey = journey_create(
        name="Once", trigger="event", trigger_config={"event_type": "product_view"},
        steps=[{"id": "tag", "type": "update_attribute", "attribute": "seen", "value": True}],
        reentry_days=None,
    )  # fmt: skip
    journey_activate(journey=journey)
    ann = subscriber()
    now = timezone.now()
    EventFactory(customer=ann, received_at=now + timedelta(seconds=1))
    journeys_tick(now=now + timedelta(seconds=2))
    EventFactory(customer=ann, received_at=now + timedelta(seconds=3))
    journeys_tick(now=now + timedelta(seconds=4))

    assert JourneyEnrollment.objects.filter(customer=ann).count() == 1


def test_bad_graphs_are_refused_naming_the_path():
    with pytest.raises(ValidationFailed) as error:
        journey_create(
            name="Broken", trigger="event", trigger_config={"event_type": "purchase"},
            steps=[{"id": "a", "type": "wait", "next": "nowhere"}],
        )  # fmt: skip
    assert error.value.message.startswith("steps[0]: a wait needs hours")
    assert "steps[0].next: no step with id 'nowhere'" in error.value.message
    assert graph_problems([{"id": "a", "type": "wait", "hours": 1, "next": "a"}])[0].message == (
        "steps loop: a -> a"
    )


def test_activation_refuses_a_missing_coupon_program():
    journey = journey_create(template="birthday")

    with pytest.raises(ValidationFailed) as error:
        journey_activate(journey=journey)

    assert error.value.message.startswith("steps[0]: ")
    assert "coupon program 'birthday' does not exist" in error.value.message


def test_every_template_is_a_valid_journey():
    from apps.campaigns.engine.journeys import TEMPLATES

    for key in TEMPLATES:
        assert journey_create(template=key).steps


def test_inserting_and_removing_steps_keeps_the_graph_whole():
    from apps.campaigns.engine.journeys import TEMPLATES, step_insert_after, step_remove

    steps = TEMPLATES["post_purchase"]["steps"]

    with_tag, tag = step_insert_after(steps, "wait-3d", "update_attribute")
    assert [s["id"] for s in with_tag] == ["wait-3d", tag, "email"]
    assert with_tag[0]["next"] == tag and with_tag[1]["next"] == "email"

    branched, condition = step_insert_after(steps, "email", "condition")
    assert graph_problems(branched) == []
    assert branched[-1]["type"] == "exit"  # a new condition at the end gets somewhere to go

    first_removed = step_remove(steps, "wait-3d")
    assert [s["id"] for s in first_removed] == ["email"] and graph_problems(first_removed) == []
    assert step_remove(with_tag, tag) == [dict(s) for s in steps]
