"""`manage.py segments ...`: segments from the command line (the UI and the API do the same).

segments list [--search S] [--kind dynamic|static] [--json]
    Segments by name with their size, status and last refresh.
segments show ID|NAME [--json]
    One segment: its fields, the definition in words, the upload report of a static list.
segments create --name N --definition F.json|- [--description D] [--json]
    A dynamic segment from a definition file (`-`: standard input); members computed at once.
segments create --name N (--ids F.csv | --id X [--id Y ...]) [--description D] [--json]
    A static segment from a CSV of external ids or from ids given here; unknown ids are
    reported by row and do not stop it.
segments preview --definition F.json|- [--sample N] [--json]
    How many customers a definition selects now, and some of them; nothing is saved.
segments refresh [ID|NAME ...] [--all] [--touched] [--json]
    Full refresh of the segments named (or of every dynamic segment with --all, in
    dependency order); --touched first re-checks the customers touched by new data.
segments members ID|NAME [--search S] [--limit N] [--csv OUT|-] [--json]
    The members, newest first; --csv writes the export (external_id, email, ...) instead.
segments explain ID|NAME CUSTOMER_EXTERNAL_ID [--json]
    Why the customer is (or is not) in the segment: every condition with its truth and the
    customer's value.
segments history ID|NAME [--days N] [--json]
    Size per day with the customers who entered and left, and the totals.
segments delete ID|NAME [--json]
    Delete a segment with its members and history (refused while others refer to it).

With --json each prints ONE JSON document on stdout; progress and notes go to stderr. A bad
argument, file or definition exits non-zero with one line naming the option, the JSON path or
the row.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.core.errors import DomainError
from apps.customers.selectors import customer_get
from apps.segments import selectors
from apps.segments.engine.definition import DefinitionError
from apps.segments.models import SegmentKind
from apps.segments.services import segments as services
from apps.segments.services.segments import DefinitionInvalid

STDIN = "-"
MARK = {True: "[x]", False: "[ ]"}


def _segment_document(segment: Any) -> dict[str, Any]:
    """The fields the API's segment shape has, for --json."""
    return {
        "id": segment.pk,
        "name": segment.name,
        "description": segment.description,
        "kind": segment.kind,
        "definition": segment.definition,
        "status": segment.status,
        "error": segment.error,
        "member_count": segment.member_count,
        "last_refreshed_at": segment.last_refreshed_at,
        "last_refresh_seconds": segment.last_refresh_seconds,
        "upload_report": segment.upload_report,
        "created_by": str(segment.created_by) if segment.created_by_id else None,
        "created_at": segment.created_at,
        "updated_at": segment.updated_at,
    }


def _segment_head(segment: Any) -> dict[str, Any]:
    """Which segment a members, export or history document is about."""
    return {"segment_id": segment.pk, "name": segment.name, "member_count": segment.member_count}


def _lines_document(lines: list[tuple[int, str]]) -> list[dict[str, Any]]:
    return [{"depth": depth, "text": text} for depth, text in lines]


def _definition_read(value: str, option: str) -> Any:
    """The JSON document of a file (or of standard input for `-`)."""
    if value == STDIN:
        text, name = sys.stdin.read(), "standard input"
    else:
        path = Path(value)
        if not path.is_file():
            raise CommandError(f"{option}: file {value!r} does not exist")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"{option}: cannot read {value!r} ({error})") from None
        name = path.name
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CommandError(
            f"{option}: {name} is not valid JSON (line {error.lineno} column {error.colno}: "
            f"{error.msg})"
        ) from None


def _definition_problems(error: DefinitionInvalid, option: str) -> CommandError:
    """Every problem of a definition on one line, each with its JSON path."""
    problems = "; ".join(
        f"{item['path']}: {item['message']}" if item["path"] else item["message"]
        for item in error.errors
    )
    return CommandError(f"{option}: {problems}")


