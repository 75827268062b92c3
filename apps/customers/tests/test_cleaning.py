"""The cleaning pipeline's bulk writes on customers: set-based, only allowed fields, and
imputation that never replaces a real value."""

from __future__ import annotations

from datetime import date

import pytest

from apps.core.errors import ValidationFailed
from apps.customers.models import Customer
from apps.customers.services.cleaning import (
    customer_cleaning_frame,
    customer_field_counts,
    customer_fields_write,
    customer_imputation_markers_write,
    customer_imputed_write,
)
from apps.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_fields_write_sets_each_row_its_own_value():
    ada, bob = CustomerFactory(email="A@x.io"), CustomerFactory(email="B@x.io")

    written = customer_fields_write(field="email", values={ada.pk: "a@x.io", bob.pk: "b@x.io"})

    assert written == 2
    assert sorted(Customer.objects.values_list("email", flat=True)) == ["a@x.io", "b@x.io"]


def test_fields_write_in_bulk_when_values_are_all_different(django_assert_max_num_queries):
    customers = CustomerFactory.create_batch(60)
    values = {customer.pk: f"+4930{index:06d}" for index, customer in enumerate(customers)}

    with django_assert_max_num_queries(3):
        written = customer_fields_write(field="phone", values=values)

    assert written == 60
    assert Customer.objects.get(pk=customers[59].pk).phone == "+4930000059"


def test_fields_write_refuses_a_field_the_pipeline_may_not_touch():
    customer = CustomerFactory(external_id="c-1")

    with pytest.raises(ValidationFailed) as error:
        customer_fields_write(field="external_id", values={customer.pk: "c-2"})

    assert error.value.field == "field"
    assert Customer.objects.get(pk=customer.pk).external_id == "c-1"


def test_imputed_write_fills_only_empty_or_previously_imputed_cells():
    empty = CustomerFactory(language="")
    real = CustomerFactory(language="en")
    imputed = CustomerFactory(language="fr", imputed_values={"language": "fr"})

    written = customer_imputed_write(
        field="language", values={empty.pk: "de", real.pk: "de", imputed.pk: "de"}
    )

    assert written == 2
    languages = dict(Customer.objects.values_list("pk", "language"))
    assert languages == {empty.pk: "de", real.pk: "en", imputed.pk: "de"}


def test_imputed_write_refuses_fields_that_are_not_imputable():
    customer = CustomerFactory(gender="")

    with pytest.raises(ValidationFailed):
        customer_imputed_write(field="gender", values={customer.pk: "female"})
    assert Customer.objects.get(pk=customer.pk).gender == ""


def test_markers_write_and_refuses_anything_but_objects():
    customer = CustomerFactory()

    customer_imputation_markers_write(markers={customer.pk: {"language": "de"}})
    with pytest.raises(ValidationFailed):
        customer_imputation_markers_write(markers={customer.pk: ["language"]})

    assert Customer.objects.get(pk=customer.pk).imputed_values == {"language": "de"}


def test_cleaning_frame_and_field_counts():
    CustomerFactory(email="", phone="+4930123", birth_date=date(1990, 1, 1))
    CustomerFactory(email="ada@example.com", phone="")

    frame = customer_cleaning_frame()
    total, filled = customer_field_counts()

    assert len(frame) == 2
    assert list(frame.index) == list(frame["id"])
    assert total == 2
    assert (filled["email"], filled["phone"], filled["birth_date"]) == (1, 1, 1)


def test_cleaned_and_imputed_countries_move_customers_between_segments(
    django_capture_on_commit_callbacks,
):
    from django.core.cache import cache

    from apps.segments.models import SegmentMembership
    from apps.segments.services.segments import TOUCH_PENDING_KEY, segment_create

    # given "Germans", and two customers whose country the pipeline cleans and imputes
    spelled_out, unknown = CustomerFactory(country="XX"), CustomerFactory(country="")
    germans = segment_create(
        name="Germans",
        definition={"type": "group", "operator": "and", "conditions": [
            {"type": "property", "field": "country", "operator": "equals", "value": "DE"}]},
    )  # fmt: skip
    cache.delete(TOUCH_PENDING_KEY)

    # when the writes commit, the touched refresh re-checks just those customers
    with django_capture_on_commit_callbacks(execute=True):
        customer_fields_write(field="country", values={spelled_out.pk: "DE"})
        customer_imputed_write(field="country", values={unknown.pk: "DE"})

    assert set(SegmentMembership.objects.filter(segment=germans).values_list(
        "customer_id", flat=True)) == {spelled_out.pk, unknown.pk}  # fmt: skip
