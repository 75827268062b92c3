"""Factories for import jobs (with a small stored file) and their failed rows."""

from __future__ import annotations

import hashlib

import factory

from apps.imports.choices import ImportFormat, ImportKind, ImportStatus, ImportTrigger
from apps.imports.models import ImportJob, ImportRowError

CUSTOMERS_CSV = b"external_id,email\nc-1,ann@example.com\nc-2,not-an-email\n"


class ImportJobFactory(factory.django.DjangoModelFactory):
    """A finished customers import of a two-row CSV, one row of which failed."""

    class Meta:
        model = ImportJob

    kind = ImportKind.CUSTOMERS
    status = ImportStatus.SUCCEEDED
    file = factory.django.FileField(data=CUSTOMERS_CSV, filename="customers.csv")
    original_filename = "customers.csv"
    file_size = len(CUSTOMERS_CSV)
    sha256 = hashlib.sha256(CUSTOMERS_CSV).hexdigest()
    format = ImportFormat.CSV
    delimiter = ","
    columns = factory.LazyFunction(lambda: ["external_id", "email"])
    mapping = factory.LazyFunction(lambda: {"external_id": "external_id", "email": "email"})
    rows_total = 2
    rows_processed = 2
    rows_created = 1
    rows_failed = 1
    trigger = ImportTrigger.API
    attempts = 1


class ImportRowErrorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportRowError

    job = factory.SubFactory(ImportJobFactory)
    row_number = 3
    column = "email"
    field = "email"
    reason = "email: Enter a valid email address."
    values = factory.LazyFunction(lambda: ["c-2", "not-an-email"])
