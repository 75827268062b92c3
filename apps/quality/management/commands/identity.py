"""`manage.py identity candidates|merge|split`: duplicate customers, merging and splitting back.

identity candidates [--json]                         groups from the latest customers report
identity merge --survivor ID --merged ID[,ID] [--json]
identity split --merge-id N [--json]
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import DomainError
from apps.customers.services.identity import customer_split
from apps.quality import selectors, services


def _merge_document(merge: Any) -> dict[str, Any]:
    return {
        "id": merge.pk,
        "survivor_external_id": merge.survivor_external_id,
        "merged_external_id": merge.merged_external_id,
        "status": merge.status,
        "moved": {kind: len(ids) for kind, ids in merge.moved.items() if isinstance(ids, list)},
    }


class Command(BaseCommand):
    help = (
        "Identity resolution: list possible duplicate customers, merge profiles into one "
        "(history moved, old ids kept as aliases) or split a merge back exactly."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True)
        candidates = commands.add_parser("candidates", help="Possible duplicate customers.")
        candidates.add_argument("--json", action="store_true")
        merge = commands.add_parser("merge", help="Merge profiles into a survivor.")
        merge.add_argument("--survivor", required=True, help="External id of the profile kept.")
        merge.add_argument(
            "--merged", required=True, help="Comma-separated external ids to merge into it."
        )
        merge.add_argument("--json", action="store_true")
        split = commands.add_parser("split", help="Split a merge back.")
        split.add_argument("--merge-id", type=int, required=True, help="The merge's id.")
        split.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            document = getattr(self, f"_{options['subcommand']}")(options)
        except DomainError as error:
            raise CommandError(error.message) from None
        if options["json"]:
            self.stdout.write(json.dumps(document, ensure_ascii=False, default=str))

    def _candidates(self, options: dict[str, Any]) -> dict[str, Any]:
        groups = selectors.duplicate_candidates(limit=100)
        if not options["json"]:
            if not groups:
                self.stdout.write("No possible duplicates in the latest customers report.")
            for group in groups:
                keys = "; ".join(
                    f"{name} {', '.join(values)}" for name, values in group["keys"].items()
                )
                conflicts = ", ".join(group["conflicts"]) or "nothing"
                self.stdout.write(
                    f"{' = '.join(group['external_ids'])}  ({keys}; disagree on {conflicts})"
                )
        return {"groups": groups}

    def _merge(self, options: dict[str, Any]) -> dict[str, Any]:
        merges = services.duplicate_group_merge(
            survivor_external_id=options["survivor"],
            merged_external_ids=options["merged"].split(","),
            actor_label="cli",
            reason="cli",
        )
        if not options["json"]:
            for merge in merges:
                self.stdout.write(
                    f"Merged {merge.merged_external_id} into {merge.survivor_external_id} "
                    f"(merge {merge.pk}; split back with: identity split --merge-id {merge.pk})"
                )
        return {"merges": [_merge_document(merge) for merge in merges]}

    def _split(self, options: dict[str, Any]) -> dict[str, Any]:
        merge = customer_split(merge_id=options["merge_id"], actor_label="cli")
        if not options["json"]:
            self.stdout.write(
                f"{merge.merged_external_id} is its own customer again (merge {merge.pk} split)."
            )
        return {"merge": _merge_document(merge)}
