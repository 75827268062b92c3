"""The pure import engine: streaming readers, mapping suggestions, value parsing, grouping."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from apps.imports.engine import readers
from apps.imports.engine.grouping import SeenKeys, contiguous_groups
from apps.imports.engine.mapping import (
    EXTRA,
    IGNORE,
    MappingProblem,
    RowMapper,
    mapping_resolve,
    suggest_mapping,
)
from apps.imports.engine.readers import FileProblem, count_records, open_records, read_layout
from apps.imports.engine.rows import order_header, review_row
from apps.imports.engine.values import RowProblem, boolean, decimal, integer, moment, tag_list


def records(data: bytes, format: str = "csv", **options) -> list[readers.SourceRecord]:
    _, found = open_records(io.BytesIO(data), format=format, **options)
    return list(found)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_csv_delimiter_is_detected(delimiter):
    data = (
        delimiter.join(["id", "email", "city"]).encode()
        + b"\n"
        + delimiter.join(
            ["1", "a@example.com", "Berlin, DE" if delimiter != "," else "Berlin"]
        ).encode()
        + b"\n"
    )

    layout = read_layout(io.BytesIO(data), format="csv")

    assert layout.delimiter == delimiter
    assert layout.columns == ("id", "email", "city")


def test_csv_rows_are_numbered_like_a_spreadsheet_and_blank_lines_skipped():
    data = b'\xef\xbb\xbfid,note\n1,"two\nlines"\n\n2,plain\r\n'

    found = records(data)

    assert [(record.row_number, record.values) for record in found] == [
        (2, {"id": "1", "note": "two\nlines"}),
        (4, {"id": "2", "note": "plain"}),
    ]
    assert count_records(io.BytesIO(data), layout=read_layout(io.BytesIO(data), format="csv")) == 2


def test_bytes_that_are_not_utf8_fail_their_row_naming_the_line_and_the_others_are_read():
    data = b"id,name\n1,Ann\n2,Jos\xe9\n3,Bob\n"

    found = records(data)

    assert [record.problem for record in found] == [
        "",
        "line 3: byte 0xe9 at position 6 is not valid UTF-8; save the file as UTF-8 (or choose "
        "its encoding)",
        "",
    ]
    assert found[2].values == {"id": "3", "name": "Bob"}


def test_a_windows_1252_file_reads_with_its_encoding():
    data = "id,name\n1,José €\n".encode("cp1252")

    assert records(data, encoding="cp1252")[0].values == {"id": "1", "name": "José €"}


def test_wrong_number_of_values_and_broken_quotes_fail_only_their_row():
    data = b'a,b\n1,2,3\n"x"y,2\n4\n5,6\n'

    found = records(data)

    assert [(record.row_number, record.problem) for record in found] == [
        (2, "the row has 3 values but the header has 2 columns"),
        (3, "not valid CSV: ',' expected after '\"'"),
        (4, "the row has 1 values but the header has 2 columns"),
        (5, ""),
    ]
    assert found[0].cells == ("1", "2", "3")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty: no header row"),
        (b"\n\n", "the file is empty: no header row"),
        (b"a,b,a\n1,2,3\n", "columns 1 and 3 are both named 'a'; rename one"),
        ("id\n1\n".encode("utf-16"), "the file is UTF-16 encoded; save it as UTF-8"),
        (b"id,name\r1,Ann\r", "the file uses old Mac line endings (CR only)"),
    ],
)
def test_an_unreadable_csv_file_is_refused_with_a_reason(data, message):
    with pytest.raises(FileProblem) as caught:
        read_layout(io.BytesIO(data), format="csv")

    assert str(caught.value).startswith(message)


def test_empty_header_cells_get_a_positional_name():
    assert read_layout(io.BytesIO(b"id,,name\n"), format="csv").columns == (
        "id",
        "column_2",
        "name",
    )


def test_a_json_array_streams_record_by_record_across_blocks(monkeypatch):
    monkeypatch.setattr(readers, "BLOCK_BYTES", 16)
    items = [{"id": n, "text": "é" * n, "nested": {"n": [n]}} for n in range(50)]
    data = json.dumps(items, ensure_ascii=False, indent=1).encode()

    found = records(data, "json")

    assert [record.values for record in found] == items
    assert [record.row_number for record in found] == list(range(1, 51))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'[{"a": 1}, {"a": 2]', "not valid JSON at line 1, column 19: Expecting ',' delimiter"),
        (b'[{"a": 1},\n{"a": 2},\n', "not valid JSON at line 3, column 1: a record is missing"),
        (b'[{"a": 1}] [', "not valid JSON at line 1, column 12: unexpected text after the"),
        (b'{"a": 1}', "the file holds one JSON object; expected an array of records"),
        (b"", "the file is empty"),
        (b'[{"a": "\xff"}]', "byte 9 (0xff) is not valid UTF-8; save the file as UTF-8"),
    ],
)
def test_a_broken_json_array_is_a_file_problem_saying_where(data, message):
    with pytest.raises(FileProblem) as caught:
        records(data, "json")

    assert str(caught.value).startswith(message)


def test_json_elements_that_are_not_objects_fail_their_row_only():
    found = records(b'[{"a": 1}, [1], "x", {"a": 2}]', "json")

    assert [(record.row_number, record.problem) for record in found] == [
        (1, ""),
        (2, "expected a JSON object, got an array"),
        (3, "expected a JSON object, got a string"),
        (4, ""),
    ]


def test_json_lines_number_rows_by_line_and_a_bad_line_fails_alone():
    found = records(b'{"a": 1}\n\n{oops\n5\n{"a": 2}', "jsonl")

    assert [(record.row_number, record.values, bool(record.problem)) for record in found] == [
        (1, {"a": 1}, False),
        (3, {}, True),
        (4, {}, True),
        (5, {"a": 2}, False),
    ]
    assert found[1].problem.startswith("not valid JSON: ")
    assert found[2].problem == "expected a JSON object, got a number"


def test_json_columns_are_the_keys_of_the_first_records_in_order():
    data = b'{"id": 1, "email": "a"}\n{"id": 2, "plan": "pro"}\n'

    assert read_layout(io.BytesIO(data), format="jsonl").columns == ("id", "email", "plan")


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("orders.csv", b"a,b", "csv"),
        ("orders.TSV", b"a\tb", "csv"),
        ("orders.json", b'[{"a": 1}]', "json"),
        ("orders.json", b'{"a": 1}\n{"a": 2}', "jsonl"),
        ("orders.ndjson", b'{"a": 1}', "jsonl"),
        ("upload", b'  [{"a": 1}]', "json"),
        ("upload", b"a;b", "csv"),
    ],
)
def test_the_format_comes_from_the_name_checked_against_the_content(name, head, expected):
    assert readers.detect_format(name, head) == expected


def test_suggestion_prefers_field_names_to_aliases_and_fills_each_field_once():
    mapping = suggest_mapping(
        "orders",
        ["Order Number", "orderId", "Lineitem SKU", "Qty", "Price", "Created At", "Notes"],
    )

    assert mapping == {
        "Order Number": IGNORE,  # an alias of order_id, which "orderId" names exactly
        "orderId": "order_id",
        "Lineitem SKU": "sku",
        "Qty": "quantity",
        "Price": "unit_price",
        "Created At": "placed_at",
        "Notes": IGNORE,
    }


def test_unmatched_columns_of_customers_are_kept_as_attributes_but_error_file_columns_not():
    mapping = suggest_mapping("customers", ["external_id", "tier", "row_number", "reason"])

    assert mapping == {
        "external_id": "external_id",
        "tier": EXTRA,
        "row_number": IGNORE,
        "reason": IGNORE,
    }


def test_a_chosen_field_moves_from_the_suggested_column():
    mapping = mapping_resolve("customers", ["id", "customer_no"], {"customer_no": "external_id"})

    assert mapping == {"id": EXTRA, "customer_no": "external_id"}


@pytest.mark.parametrize(
    ("chosen", "field", "message"),
    [
        ({"nope": "email"}, "mapping", "mapping: column 'nope' is not in the file; its columns"),
        ({"mail": "e-mail"}, "mapping", "mapping: 'e-mail' is not a field of customers; fields:"),
        (
            {"id": "email", "mail": "email"},
            "email",
            "mapping: columns 'id' and 'mail' both map to email",
        ),
        ({"id": "-"}, "external_id", "missing required column: external_id (The shop's"),
    ],
)
def test_a_mapping_that_cannot_work_names_the_field(chosen, field, message):
    with pytest.raises(MappingProblem) as caught:
        mapping_resolve("customers", ["id", "mail"], chosen)

    assert caught.value.field == field
    assert caught.value.message.startswith(message)


def test_extras_are_refused_for_kinds_that_do_not_keep_them():
    with pytest.raises(MappingProblem) as caught:
        mapping_resolve("orders", ["order_id", "placed_at", "sku", "unit_price", "x"], {"x": "+"})

    assert caught.value.message == (
        "mapping: orders keep no extra columns; map the column to a field or '-'"
    )


def test_row_mapper_handles_json_keys_the_sample_did_not_have():
    mapper = RowMapper("customers", {"id": "external_id"})

    fields, extras = mapper.split({"id": "c-1", "email": "a@example.com", "tier": "gold"})

    assert fields == {"external_id": "c-1", "email": "a@example.com"}
    assert extras == {"tier": "gold"}
    assert mapper.column_for("email") == "email"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.50", Decimal("12.50")),
        (" $7 ", Decimal("7")),
        ("9.99€", Decimal("9.99")),
        (3, Decimal("3")),
        (2.5, Decimal("2.5")),
        ("", None),
    ],
)
def test_decimals(raw, expected):
    assert decimal(raw, "price") == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("12,50", "price: '12,50' is not a number (use a dot for decimals, e.g. 12.50)"),
        ("1,234.50", "price: '1,234.50' is not a number (leave out thousands separators, e.g."),
        ("ten", "price: 'ten' is not a number"),
        ("NaN", "price: 'NaN' is not a number"),
        (True, "price: expected a number, got true"),
    ],
)
def test_bad_decimals_say_why(raw, message):
    with pytest.raises(RowProblem) as caught:
        decimal(raw, "price")

    assert str(caught.value).startswith(message)


def test_integers_and_booleans():
    assert [integer(value, "n") for value in ("3", "3.0", 4, "")] == [3, 3, 4, None]
    with pytest.raises(RowProblem, match=r"^n: '3.5' is not a whole number$"):
        integer("3.5", "n")
    assert [boolean(value, "b") for value in ("yes", "N", "1", "false", True, "")] == [
        True,
        False,
        True,
        False,
        True,
        None,
    ]
    with pytest.raises(RowProblem, match=r"'maybe' is not true/false"):
        boolean("maybe", "b")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-31", datetime(2024, 3, 31, tzinfo=UTC)),
        ("2024-03-31T14:05:00Z", datetime(2024, 3, 31, 14, 5, tzinfo=UTC)),
        ("2024-03-31 14:05", datetime(2024, 3, 31, 14, 5, tzinfo=UTC)),
        ("2024/03/31 14:05:09", datetime(2024, 3, 31, 14, 5, 9, tzinfo=UTC)),
        ("1711893900", datetime(2024, 3, 31, 14, 5, tzinfo=UTC)),
        ("1711893900000", datetime(2024, 3, 31, 14, 5, tzinfo=UTC)),
    ],
)
def test_date_times_no_zone_means_utc(raw, expected):
    assert moment(raw, "placed_at") == expected


def test_offsets_are_kept_and_ambiguous_dates_refused():
    assert moment("2024-03-31T14:05:00+02:00", "t").utcoffset().total_seconds() == 7200
    with pytest.raises(RowProblem) as caught:
        moment("03/04/2024", "placed_at")
    assert caught.value.message == (
        "'03/04/2024' is not a date-time (day and month order is ambiguous; use YYYY-MM-DD)"
    )


def test_tags_split_on_pipes_or_commas_without_duplicates():
    assert tag_list("summer| linen |summer", "tags") == ["summer", "linen"]
    assert tag_list("a, b", "tags") == ["a", "b"]
    assert tag_list(["x", "", "y"], "tags") == ["x", "y"]


def test_order_header_needs_its_placed_at():
    with pytest.raises(RowProblem) as caught:
        order_header({"order_id": "1"})

    assert (caught.value.field, caught.value.message) == ("placed_at", "is required and empty")


def test_a_review_without_an_id_gets_a_stable_one_from_its_content():
    fields = {"sku": "P-1", "rating": "4", "text": "Fine", "reviewed_at": "2024-01-01"}

    first = review_row(2, fields, {})
    again = review_row(9, dict(fields), {})
    other = review_row(3, {**fields, "text": "Other"}, {})

    assert first.external_id == again.external_id
    assert first.external_id.startswith("row-")
    assert other.external_id != first.external_id
    assert first.reviewed_at.date() == date(2024, 1, 1)


def test_contiguous_groups_cut_where_the_key_changes():
    items = [("a", 1), ("a", 2), ("b", 3), ("a", 4)]

    assert list(contiguous_groups(items)) == [("a", [1, 2]), ("b", [3]), ("a", [4])]


def test_seen_keys_never_forget_and_rarely_imagine():
    seen = SeenKeys(bits=1 << 16)
    for n in range(1000):
        seen.add(f"order-{n}")

    assert all(f"order-{n}" in seen for n in range(1000))
    false_positives = sum(f"other-{n}" in seen for n in range(10_000))
    assert false_positives < 100