class Command(BaseCommand):
    help = (
        "Segments: list, show, create (dynamic or static), preview, refresh, members (export), "
        "explain, history, delete."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="Segments by name with their size.")
        listing.add_argument("--search", default="", help="Part of the name or description.")
        listing.add_argument(
            "--kind", choices=SegmentKind.values, default="", help="Only one kind."
        )

        show = actions.add_parser("show", help="One segment and its definition in words.")
        show.add_argument("segment", help="Segment id or name.")

        create = actions.add_parser("create", help="Create a dynamic or a static segment.")
        create.add_argument("--name", required=True, help="Unique name.")
        create.add_argument("--description", default="", help="What the segment is for.")
        source = create.add_mutually_exclusive_group(required=True)
        source.add_argument(
            "--definition", help="Dynamic: JSON file of the definition (- for standard input)."
        )
        source.add_argument(
            "--ids", help="Static: CSV of customer ids (column external_id, or one column)."
        )
        source.add_argument(
            "--id",
            action="append",
            dest="customer_ids",
            help="Static: a customer's external id (repeat the option for more).",
        )

        preview = actions.add_parser("preview", help="Size of a definition, without saving.")
        preview.add_argument(
            "--definition", required=True, help="JSON file of the definition (- for stdin)."
        )
        preview.add_argument(
            "--sample", type=int, default=10, help="Customers to show (0-100, default 10)."
        )

        refresh = actions.add_parser("refresh", help="Recompute segments' members now.")
        refresh.add_argument("segments", nargs="*", metavar="SEGMENT", help="Ids or names.")
        refresh.add_argument("--all", action="store_true", help="Every dynamic segment.")
        refresh.add_argument(
            "--touched",
            action="store_true",
            help="Re-check the customers touched by new events and orders (incremental).",
        )

        members = actions.add_parser("members", help="A segment's members, or their export.")
        members.add_argument("segment", help="Segment id or name.")
        members.add_argument("--search", default="", help="Part of the external id, email, name.")
        members.add_argument("--limit", type=int, default=None, help="At most this many.")
        members.add_argument(
            "--csv", default=None, help="Write the members as CSV to this file (- for stdout)."
        )

        explain = actions.add_parser("explain", help="Why a customer is in a segment.")
        explain.add_argument("segment", help="Segment id or name.")
        explain.add_argument("customer", help="The customer's external id (or an alias).")

        history = actions.add_parser("history", help="Size over time, entries and exits.")
        history.add_argument("segment", help="Segment id or name.")
        history.add_argument(
            "--days", type=int, default=90, help="Days back from today (default 90)."
        )

        delete = actions.add_parser("delete", help="Delete a segment.")
        delete.add_argument("segment", help="Segment id or name.")

        for sub in (listing, show, create, preview, refresh, members, explain, history, delete):
            sub.add_argument("--json", action="store_true", help="One JSON document on stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            document = getattr(self, f"_{action}")(options)
        except DefinitionInvalid as error:
            raise _definition_problems(error, "--definition") from None
        except DomainError as error:
            raise CommandError(error.message) from None
        if document is None:  # written already (CSV on stdout)
            return
        if options["json"]:
            self.stdout.write(json.dumps(document, indent=2, default=str))
        else:
            getattr(self, f"_print_{action}")(document)
        failed = document.get("failed") if isinstance(document, dict) else None
        if failed:
            reasons = "; ".join(f"{item['name']}: {item['error']}" for item in failed)
            raise CommandError(f"refresh failed for {len(failed)} segment(s): {reasons}")

    # --- actions ----------------------------------------------------------------------------

    def _list(self, options: dict[str, Any]) -> dict[str, Any]:
        segments = selectors.segment_list(search=options["search"], kind=options["kind"])
        return {"segments": [_segment_document(segment) for segment in segments]}

    def _show(self, options: dict[str, Any]) -> dict[str, Any]:
        segment = selectors.segment_find(reference=options["segment"])
        lines = selectors.segment_describe(segment=segment)
        return {**_segment_document(segment), "definition_text": _lines_document(lines)}

    def _create(self, options: dict[str, Any]) -> dict[str, Any]:
        common = {"name": options["name"], "description": options["description"]}
        if options["definition"] is not None:
            definition = _definition_read(options["definition"], "--definition")
            self.stderr.write(f"Creating dynamic segment {options['name']!r} and its members")
            segment = services.segment_create(**common, definition=definition)
        elif options["ids"] is not None:
            path = Path(options["ids"])
            if not path.is_file():
                raise CommandError(f"--ids: file {options['ids']!r} does not exist")
            self.stderr.write(f"Creating static segment {options['name']!r} from {path.name}")
            with path.open("rb") as stream:
                segment = services.segment_create(**common, csv_file=stream)
        else:
            segment = services.segment_create(
                **common, customer_external_ids=options["customer_ids"]
            )
        report = segment.upload_report
        for unknown in report.get("unknown", []):
            self.stderr.write(f"row {unknown['row']}: {unknown['value']!r} matches no customer")
        if report.get("unknown_count", 0) > len(report.get("unknown", [])):
            self.stderr.write(
                f"... {report['unknown_count'] - len(report['unknown']):,} more unknown ids"
            )
        return _segment_document(segment)

    def _preview(self, options: dict[str, Any]) -> dict[str, Any]:
        if not 0 <= options["sample"] <= 100:
            raise CommandError(f"--sample: must be between 0 and 100, got {options['sample']}")
        definition = _definition_read(options["definition"], "--definition")
        result = selectors.segment_preview(definition=definition, sample_size=options["sample"])
        return {**dataclasses.asdict(result), "description": _lines_document(result.description)}

    def _refresh(self, options: dict[str, Any]) -> dict[str, Any]:
        names = options["segments"]
        if names and options["all"]:
            raise CommandError("refresh: name segments or give --all, not both")
        if not names and not options["all"] and not options["touched"]:
            raise CommandError("refresh: name the segments to refresh, or give --all or --touched")
        segments = [selectors.segment_find(reference=name) for name in names]
        document: dict[str, Any] = {"results": [], "failed": []}
        if options["touched"]:
            document["touched_customers"] = services.segments_refresh_touched()
            self.stderr.write(f"Re-checked {document['touched_customers']:,} touched customers")
        if options["all"]:
            results = services.segments_refresh_all()
            failed = selectors.segment_list(status="failed")
            document["failed"] = [
                {"id": segment.pk, "name": segment.name, "error": segment.error}
                for segment in failed
            ]
        else:
            results = []
            for segment in segments:
                try:
                    results.append(services.segment_refresh(segment=segment))
                except DefinitionError as error:  # stored before a rule it now breaks
                    document["failed"].append(
                        {"id": segment.pk, "name": segment.name, "error": str(error)}
                    )
        names_by_id = selectors.segment_names(segment_ids={result.segment_id for result in results})
        for result in results:
            document["results"].append(
                {"name": names_by_id.get(result.segment_id, ""), **dataclasses.asdict(result)}
            )
        return document

    def _members(self, options: dict[str, Any]) -> dict[str, Any] | None:
        segment = selectors.segment_find(reference=options["segment"])
        limit = options["limit"]
        if limit is not None and limit < 0:
            raise CommandError(f"--limit: must be 0 or more, got {limit}")
        if options["csv"] is not None:
            return self._export(segment, options["csv"], limit, as_json=options["json"])
        members = selectors.segment_member_list(segment=segment, search=options["search"])
        if limit is not None:
            members = members[:limit]
        rows = [
            {
                "external_id": member.customer.external_id,
                "email": member.customer.email,
                "first_name": member.customer.first_name,
                "last_name": member.customer.last_name,
                "country": member.customer.country,
                "since": member.since,
            }
            for member in members
        ]
        return {**_segment_head(segment), "members": rows}

    def _export(
        self, segment: Any, target: str, limit: int | None, *, as_json: bool
    ) -> dict[str, Any] | None:
        lines = selectors.segment_export_lines(segment=segment)
        if limit is not None:
            lines = itertools.islice(lines, limit + 1)  # the header, then the members
        if target == STDIN:
            if as_json:
                raise CommandError("--csv: - writes the CSV on stdout; leave out --json")
            written = 0
            for line in lines:
                self.stdout.write(line, ending="")
                written += 1
            self.stderr.write(f"Exported {max(written - 1, 0):,} members of {segment.name!r}")
            return None
        path = Path(target)
        if not path.parent.is_dir():
            raise CommandError(f"--csv: folder {str(path.parent)!r} does not exist")
        written = 0
        try:
            with path.open("w", encoding="utf-8", newline="") as stream:
                for line in lines:
                    stream.write(line)
                    written += 1
        except OSError as error:
            raise CommandError(f"--csv: cannot write {target!r} ({error.strerror})") from None
        exported = max(written - 1, 0)
        self.stderr.write(f"Exported {exported:,} members of {segment.name!r} to {target}")
        return {**_segment_head(segment), "exported": exported, "file": target}

    def _explain(self, options: dict[str, Any]) -> dict[str, Any]:
        segment = selectors.segment_find(reference=options["segment"])
        customer = customer_get(external_id=options["customer"])
        explanation = selectors.segment_explain(segment=segment, customer=customer)
        return {"external_id": customer.external_id, **dataclasses.asdict(explanation)}

    def _history(self, options: dict[str, Any]) -> dict[str, Any]:
        if options["days"] < 1:
            raise CommandError(f"--days: must be at least 1, got {options['days']}")
        segment = selectors.segment_find(reference=options["segment"])
        rows = selectors.segment_size_series(segment=segment, days=options["days"])
        sizes = [
            {
                "day": row.day,
                "member_count": row.member_count,
                "entered": row.entered,
                "exited": row.exited,
            }
            for row in rows
        ]
        return {
            **_segment_head(segment),
            "days": options["days"],
            "entered": sum(row["entered"] for row in sizes),
            "exited": sum(row["exited"] for row in sizes),
            "sizes": sizes,
        }

    def _delete(self, options: dict[str, Any]) -> dict[str, Any]:
        segment = selectors.segment_find(reference=options["segment"])
        document = {"deleted": segment.pk, "name": segment.name}
        services.segment_delete(segment=segment)
        return document

    # --- plain-text output ------------------------------------------------------------------

    def _print_list(self, document: dict[str, Any]) -> None:
        if not document["segments"]:
            self.stdout.write("No segments yet: create one with `segments create --name ...`.")
        for item in document["segments"]:
            self.stdout.write(
                f"{item['id']:>6}  {item['name']:<40} {item['kind']:<8} {item['status']:<10} "
                f"{item['member_count']:>10,}"
            )

    def _print_show(self, document: dict[str, Any]) -> None:
        write = self.stdout.write
        write(f"#{document['id']} {document['name']} ({document['kind']}, {document['status']})")
        if document["description"]:
            write(f"  {document['description']}")
        refreshed = document["last_refreshed_at"]
        refreshed = f"{timezone.localtime(refreshed):%Y-%m-%d %H:%M}" if refreshed else "never"
        write(f"  members: {document['member_count']:,}; last full refresh: {refreshed}")
        if document["error"]:
            write(f"  error: {document['error']}")
        for line in document["definition_text"]:
            write("  " + "  " * line["depth"] + line["text"])
        self._print_unknown(document["upload_report"])

    def _print_unknown(self, report: dict[str, Any]) -> None:
        if report:
            self.stdout.write(
                f"  list: {report.get('rows', 0):,} ids read, {report.get('matched', 0):,} "
                f"customers matched, {report.get('unknown_count', 0):,} unknown"
            )

    def _print_create(self, document: dict[str, Any]) -> None:
        self.stdout.write(
            f"Created #{document['id']} {document['name']} ({document['kind']}): "
            f"{document['member_count']:,} members"
        )
        self._print_unknown(document["upload_report"])

    def _print_preview(self, document: dict[str, Any]) -> None:
        write = self.stdout.write
        write(
            f"{document['count']:,} of {document['total_customers']:,} customers "
            f"({document['seconds']:.3f} s)"
        )
        for line in document["description"]:
            write("  " + "  " * line["depth"] + line["text"])
        for customer in document["sample"]:
            write(f"  - {customer['external_id']} {customer['email']}".rstrip())

    def _print_refresh(self, document: dict[str, Any]) -> None:
        for item in document["results"]:
            self.stdout.write(
                f"#{item['segment_id']} {item['name']}: {item['member_count']:,} members "
                f"(+{item['entered']:,} -{item['exited']:,}) in {item['seconds']:.3f} s"
            )
        if "touched_customers" in document:
            self.stdout.write(f"{document['touched_customers']:,} touched customers re-checked")

    def _print_members(self, document: dict[str, Any]) -> None:
        if "exported" in document:
            self.stdout.write(f"{document['exported']:,} members written to {document['file']}")
            return
        for member in document["members"]:
            name = f"{member['first_name']} {member['last_name']}".strip()
            self.stdout.write(
                f"{member['external_id']:<24} {member['email']:<32} {name:<28} "
                f"{member['country']:<3} since {member['since']:%Y-%m-%d %H:%M}"
            )
        self.stdout.write(f"({len(document['members']):,} of {document['member_count']:,})")

    def _print_explain(self, document: dict[str, Any]) -> None:
        write = self.stdout.write
        state = "a member" if document["is_member"] else "not a member"
        write(f"{document['external_id']} is {state} of {document['segment_name']!r}")
        for item in document["conditions"]:
            actual = f"  ({item['actual']})" if item["actual"] else ""
            write("  " * item["depth"] + f"{MARK[item['matched']]} {item['description']}{actual}")
        if document["note"]:
            write(document["note"])

    def _print_history(self, document: dict[str, Any]) -> None:
        write = self.stdout.write
        write(
            f"{document['name']}: {document['member_count']:,} members; in the last "
            f"{document['days']} days {document['entered']:,} entered, "
            f"{document['exited']:,} left"
        )
        if not document["sizes"]:
            write("No refresh in that time: run `segments refresh` to record one.")
        for row in document["sizes"]:
            write(
                f"  {row['day']}  {row['member_count']:>10,}  +{row['entered']:<8,} "
                f"-{row['exited']:,}"
            )

    def _print_delete(self, document: dict[str, Any]) -> None:
        self.stdout.write(f"Deleted #{document['deleted']} {document['name']}")
