"""`manage.py segments`: every subcommand on hand-made customers with exact member sets, one
JSON document on stdout, and one-line errors that name the option, the JSON path or the row."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.events.tests.factories import OrderFactory
from apps.segments.models import Segment, SegmentMembership, SegmentTouchedCustomer
from apps.segments.tests.segment_data import DAY, build_shop, group

pytestmark = pytest.mark.django_db

EUROPE = {"type": "property", "field": "country", "operator": "in", "value": ["DE", "FR"]}
BOUGHT_30 = {"type": "order", "operator": "gte", "value": 1, "window": {"last_days": 30}}


@pytest.fixture
def shop():
    return build_shop()


def run(*args: str) -> tuple[dict, str]:
    """The command with --json: the parsed document and what went to stderr."""
    out, err = io.StringIO(), io.StringIO()
    call_command("segments", *args, "--json", stdout=out, stderr=err)
    return json.loads(out.getvalue()), err.getvalue()


def text(*args: str) -> str:
    out = io.StringIO()
    call_command("segments", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def refused(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        call_command("segments", *args, stdout=io.StringIO(), stderr=io.StringIO())
    return str(caught.value)


def definition_file(tmp_path, definition, name="definition.json"):
    path = tmp_path / name
    path.write_text(json.dumps(definition))
    return str(path)


def stored(name: str) -> set[str]:
    return set(
        SegmentMembership.objects.filter(segment__name=name).values_list(
            "customer__external_id", flat=True
        )
    )


def create(tmp_path, name: str, definition: dict) -> dict:
    document, _ = run(
        "create", "--name", name, "--definition", definition_file(tmp_path, definition)
    )
    return document


def test_create_a_dynamic_segment_from_a_definition_file(shop, tmp_path):
    # when a dynamic segment is created from a file
    document, progress = run(
        "create", "--name", "European buyers", "--description", "Bought this month",
        "--definition", definition_file(tmp_path, group(EUROPE, BOUGHT_30)),
    )  # fmt: skip

    # then its members are computed at once and the document has the API's fields
    assert stored("European buyers") == {"dee"}
    segment = Segment.objects.get(name="European buyers")
    assert document["id"] == segment.pk
    assert (document["kind"], document["status"], document["member_count"]) == ("dynamic",
                                                                                 "ready", 1)  # fmt: skip
    assert document["description"] == "Bought this month"
    assert document["definition"] == group(EUROPE, BOUGHT_30)
    assert document["created_by"] is None
    assert progress == "Creating dynamic segment 'European buyers' and its members\n"


def test_create_reads_the_definition_from_standard_input(shop, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(group(BOUGHT_30))))

    document, _ = run("create", "--name", "Recent buyers", "--definition", "-")

    assert document["member_count"] == 2
    assert stored("Recent buyers") == {"dee", "eve"}


def test_create_a_static_segment_from_a_csv_names_unknown_ids_by_row(shop, tmp_path):
    ids = tmp_path / "ids.csv"
    ids.write_text("email,external_id\nx@example.com,ada\n,nobody\n\nz@example.com,dee\n,ghost\n")

    document, progress = run("create", "--name", "Newsletter", "--ids", str(ids))

    assert stored("Newsletter") == {"ada", "dee"}
    assert (document["kind"], document["member_count"]) == ("static", 2)
    assert document["upload_report"] == {
        "source": "csv", "rows": 4, "matched": 2, "duplicates": 0, "unknown_count": 2,
        "unknown": [{"row": 3, "value": "nobody"}, {"row": 6, "value": "ghost"}],
    }  # fmt: skip
    assert progress.splitlines() == [
        "Creating static segment 'Newsletter' from ids.csv",
        "row 3: 'nobody' matches no customer",
        "row 6: 'ghost' matches no customer",
    ]


def test_create_a_static_segment_from_ids_given_as_options(shop):
    document, progress = run("create", "--name", "VIP", "--id", "ada", "--id", "bob", "--id", "zed")

    assert stored("VIP") == {"ada", "bob"}
    assert document["upload_report"]["unknown"] == [{"row": 3, "value": "zed"}]
    assert progress == "row 3: 'zed' matches no customer\n"


def test_list_and_show_by_id_or_name(shop, tmp_path):
    buyers = create(tmp_path, "Recent buyers", group(BOUGHT_30))
    run("create", "--name", "VIP", "--id", "ada")

    listing, _ = run("list")
    static_only, _ = run("list", "--kind", "static")
    by_id, _ = run("show", str(buyers["id"]))
    by_name, _ = run("show", "recent BUYERS")

    assert [(item["name"], item["kind"], item["member_count"]) for item in listing["segments"]] \
        == [("Recent buyers", "dynamic", 2), ("VIP", "static", 1)]  # fmt: skip
    assert [item["name"] for item in static_only["segments"]] == ["VIP"]
    assert by_id == by_name
    assert by_id["id"] == buyers["id"] and by_id["member_count"] == 2
    assert [line["depth"] for line in by_id["definition_text"]] == [0, 1]
    assert "Recent buyers (dynamic, ready)" in text("show", "Recent buyers")


def test_preview_counts_without_saving(shop, tmp_path):
    document, _ = run(
        "preview", "--definition", definition_file(tmp_path, group(EUROPE)), "--sample", "2"
    )

    assert (document["count"], document["total_customers"]) == (4, 6)
    assert [customer["external_id"] for customer in document["sample"]] == ["dee", "cy"]
    assert [line["depth"] for line in document["description"]] == [0, 1]
    assert Segment.objects.count() == 0


def test_refresh_named_segments_records_who_entered(shop, tmp_path):
    # given "Recent buyers" and then a new order by cy
    buyers = create(tmp_path, "Recent buyers", group(BOUGHT_30))
    OrderFactory(customer=shop.customers["cy"], placed_at=timezone.now() - 2 * DAY)

    # when it is refreshed by id
    document, _ = run("refresh", str(buyers["id"]))

    # then cy entered
    assert [
        (item["name"], item["member_count"], item["entered"], item["exited"])
        for item in document["results"]
    ] == [("Recent buyers", 3, 1, 0)]
    assert document["failed"] == []
    assert stored("Recent buyers") == {"cy", "dee", "eve"}


def test_refresh_all_follows_every_dynamic_segment_and_touched_rechecks_only_those(shop, tmp_path):
    buyers = create(tmp_path, "Recent buyers", group(BOUGHT_30))
    europe = create(tmp_path, "Europeans", group(EUROPE))
    run("create", "--name", "VIP", "--id", "ada")
    OrderFactory(customer=shop.customers["cy"], placed_at=timezone.now() - 2 * DAY)
    OrderFactory(customer=shop.customers["fay"], placed_at=timezone.now() - 2 * DAY)
    SegmentTouchedCustomer.objects.create(
        customer_id=shop.customers["cy"].pk, touched_at=timezone.now()
    )

    touched, _ = run("refresh", "--touched")
    assert touched["touched_customers"] == 1 and touched["results"] == []
    assert stored("Recent buyers") == {"cy", "dee", "eve"}  # fay was not touched
    everything, _ = run("refresh", "--all")

    assert [(item["segment_id"], item["entered"]) for item in everything["results"]] == [
        (buyers["id"], 1),
        (europe["id"], 0),
    ]
    assert stored("Recent buyers") == {"cy", "dee", "eve", "fay"}
    assert SegmentTouchedCustomer.objects.count() == 0


def test_a_failed_refresh_prints_the_document_then_exits_non_zero(shop, tmp_path):
    create(tmp_path, "Recent buyers", group(BOUGHT_30))
    broken = create(tmp_path, "Broken", group(EUROPE))
    Segment.objects.filter(pk=broken["id"]).update(definition={"type": "nonsense"})
    out = io.StringIO()

    with pytest.raises(CommandError) as caught:
        call_command("segments", "refresh", "--all", "--json", stdout=out, stderr=io.StringIO())

    document = json.loads(out.getvalue())
    assert [item["name"] for item in document["results"]] == ["Recent buyers"]
    assert [item["name"] for item in document["failed"]] == ["Broken"]
    assert str(caught.value).startswith("refresh failed for 1 segment(s): Broken: ")
    assert "\n" not in str(caught.value)


def test_a_named_refresh_of_a_segment_that_no_longer_validates_is_reported(shop, tmp_path):
    broken = create(tmp_path, "Broken", group(EUROPE))
    Segment.objects.filter(pk=broken["id"]).update(definition={"type": "nonsense"})
    out = io.StringIO()

    with pytest.raises(CommandError) as caught:
        call_command("segments", "refresh", "Broken", "--json", stdout=out, stderr=io.StringIO())

    assert json.loads(out.getvalue())["failed"] == [
        {"id": broken["id"], "name": "Broken", "error": str(caught.value).split(": ", 2)[2]}
    ]
    assert str(caught.value).startswith("refresh failed for 1 segment(s): Broken: type: ")


def test_members_newest_first_with_a_limit(shop, tmp_path):
    create(tmp_path, "Recent buyers", group(BOUGHT_30))

    everyone, _ = run("members", "Recent buyers")
    first, _ = run("members", "Recent buyers", "--limit", "1")
    searched, _ = run("members", "Recent buyers", "--search", "dee@")

    # same moment of entry: the newest customer first
    assert [member["external_id"] for member in everyone["members"]] == ["eve", "dee"]
    assert everyone["members"][1]["email"] == "dee@example.com"
    assert [member["external_id"] for member in first["members"]] == ["eve"]
    assert first["member_count"] == 2
    assert [member["external_id"] for member in searched["members"]] == ["dee"]


def test_members_export_as_csv(shop, tmp_path):
    create(tmp_path, "Recent buyers", group(BOUGHT_30))
    target = tmp_path / "members.csv"

    document, progress = run("members", "Recent buyers", "--csv", str(target))

    with target.open(newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == [
        "external_id", "email", "first_name", "last_name", "country", "city", "member_since",
    ]  # fmt: skip
    assert [(row[0], row[1], row[4]) for row in rows[1:]] == [
        ("dee", "dee@example.com", "FR"),
        ("eve", "eve@example.com", "US"),
    ]
    assert document == {
        "segment_id": Segment.objects.get().pk, "name": "Recent buyers", "member_count": 2,
        "exported": 2, "file": str(target),
    }  # fmt: skip
    assert progress == f"Exported 2 members of 'Recent buyers' to {target}\n"
    out = io.StringIO()
    call_command("segments", "members", "Recent buyers", "--csv", "-", "--limit", "1", stdout=out,
                 stderr=io.StringIO())  # fmt: skip
    assert [line.split(",")[0] for line in out.getvalue().splitlines()] == ["external_id", "dee"]


def test_explain_gives_every_condition_with_the_customers_value(shop, tmp_path):
    create(tmp_path, "European buyers", group(EUROPE, BOUGHT_30))

    member, _ = run("explain", "European buyers", "dee")
    outsider, _ = run("explain", "European buyers", "ada")

    assert (member["is_member"], member["matches"]) == (True, True)
    assert [(item["path"], item["matched"], item["actual"]) for item in member["conditions"]] == [
        ("", True, ""),
        ("conditions[0]", True, "FR"),
        ("conditions[1]", True, "2 orders"),
    ]
    assert (outsider["is_member"], outsider["matches"]) == (False, False)
    assert [(item["matched"], item["actual"]) for item in outsider["conditions"][1:]] == [
        (True, "DE"),
        (False, "0 orders"),
    ]
    assert "[ ] " in text("explain", "European buyers", "ada")


def test_history_gives_sizes_with_entries_and_exits(shop, tmp_path):
    buyers = create(tmp_path, "Recent buyers", group(BOUGHT_30))
    OrderFactory(customer=shop.customers["cy"], placed_at=timezone.now() - 2 * DAY)
    run("refresh", "Recent buyers")

    document, _ = run("history", str(buyers["id"]), "--days", "7")

    assert document["sizes"] == [
        {"day": timezone.localdate().isoformat(), "member_count": 3, "entered": 3, "exited": 0}
    ]
    assert (document["member_count"], document["entered"], document["exited"]) == (3, 3, 0)


def test_delete_removes_the_segment_unless_another_refers_to_it(shop, tmp_path):
    europe = create(tmp_path, "Europeans", group(EUROPE))
    buyers = create(tmp_path, "Recent buyers", group(BOUGHT_30))
    create(tmp_path, "European buyers",
           group({"type": "segment", "operator": "in", "segment": europe["id"]}, BOUGHT_30))  # fmt: skip

    message = refused("delete", "Europeans")
    document, _ = run("delete", str(buyers["id"]))

    assert message == (
        "segment 'Europeans' is used by 'European buyers': remove those conditions first"
    )
    assert document == {"deleted": buyers["id"], "name": "Recent buyers"}
    assert sorted(Segment.objects.values_list("name", flat=True)) == [
        "European buyers",
        "Europeans",
    ]


def test_bad_arguments_and_files_exit_with_one_line(shop, tmp_path):
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"type": "group",,}')
    no_column = tmp_path / "no-column.csv"
    no_column.write_text("email,name\na@x.com,A\n")
    create(tmp_path, "Recent buyers", group(BOUGHT_30))
    invalid = definition_file(
        tmp_path, group({**BOUGHT_30, "value": "many"}, {"type": "event", "event": "nope"})
    )

    assert refused("show", "nope") == "segment 'nope' does not exist"
    assert refused("create", "--name", "X", "--definition", str(tmp_path / "missing.json")) == (
        f"--definition: file '{tmp_path / 'missing.json'}' does not exist"
    )
    assert refused("create", "--name", "X", "--definition", str(bad_json)) == (
        "--definition: bad.json is not valid JSON (line 1 column 18: Expecting property name "
        "enclosed in double quotes)"
    )
    assert refused("create", "--name", "X", "--definition", invalid).startswith(
        "--definition: conditions[0].value: "
    )
    assert "; conditions[1].event: " in refused("create", "--name", "X", "--definition", invalid)
    assert refused("create", "--name", "X", "--ids", str(no_column)) == (
        "file: name the column of customer ids external_id (or customer_id)"
    )
    assert refused("create", "--name", "X", "--ids", str(tmp_path / "none.csv")) == (
        f"--ids: file '{tmp_path / 'none.csv'}' does not exist"
    )
    assert "not allowed with argument" in refused(
        "create", "--name", "X", "--definition", invalid, "--id", "ada"
    )
    assert refused("create", "--name", "recent buyers", "--id", "ada") == (
        "name: a segment named 'recent buyers' exists already"
    )
    assert refused("refresh") == (
        "refresh: name the segments to refresh, or give --all or --touched"
    )
    assert refused("refresh", "Recent buyers", "--all") == (
        "refresh: name segments or give --all, not both"
    )
    assert refused("explain", "Recent buyers", "zed") == "customer 'zed' does not exist"
    assert refused("members", "Recent buyers", "--csv", str(tmp_path / "no" / "m.csv")) == (
        f"--csv: folder '{tmp_path / 'no'}' does not exist"
    )
    assert refused("history", "Recent buyers", "--days", "0") == "--days: must be at least 1, got 0"
    # nothing half-written
    assert list(Segment.objects.values_list("name", flat=True)) == ["Recent buyers"]


def test_plain_text_output_is_readable(shop, tmp_path):
    create(tmp_path, "Recent buyers", group(BOUGHT_30))

    listing = text("list")
    members = text("members", "Recent buyers")
    history = text("history", "Recent buyers")

    assert "Recent buyers" in listing and "dynamic" in listing
    assert members.splitlines()[-1] == "(2 of 2)"
    assert history.splitlines()[0] == (
        "Recent buyers: 2 members; in the last 90 days 2 entered, 0 left"
    )
