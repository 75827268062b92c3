"""`manage.py import_data`: summary and --json output, progress on stderr, exit statuses."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from apps.customers.models import Customer
from apps.events.models import Order
from apps.imports.models import ImportJob

pytestmark = pytest.mark.django_db

ORDERS = (
    "Order Number,Customer,Date,SKU,Qty,Price\n"
    "1001,c-1,2024-01-02,S-1,2,10.00\n"
    "1001,c-1,2024-01-02,S-2,1,4.50\n"
    "1002,c-2,2024-01-03,S-1,x,10.00\n"
)


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_data", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def orders_file(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS)
    return path


def test_json_prints_one_document_with_counts_and_the_error_file(orders_file):
    out, err = run("--kind", "orders", "--file", str(orders_file), "--json")

    document = json.loads(out)
    job = ImportJob.objects.get()
    assert document["id"] == job.pk
    assert document["status"] == "succeeded"
    assert document["kind"] == "orders"
    assert (document["rows_total"], document["rows_processed"]) == (3, 3)
    assert (document["created"], document["skipped"], document["failed"]) == (2, 0, 1)
    assert document["details"] == {
        "orders_created": 1,
        "orders_failed": 1,
        "customers_created": 1,
        "lines_without_product": 2,
    }
    assert document["mapping"] == {
        "Order Number": "order_id",
        "Customer": "customer_id",
        "Date": "placed_at",
        "SKU": "sku",
        "Qty": "quantity",
        "Price": "unit_price",
    }
    assert document["error_file"] == str(Path(settings.MEDIA_ROOT) / job.error_file.name)
    with open(document["error_file"], newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["row_number"], row["column"], row["reason"]) for row in rows] == [
        ("4", "Qty", "Qty (quantity): 'x' is not a whole number")
    ]
    assert job.trigger == "cli"
    assert job.created_by_label == "command line"
    assert f"Import {job.pk}: orders from {orders_file} (csv)" in err
    assert "rows" in err  # the progress bar


def test_summary_without_json_and_reimport_counts_already_imported(orders_file):
    run("--kind", "orders", "--file", str(orders_file), "--no-progress")

    out, _ = run("--kind", "orders", "--file", str(orders_file), "--no-progress")

    assert out.splitlines()[1] == "  created 0, updated 0, already imported 2, failed 1"
    assert "  orders skipped: 1" in out.splitlines()
    assert Order.objects.count() == 1


def test_mapping_option_overrides_the_suggestion(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("Kundennummer;E-Mail;Notiz\nk-1;k1@example.com;hallo\n")

    out, _ = run(
        "--kind",
        "customers",
        "--file",
        str(path),
        "--mapping",
        "Kundennummer=external_id,Notiz=-",
        "--json",
    )

    document = json.loads(out)
    assert document["mapping"] == {"Kundennummer": "external_id", "E-Mail": "email", "Notiz": ""}
    customer = Customer.objects.get(external_id="k-1")
    assert (customer.email, customer.attributes) == ("k1@example.com", {})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--kind", "planets", "--file", "x.csv"), "--kind: 'planets' is not one of customers, "),
        (("--file", "x.csv"), "--kind is required: one of customers, products"),
        (("--kind", "orders"), "--file is required: the path of the file to import"),
        (("--kind", "orders", "--file", "/nope/missing.csv"), "--file: /nope/missing.csv does "),
        (("--kind", "orders", "--file", "x.csv", "--mapping", "oops"), "--mapping: 'oops' is not"),
    ],
)
def test_bad_arguments_exit_with_a_one_line_reason(args, message, tmp_path):
    (tmp_path / "x.csv").write_text("order_id\n1\n")
    args = tuple(str(tmp_path / arg) if arg == "x.csv" else arg for arg in args)

    with pytest.raises(CommandError) as caught:
        run(*args)

    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
    assert ImportJob.objects.count() == 0


def test_missing_required_columns_exit_with_a_one_line_reason_naming_the_column(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("order_id,sku,unit_price\n1,S,1\n")

    with pytest.raises(CommandError) as caught:
        run("--kind", "orders", "--file", str(path))

    assert str(caught.value).startswith(f"{path}: missing required column: placed_at (")
    assert "\n" not in str(caught.value)
    assert ImportJob.objects.count() == 0


def test_a_malformed_json_file_exits_non_zero_naming_where(tmp_path):
    path = tmp_path / "orders.json"
    path.write_text('[{"order_id": "1", "placed_at": "2024-01-01", "sku": "S", "unit_price": 1},')

    with pytest.raises(CommandError) as caught:
        run("--kind", "orders", "--file", str(path))

    assert str(caught.value) == (
        f"{path}: file: not valid JSON at line 1, column 76: a record is missing after ','"
    )


def test_the_real_command_line_exits_1_with_one_line_on_stderr():
    environment = {"DJANGO_SETTINGS_MODULE": "smartmkt.settings.test"}

    result = subprocess.run(
        [sys.executable, "manage.py", "import_data", "--kind", "orders", "--file", "/nope.csv"],
        cwd=settings.BASE_DIR,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "CommandError: --file: /nope.csv does not exist or is not a file"
    ]
    assert result.stdout == ""
